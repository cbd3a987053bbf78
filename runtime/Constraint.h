//===- Constraint.h - guided generation over a model's vocabulary ---------===//
//
// A grammar (GBNF text, or a JSON Schema turned into one) bound to a
// tokenizer's vocabulary: what fmc-run --grammar / --json-schema and
// fmc-serve's response_format and tools give the generator. The vocabulary
// view (every token's bytes and a trie of them) is built once and shared by
// the matchers of every generation under the same grammar.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_RUNTIME_CONSTRAINT_H
#define FMC_RUNTIME_CONSTRAINT_H

#include "runtime/Tokenizer.h"
#include "runtime/grammar/Grammar.h"
#include "runtime/grammar/GrammarMatcher.h"

#include "absl/status/statusor.h"

#include <memory>
#include <string>
#include <vector>

namespace fmc {

/// The grammar view of `tokenizer`'s vocabulary; `endTokens` (EOS, a chat
/// template's end of turn) are allowed where the grammar can end.
std::shared_ptr<const grammar::Vocabulary>
grammarVocabulary(const Tokenizer &tokenizer,
                  const std::vector<int32_t> &endTokens);

class Constraint {
public:
  /// From GBNF text (a JSON Schema becomes GBNF first:
  /// grammar::jsonSchemaToGbnf, which --print-grammar shows).
  static absl::StatusOr<std::shared_ptr<const Constraint>>
  fromGbnf(const std::string &gbnf,
           std::shared_ptr<const grammar::Vocabulary> vocabulary);

  /// A matcher at the grammar's start, for one generation. Matchers share
  /// the automaton: what one generation built, the next reuses.
  std::unique_ptr<grammar::GrammarMatcher> start() const {
    return std::make_unique<grammar::GrammarMatcher>(automaton);
  }
  const std::string &gbnf() const { return text; }
  grammar::GrammarAutomaton &states() const { return *automaton; }

private:
  Constraint(std::string text, grammar::Grammar grammar,
             std::shared_ptr<const grammar::Vocabulary> vocabulary)
      : text(std::move(text)), grammar(std::move(grammar)),
        vocabulary(std::move(vocabulary)),
        automaton(std::make_shared<grammar::GrammarAutomaton>(
            this->grammar, *this->vocabulary)) {}

  std::string text;
  grammar::Grammar grammar;
  std::shared_ptr<const grammar::Vocabulary> vocabulary;
  /// Refers to `grammar` and `vocabulary`: declared after them.
  std::shared_ptr<grammar::GrammarAutomaton> automaton;
};

} // namespace fmc

#endif // FMC_RUNTIME_CONSTRAINT_H
