//===- GrammarMatcher.cpp - a grammar as a lazily built byte automaton ----===//

#include "runtime/grammar/GrammarMatcher.h"

#include "absl/strings/str_cat.h"

#include <algorithm>

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
        children.insert(it, {byte, child});
        trie_.emplace_back(); // invalidates `children`, no longer used
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

GrammarAutomaton::GrammarAutomaton(const Grammar &grammar,
                                   const Vocabulary &vocabulary)
    : grammar(grammar), vocab(vocabulary) {
  Stacks initial;
  for (int32_t alt : grammar.alternatives(grammar.root()))
    expand(Stack{alt}, initial);
  intern(std::move(initial));
}

void GrammarAutomaton::expand(Stack stack, Stacks &out) const {
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

int32_t GrammarAutomaton::intern(Stacks stacks) {
  std::sort(stacks.begin(), stacks.end());
  stacks.erase(std::unique(stacks.begin(), stacks.end()), stacks.end());
  std::string key;
  for (const Stack &stack : stacks) {
    uint32_t depth = static_cast<uint32_t>(stack.size());
    key.append(reinterpret_cast<const char *>(&depth), sizeof depth);
    key.append(reinterpret_cast<const char *>(stack.data()),
               stack.size() * sizeof(int32_t));
  }
  auto [it, inserted] =
      ids.try_emplace(std::move(key), static_cast<int32_t>(states.size()));
  if (!inserted)
    return it->second;
  auto state = std::make_unique<State>();
  state->ascii.fill(kUnknown);
  state->mustEnd = true;
  for (const Stack &stack : stacks) {
    state->canEnd |= stack.empty();
    state->mustEnd &= stack.empty();
  }
  state->stacks = std::move(stacks);
  states.push_back(std::move(state));
  return it->second;
}

int32_t GrammarAutomaton::next(int32_t id, uint32_t cp) {
  // States live behind unique_ptrs: `from` survives interning.
  State &from = *states[id];
  int32_t *slot = nullptr;
  if (cp < 128) {
    slot = &from.ascii[cp];
    if (*slot != kUnknown)
      return *slot;
  } else if (auto it = from.wide.find(cp); it != from.wide.end()) {
    return it->second;
  }
  // Every stack whose top class takes the code point moves past it.
  const std::vector<Element> &elements = grammar.elements();
  Stacks out;
  for (const Stack &stack : from.stacks) {
    if (stack.empty() ||
        !grammar.classes()[elements[stack.back()].index].matches(cp))
      continue;
    Stack moved = stack;
    moved.back() += 1;
    expand(std::move(moved), out);
  }
  int32_t result = out.empty() ? kDead : intern(std::move(out));
  if (slot)
    *slot = result;
  else
    from.wide.emplace(cp, result);
  return result;
}

bool GrammarAutomaton::step(GrammarPosition &at, uint8_t byte) {
  PartialChar partial = at.partial;
  bool complete;
  if (!partial.push(byte, complete))
    return false;
  if (complete) {
    int32_t to = next(at.state, partial.value);
    if (to == kDead)
      return false;
    at.state = to;
    at.partial = PartialChar();
    return true;
  }
  // Unfinished: alive while some stack's class holds a completion of it.
  uint32_t lo, hi;
  partial.range(lo, hi);
  const std::vector<Element> &elements = grammar.elements();
  for (const Stack &stack : states[at.state]->stacks)
    if (!stack.empty() &&
        grammar.classes()[elements[stack.back()].index].matchesAnyIn(lo, hi)) {
      at.partial = partial;
      return true;
    }
  return false;
}

void GrammarAutomaton::walk(int32_t node, GrammarPosition at,
                            std::vector<uint64_t> &out) {
  for (auto [byte, child] : vocab.trie_[node].children) {
    GrammarPosition next = at;
    if (!step(next, byte))
      continue;
    for (int32_t token : vocab.trie_[child].tokens)
      out[token / 64] |= uint64_t{1} << (token % 64);
    if (!vocab.trie_[child].children.empty())
      walk(child, next, out);
  }
}

void GrammarAutomaton::bound() {
  constexpr size_t kMaxStatesWithTables = 1 << 16;
  constexpr int64_t kMaxMaskBytes = int64_t{256} << 20;
  int64_t maskBytes = (static_cast<int64_t>(vocab.size()) + 63) / 64 * 8;
  if (masks * maskBytes > kMaxMaskBytes) {
    for (auto &state : states) {
      state->mask.clear();
      state->mask.shrink_to_fit();
      state->hasMask = false;
    }
    masks = 0;
  }
  if (states.size() > kMaxStatesWithTables) {
    for (auto &state : states) {
      state->ascii.fill(kUnknown);
      state->wide.clear();
    }
  }
}

bool GrammarAutomaton::advance(GrammarPosition &at, absl::string_view bytes) {
  std::lock_guard<std::mutex> lock(mutex);
  GrammarPosition moved = at;
  for (char c : bytes)
    if (!step(moved, static_cast<uint8_t>(c)))
      return false;
  at = moved;
  return true;
}

bool GrammarAutomaton::canEnd(const GrammarPosition &at) {
  std::lock_guard<std::mutex> lock(mutex);
  return !at.partial.active() && states[at.state]->canEnd;
}

bool GrammarAutomaton::mustEnd(const GrammarPosition &at) {
  std::lock_guard<std::mutex> lock(mutex);
  return !at.partial.active() && states[at.state]->mustEnd;
}

void GrammarAutomaton::mask(const GrammarPosition &at,
                            std::vector<uint64_t> &out) {
  std::lock_guard<std::mutex> lock(mutex);
  State &state = *states[at.state];
  // Masks are kept per state; a position inside a character (a token that
  // ended mid-character, rare) is walked every time.
  bool cacheable = !at.partial.active();
  if (cacheable && state.hasMask) {
    out = state.mask;
    return;
  }
  bound();
  out.assign((static_cast<size_t>(vocab.size()) + 63) / 64, 0);
  walk(0, at, out);
  if (cacheable && state.canEnd)
    for (int32_t token : vocab.endTokens())
      out[token / 64] |= uint64_t{1} << (token % 64);
  if (!cacheable)
    return;
  state.mask = out;
  state.hasMask = true;
  ++masks;
}

int64_t GrammarAutomaton::stateCount() {
  std::lock_guard<std::mutex> lock(mutex);
  return static_cast<int64_t>(states.size());
}

int64_t GrammarAutomaton::maskCount() {
  std::lock_guard<std::mutex> lock(mutex);
  return masks;
}

GrammarMatcher::GrammarMatcher(std::shared_ptr<GrammarAutomaton> automaton)
    : automaton(std::move(automaton)), at(this->automaton->start()) {}

GrammarMatcher::GrammarMatcher(const Grammar &grammar,
                               const Vocabulary &vocabulary)
    : GrammarMatcher(std::make_shared<GrammarAutomaton>(grammar, vocabulary)) {
}

void GrammarMatcher::allowedTokens(std::vector<uint64_t> &allowed) {
  if (ended_) {
    allowed.assign(
        (static_cast<size_t>(automaton->vocabulary().size()) + 63) / 64, 0);
    return;
  }
  automaton->mask(at, allowed);
}

absl::Status GrammarMatcher::accept(int32_t token) {
  const Vocabulary &vocabulary = automaton->vocabulary();
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
  if (!automaton->advance(at, bytes))
    return absl::InvalidArgumentError(
        absl::StrCat("token ", token, " is not allowed by the grammar here"));
  return absl::OkStatus();
}

absl::Status GrammarMatcher::acceptText(absl::string_view text) {
  if (ended_ || !automaton->advance(at, text))
    return absl::InvalidArgumentError("the grammar does not allow this text");
  return absl::OkStatus();
}

bool GrammarMatcher::canEnd() const { return automaton->canEnd(at); }

bool GrammarMatcher::mustEnd() const {
  return ended_ || automaton->mustEnd(at);
}

} // namespace fmc::grammar
