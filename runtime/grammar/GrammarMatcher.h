//===- GrammarMatcher.h - which tokens a grammar allows next --------------===//
//
// A pushdown matcher over a Grammar (Grammar.h), as llama.cpp's
// llama_grammar: its state is a set of stacks of element positions, each
// stack's top a character class the next code point must match (an empty
// stack: the text so far is a complete sentence). A code point advances
// every stack whose top matches it and expands rule references until every
// top is a class again.
//
// The token mask walks a trie of the vocabulary's byte strings from the
// current state, advancing byte by byte and pruning a subtree as soon as no
// stack survives, so the cost is the allowed tokens' prefixes, not the
// vocabulary. A token that ends inside a multi-byte character is allowed
// when some completion of it is (Utf8.h). The masks of states seen before
// are cached: a JSON string or number revisits the same few states for
// every token of it.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_RUNTIME_GRAMMAR_GRAMMARMATCHER_H
#define FMC_RUNTIME_GRAMMAR_GRAMMARMATCHER_H

#include "runtime/grammar/Grammar.h"
#include "runtime/grammar/Utf8.h"

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"

#include <cstdint>
#include <memory>
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
  friend class GrammarMatcher;
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

class GrammarMatcher {
public:
  /// A matcher at the start of `grammar` (its root rule); both must outlive
  /// it.
  GrammarMatcher(const Grammar &grammar, const Vocabulary &vocabulary);

  /// Which tokens may come next: `allowed` gets one bit per token id
  /// (bit t % 64 of word t / 64).
  void allowedTokens(std::vector<uint64_t> &allowed);

  /// Sets the logits of tokens the grammar does not allow next to -inf.
  void maskLogits(float *logits);

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

  /// Mask cache statistics, for benchmarks.
  int64_t cacheHits() const { return hits; }
  int64_t cacheMisses() const { return misses; }

private:
  using Stack = std::vector<int32_t>;
  using Stacks = std::vector<Stack>;

  void expand(Stack stack, Stacks &out) const;
  /// The stacks after code point `cp` (deduplicated; empty: not allowed).
  Stacks advance(const Stacks &stacks, uint32_t cp) const;
  /// Advances `stacks`/`partial` by `bytes`; false if not allowed.
  bool advanceBytes(absl::string_view bytes, Stacks &stacks,
                    PartialChar &partial) const;
  void walk(int32_t node, const Stacks &stacks, PartialChar partial,
            std::vector<uint64_t> &allowed) const;
  std::string stateKey() const;

  const Grammar &grammar;
  const Vocabulary &vocabulary;
  Stacks stacks;
  PartialChar partial;
  bool ended_ = false;
  /// Masks by state (stateKey), cleared when it grows past a bound.
  absl::flat_hash_map<std::string, std::vector<uint64_t>> cache;
  std::vector<uint64_t> scratch;
  int64_t hits = 0, misses = 0;
};

} // namespace fmc::grammar

#endif // FMC_RUNTIME_GRAMMAR_GRAMMARMATCHER_H
