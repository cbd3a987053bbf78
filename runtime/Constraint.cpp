//===- Constraint.cpp - guided generation over a model's vocabulary -------===//

#include "runtime/Constraint.h"

namespace fmc {

std::shared_ptr<const grammar::Vocabulary>
grammarVocabulary(const Tokenizer &tokenizer,
                  const std::vector<int32_t> &endTokens) {
  std::vector<std::string> bytes(static_cast<size_t>(tokenizer.size()));
  for (int32_t t = 0; t < tokenizer.size(); ++t)
    bytes[t] = tokenizer.textBytes(t);
  return std::make_shared<const grammar::Vocabulary>(std::move(bytes),
                                                     endTokens);
}

absl::StatusOr<std::shared_ptr<const Constraint>>
Constraint::fromGbnf(const std::string &gbnf,
                     std::shared_ptr<const grammar::Vocabulary> vocabulary) {
  absl::StatusOr<grammar::Grammar> g = grammar::Grammar::parse(gbnf);
  if (!g.ok())
    return g.status();
  return std::shared_ptr<const Constraint>(
      new Constraint(gbnf, std::move(*g), std::move(vocabulary)));
}

} // namespace fmc
