//===- GrammarMatcher.h - which tokens a grammar allows next --------------===//
//
// A pushdown matcher over a Grammar (Grammar.h), as llama.cpp's
// llama_grammar: its state is a set of stacks of element positions, each
// stack's top a character class the next code point must match (an empty
// stack: the text so far is a complete sentence). A code point advances
// every stack whose top matches it and expands rule references until every
// top is a class again.
//
// Masks must cost little per decoded token on 128K-token vocabularies, so
// the matcher is run as a lazily built automaton (GrammarAutomaton): a state
// is a set of stacks, interned; its successor per ASCII byte and per
// multi-byte code point is computed once and kept. A position is a state
// plus the bytes of an unfinished UTF-8 character (a token may end inside
// one: byte-level BPE splits rare characters, SentencePiece falls back to
// <0xXX> tokens); such a prefix is alive while some stack's class holds a
// completion of it (Utf8.h), and is never a state of its own, so CJK-heavy
// vocabularies do not multiply the states. The token mask walks a trie of
// the vocabulary's byte strings from the current position, pruning a
// subtree where the automaton dies, and is kept per state: JSON strings and
// numbers revisit the same states for every token.
//
// The automaton is shared by every generation under one grammar
// (Constraint.h) and guarded by a mutex: fmc-serve's requests reuse what
// earlier ones built.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_RUNTIME_GRAMMAR_GRAMMARMATCHER_H
#define FMC_RUNTIME_GRAMMAR_GRAMMARMATCHER_H

#include "runtime/grammar/Grammar.h"
#include "runtime/grammar/Utf8.h"

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace fmc::grammar {

/// A vocabulary as the matcher sees it: each token's bytes when generated
/// mid-text, and the tokens that end a generation. Built once per model and
/// shared by every matcher over it.
class Vocabulary {
public:
  /// `bytes[id]`: what token id appends to the text; empty for tokens that
  /// are never text (control tokens: BOS, <|im_end|>, ...), which a grammar
  /// never allows. `endTokens`: allowed where the grammar may end (EOS, a
  /// chat template's end of turn).
  Vocabulary(std::vector<std::string> bytes, std::vector<int32_t> endTokens);

  int32_t size() const { return static_cast<int32_t>(bytes_.size()); }
  const std::string &bytes(int32_t token) const { return bytes_[token]; }
  bool isEnd(int32_t token) const;
  const std::vector<int32_t> &endTokens() const { return endTokens_; }

private:
  friend class GrammarAutomaton;
  struct Node {
    /// Children by byte, sorted.
    std::vector<std::pair<uint8_t, int32_t>> children;
    /// Tokens whose bytes end here.
    std::vector<int32_t> tokens;
  };
  std::vector<std::string> bytes_;
  std::vector<int32_t> endTokens_;
  std::vector<Node> trie_;
};

/// Where a text stands in the automaton: a state, and the bytes of an
/// unfinished character after it.
struct GrammarPosition {
  int32_t state = 0;
  PartialChar partial;
};

/// The grammar as an automaton built on demand (see the file comment).
/// Thread-safe.
class GrammarAutomaton {
public:
  static constexpr int32_t kDead = -1;

  /// `grammar` and `vocabulary` must outlive the automaton.
  GrammarAutomaton(const Grammar &grammar, const Vocabulary &vocabulary);

  GrammarPosition start() const { return {}; }
  /// Advances `at` by `bytes`; false (and `at` unchanged) where the grammar
  /// does not allow them.
  bool advance(GrammarPosition &at, absl::string_view bytes);
  /// Whether the text up to `at` is a complete sentence.
  bool canEnd(const GrammarPosition &at);
  /// Whether nothing but the end may follow `at`.
  bool mustEnd(const GrammarPosition &at);
  /// The tokens allowed at `at`, one bit per token id (bit t % 64 of word
  /// t / 64), end tokens included where the grammar can end.
  void mask(const GrammarPosition &at, std::vector<uint64_t> &out);

  const Vocabulary &vocabulary() const { return vocab; }
  /// States built and masks computed so far, for benchmarks.
  int64_t stateCount();
  int64_t maskCount();

private:
  using Stack = std::vector<int32_t>;
  using Stacks = std::vector<Stack>;
  struct State {
    Stacks stacks;
    bool canEnd = false, mustEnd = false;
    /// Successor per ASCII character: kUnknown until computed.
    std::array<int32_t, 128> ascii;
    /// Successors of multi-byte code points met so far.
    absl::flat_hash_map<uint32_t, int32_t> wide;
    std::vector<uint64_t> mask;
    bool hasMask = false;
  };
  static constexpr int32_t kUnknown = -2;

  void expand(Stack stack, Stacks &out) const;
  int32_t intern(Stacks stacks);
  /// The state after code point `cp` in `state`, or kDead.
  int32_t next(int32_t state, uint32_t cp);
  /// Advances by one byte; false where it dies.
  bool step(GrammarPosition &at, uint8_t byte);
  void walk(int32_t node, GrammarPosition at, std::vector<uint64_t> &out);
  /// Bounds memory without invalidating state ids: past a number of masks
  /// (16 KB each at a 128K vocabulary) or states, the masks or successor
  /// tables are dropped and rebuilt on demand.
  void bound();

  const Grammar &grammar;
  const Vocabulary &vocab;
  std::mutex mutex;
  std::vector<std::unique_ptr<State>> states;
  absl::flat_hash_map<std::string, int32_t> ids;
  int64_t masks = 0;
};

/// One generation's position in a grammar.
class GrammarMatcher {
public:
  /// A matcher at the start of `automaton`'s grammar.
  explicit GrammarMatcher(std::shared_ptr<GrammarAutomaton> automaton);
  /// A matcher with an automaton of its own (tests, one-off use); both
  /// arguments must outlive it.
  GrammarMatcher(const Grammar &grammar, const Vocabulary &vocabulary);

  /// Which tokens may come next: `allowed` gets one bit per token id
  /// (bit t % 64 of word t / 64); none once an end token was accepted.
  void allowedTokens(std::vector<uint64_t> &allowed);

  /// Moves past `token`; an error (state unchanged) if the grammar does not
  /// allow it.
  absl::Status accept(int32_t token);

  /// Moves past `text` (e.g. a prefix the program wrote itself).
  absl::Status acceptText(absl::string_view text);

  /// Whether the text so far is a complete sentence of the grammar.
  bool canEnd() const;
  /// Whether nothing but the end may follow (a generation should stop).
  bool mustEnd() const;
  /// Whether an end token was accepted.
  bool ended() const { return ended_; }

private:
  std::shared_ptr<GrammarAutomaton> automaton;
  GrammarPosition at;
  bool ended_ = false;
};

} // namespace fmc::grammar

#endif // FMC_RUNTIME_GRAMMAR_GRAMMARMATCHER_H
