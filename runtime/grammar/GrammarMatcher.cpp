//===- GrammarMatcher.cpp - stacks, code points and token masks -----------===//

#include "runtime/grammar/GrammarMatcher.h"

#include "absl/strings/str_cat.h"

#include <algorithm>
#include <limits>

namespace fmc::grammar {

Vocabulary::Vocabulary(std::vector<std::string> bytes,
                       std::vector<int32_t> endTokens)
    : bytes_(std::move(bytes)), endTokens_(std::move(endTokens)) {
  std::sort(endTokens_.begin(), endTokens_.end());
  endTokens_.erase(std::unique(endTokens_.begin(), endTokens_.end()),
                   endTokens_.end());
  trie_.emplace_back();
  for (int32_t id = 0; id < size(); ++id) {
    if (bytes_[id].empty() || isEnd(id))
      continue;
    int32_t node = 0;
    for (char c : bytes_[id]) {
      auto byte = static_cast<uint8_t>(c);
      auto &children = trie_[node].children;
      auto it = std::lower_bound(
          children.begin(), children.end(), byte,
          [](const std::pair<uint8_t, int32_t> &a, uint8_t b) {
            return a.first < b;
          });
      if (it == children.end() || it->first != byte) {
        int32_t child = static_cast<int32_t>(trie_.size());
        it = children.insert(it, {byte, child});
        trie_.emplace_back(); // may move `children`; `node` stays valid
        node = child;
      } else {
        node = it->second;
      }
    }
    trie_[node].tokens.push_back(id);
  }
}

bool Vocabulary::isEnd(int32_t token) const {
  return std::binary_search(endTokens_.begin(), endTokens_.end(), token);
}

GrammarMatcher::GrammarMatcher(const Grammar &grammar,
                               const Vocabulary &vocabulary)
    : grammar(grammar), vocabulary(vocabulary) {
  for (int32_t alt : grammar.alternatives(grammar.root()))
    expand(Stack{alt}, stacks);
  std::sort(stacks.begin(), stacks.end());
  stacks.erase(std::unique(stacks.begin(), stacks.end()), stacks.end());
}

void GrammarMatcher::expand(Stack stack, Stacks &out) const {
  const std::vector<Element> &elements = grammar.elements();
  // Pop finished alternatives; a rule reference on top becomes its
  // continuation plus one stack per alternative. Terminates: the parser
  // rejected left recursion.
  while (!stack.empty()) {
    int32_t top = stack.back();
    const Element &e = elements[top];
    if (e.kind == Element::Kind::Char)
      break;
    stack.pop_back();
    if (e.kind == Element::Kind::End)
      continue;
    if (elements[top + 1].kind != Element::Kind::End)
      stack.push_back(top + 1);
    const std::vector<int32_t> &alts = grammar.alternatives(e.index);
    for (size_t i = 0; i + 1 < alts.size(); ++i) {
      Stack branch = stack;
      branch.push_back(alts[i]);
      expand(std::move(branch), out);
    }
    stack.push_back(alts.back());
  }
  out.push_back(std::move(stack));
}

GrammarMatcher::Stacks GrammarMatcher::advance(const Stacks &from,
                                               uint32_t cp) const {
  const std::vector<Element> &elements = grammar.elements();
  Stacks out;
  for (const Stack &stack : from) {
    if (stack.empty())
      continue;
    int32_t top = stack.back();
    if (!grammar.classes()[elements[top].index].matches(cp))
      continue;
    Stack next = stack;
    next.back() = top + 1;
    expand(std::move(next), out);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

bool GrammarMatcher::advanceBytes(absl::string_view bytes, Stacks &state,
                                  PartialChar &pending) const {
  const std::vector<Element> &elements = grammar.elements();
  for (char c : bytes) {
    bool complete;
    if (!pending.push(static_cast<uint8_t>(c), complete))
      return false;
    if (complete) {
      state = advance(state, pending.value);
      if (state.empty())
        return false;
      continue;
    }
    uint32_t lo, hi;
    pending.range(lo, hi);
    bool possible = false;
    for (const Stack &stack : state)
      possible |= !stack.empty() &&
                  grammar.classes()[elements[stack.back()].index].matchesAnyIn(
                      lo, hi);
    if (!possible)
      return false;
  }
  return true;
}

void GrammarMatcher::walk(int32_t node, const Stacks &state,
                          PartialChar pending,
                          std::vector<uint64_t> &allowed) const {
  const std::vector<Element> &elements = grammar.elements();
  for (auto [byte, child] : vocabulary.trie_[node].children) {
    PartialChar next = pending;
    bool complete;
    if (!next.push(byte, complete))
      continue;
    auto allow = [&](const Stacks &s) {
      for (int32_t token : vocabulary.trie_[child].tokens)
        allowed[token / 64] |= uint64_t{1} << (token % 64);
      if (!vocabulary.trie_[child].children.empty())
        walk(child, s, next, allowed);
    };
    if (complete) {
      Stacks advanced = advance(state, next.value);
      if (!advanced.empty())
        allow(advanced);
      continue;
    }
    uint32_t lo, hi;
    next.range(lo, hi);
    for (const Stack &stack : state)
      if (!stack.empty() &&
          grammar.classes()[elements[stack.back()].index].matchesAnyIn(lo,
                                                                       hi)) {
        allow(state);
        break;
      }
  }
}

std::string GrammarMatcher::stateKey() const {
  std::string key(reinterpret_cast<const char *>(&partial), sizeof partial);
  for (const Stack &stack : stacks) {
    absl::StrAppend(&key, "|");
    key.append(reinterpret_cast<const char *>(stack.data()),
               stack.size() * sizeof(int32_t));
  }
  return key;
}

void GrammarMatcher::allowedTokens(std::vector<uint64_t> &allowed) {
  size_t words = (static_cast<size_t>(vocabulary.size()) + 63) / 64;
  if (ended_) {
    allowed.assign(words, 0);
    return;
  }
  std::string key = stateKey();
  if (auto it = cache.find(key); it != cache.end()) {
    ++hits;
    allowed = it->second;
    return;
  }
  ++misses;
  allowed.assign(words, 0);
  walk(0, stacks, partial, allowed);
  if (canEnd())
    for (int32_t token : vocabulary.endTokens())
      allowed[token / 64] |= uint64_t{1} << (token % 64);
  // A bound on the cache's memory (4 KB per mask at a 32K vocabulary).
  constexpr size_t kMaxCachedMasks = 4096;
  if (cache.size() >= kMaxCachedMasks)
    cache.clear();
  cache.emplace(std::move(key), allowed);
}

void GrammarMatcher::maskLogits(float *logits) {
  allowedTokens(scratch);
  for (int32_t t = 0; t < vocabulary.size(); ++t)
    if (!(scratch[t / 64] >> (t % 64) & 1))
      logits[t] = -std::numeric_limits<float>::infinity();
}

absl::Status GrammarMatcher::accept(int32_t token) {
  if (token < 0 || token >= vocabulary.size())
    return absl::InvalidArgumentError(
        absl::StrCat("token ", token, " is outside the vocabulary"));
  if (ended_)
    return absl::FailedPreconditionError(
        "the grammar's text has already ended");
  if (vocabulary.isEnd(token)) {
    if (!canEnd())
      return absl::InvalidArgumentError(
          absl::StrCat("token ", token,
                       " ends the text where the grammar cannot end"));
    ended_ = true;
    return absl::OkStatus();
  }
  const std::string &bytes = vocabulary.bytes(token);
  if (bytes.empty())
    return absl::InvalidArgumentError(
        absl::StrCat("token ", token, " is not text; no grammar allows it"));
  Stacks next = stacks;
  PartialChar pending = partial;
  if (!advanceBytes(bytes, next, pending))
    return absl::InvalidArgumentError(
        absl::StrCat("token ", token, " is not allowed by the grammar here"));
  stacks = std::move(next);
  partial = pending;
  return absl::OkStatus();
}

absl::Status GrammarMatcher::acceptText(absl::string_view text) {
  Stacks next = stacks;
  PartialChar pending = partial;
  if (ended_ || !advanceBytes(text, next, pending))
    return absl::InvalidArgumentError("the grammar does not allow this text");
  stacks = std::move(next);
  partial = pending;
  return absl::OkStatus();
}

bool GrammarMatcher::canEnd() const {
  if (partial.active())
    return false;
  for (const Stack &stack : stacks)
    if (stack.empty())
      return true;
  return false;
}

bool GrammarMatcher::mustEnd() const {
  if (ended_)
    return true;
  if (partial.active())
    return false;
  for (const Stack &stack : stacks)
    if (!stack.empty())
      return false;
  return true;
}

} // namespace fmc::grammar
