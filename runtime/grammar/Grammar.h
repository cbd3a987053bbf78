//===- Grammar.h - context-free grammars over Unicode code points ---------===//
//
// What constrained decoding (fmc-run --grammar, --json-schema; fmc-serve's
// response_format and tools) restricts generated text to. The text form is
// llama.cpp's GBNF, so grammars written for llama.cpp work unchanged:
//
//   root   ::= "{" ws pair ("," ws pair)* "}"
//   pair   ::= [a-z]+ ":" ws [0-9]{1,3}
//   ws     ::= [ \t\n]*
//
// with literals ("..."), character classes ([a-z], [^"\\]), `.`, rule
// references, grouping, `|`, and the repetitions *, +, ?, {m}, {m,}, {m,n}.
//
// Parsing lowers the text to a flat form the matcher (GrammarMatcher.h)
// walks without allocating: every alternative of every rule is a run of
// elements in one array, each a character class or a rule reference,
// closed by an End element. Groups and repetitions become generated rules
// (X* is r ::= X r | ε), literals become one single-character class per
// code point. Left recursion, which would make the matcher expand forever,
// is rejected here with the rules involved.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_RUNTIME_GRAMMAR_GRAMMAR_H
#define FMC_RUNTIME_GRAMMAR_GRAMMAR_H

#include "absl/status/statusor.h"

#include <cstdint>
#include <string>
#include "absl/strings/string_view.h"
#include <utility>
#include <vector>

namespace fmc::grammar {

/// A set of code points: `ranges` (inclusive), or every code point outside
/// them when `negated`.
struct CharClass {
  std::vector<std::pair<uint32_t, uint32_t>> ranges;
  bool negated = false;

  bool matches(uint32_t codePoint) const;
  /// Whether some code point in [lo, hi] matches (a UTF-8 prefix stands for
  /// such an interval).
  bool matchesAnyIn(uint32_t lo, uint32_t hi) const;
};

struct Element {
  enum class Kind : uint8_t { Char, Rule, End };
  Kind kind = Kind::End;
  /// Char: index into Grammar::classes; Rule: the rule's index.
  int32_t index = 0;
};

class Grammar {
public:
  /// Parses GBNF text; the start rule is `root`. Errors give the line and
  /// column and what was expected.
  static absl::StatusOr<Grammar> parse(absl::string_view text);

  /// All rules' alternatives, each a run closed by an End element.
  const std::vector<Element> &elements() const { return elements_; }
  const std::vector<CharClass> &classes() const { return classes_; }
  /// Where each alternative of rule `rule` starts in elements().
  const std::vector<int32_t> &alternatives(int32_t rule) const {
    return rules_[rule].alternatives;
  }
  const std::string &ruleName(int32_t rule) const { return rules_[rule].name; }
  int32_t ruleCount() const { return static_cast<int32_t>(rules_.size()); }
  int32_t root() const { return root_; }

private:
  friend class GrammarBuilder;
  struct Rule {
    std::string name;
    std::vector<int32_t> alternatives;
  };
  std::vector<Element> elements_;
  std::vector<CharClass> classes_;
  std::vector<Rule> rules_;
  int32_t root_ = -1;
};

} // namespace fmc::grammar

#endif // FMC_RUNTIME_GRAMMAR_GRAMMAR_H
