//===- Grammar.cpp - GBNF text to the matcher's flat form -----------------===//

#include "runtime/grammar/Grammar.h"

#include "runtime/grammar/Utf8.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include <algorithm>
#include <functional>
#include <optional>

namespace fmc::grammar {

bool CharClass::matches(uint32_t codePoint) const {
  bool in = false;
  for (auto [lo, hi] : ranges)
    in |= codePoint >= lo && codePoint <= hi;
  return in != negated;
}

bool CharClass::matchesAnyIn(uint32_t lo, uint32_t hi) const {
  if (!negated) {
    for (auto [a, b] : ranges)
      if (a <= hi && b >= lo)
        return true;
    return false;
  }
  // Some code point of [lo, hi] lies outside every range: walk up from lo
  // past the ranges that cover it.
  uint32_t next = lo;
  for (bool moved = true; moved && next <= hi;) {
    moved = false;
    for (auto [a, b] : ranges)
      if (a <= next && next <= b) {
        if (b >= hi)
          return false;
        next = b + 1;
        moved = true;
      }
  }
  return next <= hi;
}

/// Builds a Grammar from GBNF text: a recursive-descent parser writing
/// rules as lists of symbol sequences, then flattened.
class GrammarBuilder {
public:
  explicit GrammarBuilder(absl::string_view text) : text(text) {}

  absl::StatusOr<Grammar> build();

private:
  /// A sequence element before flattening: a class or a rule.
  struct Symbol {
    bool rule = false;
    int32_t index = 0;
  };
  using Sequence = std::vector<Symbol>;
  struct RuleBody {
    std::string name;
    std::vector<Sequence> alternatives;
    bool defined = false;
    /// Where the rule was first referenced, for "undefined rule" errors.
    size_t firstUse = 0;
  };

  absl::Status error(absl::string_view what, size_t at) const;
  void skipSpace();
  bool atEnd() const { return pos >= text.size(); }
  bool startsRule() const;
  absl::string_view word();
  int32_t ruleNamed(absl::string_view name, size_t at);
  int32_t newRule(absl::string_view base);
  absl::StatusOr<std::vector<Sequence>> alternatives();
  absl::StatusOr<Sequence> sequence();
  absl::StatusOr<Sequence> primary();
  absl::StatusOr<uint32_t> escapedChar(char quote);
  absl::StatusOr<std::optional<std::pair<int, int>>> repetition();
  Symbol single(const Sequence &items, absl::string_view base);
  Sequence repeat(Symbol item, int min, int max, absl::string_view base);
  int32_t charClass(CharClass c);
  absl::Status checkLeftRecursion() const;

  absl::string_view text;
  size_t pos = 0;
  std::vector<RuleBody> rules;
  absl::flat_hash_map<std::string, int32_t> ruleIds;
  std::vector<CharClass> classes;
  /// Single-code-point classes already made, by code point.
  absl::flat_hash_map<uint32_t, int32_t> singles;
  /// The rule being defined, for generated rules' names.
  std::string current;
};

absl::Status GrammarBuilder::error(absl::string_view what, size_t at) const {
  size_t line = 1, column = 1;
  for (size_t i = 0; i < at && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return absl::InvalidArgumentError(
      absl::StrCat("grammar:", line, ":", column, ": ", what));
}

void GrammarBuilder::skipSpace() {
  while (!atEnd()) {
    char c = text[pos];
    if (c == '#') {
      while (!atEnd() && text[pos] != '\n')
        ++pos;
    } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      ++pos;
    } else {
      break;
    }
  }
}

static bool isWordChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '_';
}

absl::string_view GrammarBuilder::word() {
  size_t start = pos;
  while (!atEnd() && isWordChar(text[pos]))
    ++pos;
  return text.substr(start, pos - start);
}

bool GrammarBuilder::startsRule() const {
  // `name ::=` ahead (after spaces): the current rule's body has ended.
  size_t p = pos;
  while (p < text.size() && isWordChar(text[p]))
    ++p;
  if (p == pos)
    return false;
  while (p < text.size() && (text[p] == ' ' || text[p] == '\t'))
    ++p;
  return text.substr(p, 3) == "::=";
}

int32_t GrammarBuilder::ruleNamed(absl::string_view name, size_t at) {
  auto [it, inserted] =
      ruleIds.try_emplace(std::string(name), static_cast<int32_t>(rules.size()));
  if (inserted) {
    rules.push_back({std::string(name), {}, false, at});
  }
  return it->second;
}

int32_t GrammarBuilder::newRule(absl::string_view base) {
  // Generated rules get names no GBNF rule can have (a dot), numbered.
  std::string name;
  for (int n = 1;; ++n) {
    name = absl::StrCat(base, ".", n);
    if (!ruleIds.contains(name))
      break;
  }
  int32_t id = ruleNamed(name, pos);
  rules[id].defined = true;
  return id;
}

int32_t GrammarBuilder::charClass(CharClass c) {
  if (!c.negated && c.ranges.size() == 1 &&
      c.ranges[0].first == c.ranges[0].second) {
    auto [it, inserted] = singles.try_emplace(
        c.ranges[0].first, static_cast<int32_t>(classes.size()));
    if (inserted)
      classes.push_back(std::move(c));
    return it->second;
  }
  classes.push_back(std::move(c));
  return static_cast<int32_t>(classes.size() - 1);
}

absl::StatusOr<uint32_t> GrammarBuilder::escapedChar(char quote) {
  size_t at = pos;
  if (atEnd())
    return error("unterminated escape", at);
  char c = text[pos++];
  auto hex = [&](int digits) -> absl::StatusOr<uint32_t> {
    uint32_t value = 0;
    for (int i = 0; i < digits; ++i) {
      if (atEnd())
        return error("incomplete escape", at);
      char h = text[pos++];
      int d = h >= '0' && h <= '9'   ? h - '0'
              : h >= 'a' && h <= 'f' ? h - 'a' + 10
              : h >= 'A' && h <= 'F' ? h - 'A' + 10
                                     : -1;
      if (d < 0)
        return error(absl::StrCat("expected ", digits,
                                  " hexadecimal digits after \\", 
                                  std::string(1, text[at])),
                     at);
      value = value * 16 + d;
    }
    if (value > 0x10FFFF)
      return error("escape beyond U+10FFFF", at);
    return value;
  };
  switch (c) {
  case 'n':
    return '\n';
  case 'r':
    return '\r';
  case 't':
    return '\t';
  case '\\':
  case '"':
  case '[':
  case ']':
  case '-':
  case '^':
  case '\'':
    return static_cast<uint32_t>(c);
  case 'x':
    return hex(2);
  case 'u':
    return hex(4);
  case 'U':
    return hex(8);
  default:
    (void)quote;
    return error(absl::StrCat("unknown escape \\", std::string(1, c)), at);
  }
}

absl::StatusOr<GrammarBuilder::Sequence> GrammarBuilder::primary() {
  size_t at = pos;
  char c = text[pos];
  if (c == '"') {
    ++pos;
    Sequence items;
    while (true) {
      if (atEnd())
        return error("unterminated string literal", at);
      uint32_t cp;
      if (text[pos] == '"') {
        ++pos;
        break;
      }
      if (text[pos] == '\\') {
        ++pos;
        absl::StatusOr<uint32_t> e = escapedChar('"');
        if (!e.ok())
          return e.status();
        cp = *e;
      } else {
        size_t length = decodeUtf8(text.substr(pos), cp);
        if (length == 0)
          return error("invalid UTF-8 in string literal", pos);
        pos += length;
      }
      items.push_back({false, charClass({{{cp, cp}}, false})});
    }
    return items;
  }
  if (c == '[') {
    ++pos;
    CharClass cls;
    if (!atEnd() && text[pos] == '^') {
      cls.negated = true;
      ++pos;
    }
    auto one = [&]() -> absl::StatusOr<uint32_t> {
      if (text[pos] == '\\') {
        ++pos;
        return escapedChar(']');
      }
      uint32_t cp;
      size_t length = decodeUtf8(text.substr(pos), cp);
      if (length == 0)
        return error("invalid UTF-8 in character class", pos);
      pos += length;
      return cp;
    };
    while (true) {
      if (atEnd())
        return error("unterminated character class", at);
      if (text[pos] == ']') {
        ++pos;
        break;
      }
      absl::StatusOr<uint32_t> lo = one();
      if (!lo.ok())
        return lo.status();
      uint32_t hi = *lo;
      if (pos + 1 < text.size() && text[pos] == '-' && text[pos + 1] != ']') {
        ++pos;
        absl::StatusOr<uint32_t> h = one();
        if (!h.ok())
          return h.status();
        hi = *h;
        if (hi < *lo)
          return error("character range out of order", at);
      }
      cls.ranges.push_back({*lo, hi});
    }
    if (cls.ranges.empty() && !cls.negated)
      return error("empty character class matches nothing", at);
    return Sequence{{false, charClass(std::move(cls))}};
  }
  if (c == '.') {
    ++pos;
    return Sequence{{false, charClass({{}, true})}};
  }
  if (c == '(') {
    ++pos;
    absl::StatusOr<std::vector<Sequence>> alts = alternatives();
    if (!alts.ok())
      return alts.status();
    skipSpace();
    if (atEnd() || text[pos] != ')')
      return error("expected ')'", pos);
    ++pos;
    if (alts->size() == 1)
      return std::move((*alts)[0]);
    int32_t group = newRule(current);
    rules[group].alternatives = std::move(*alts);
    return Sequence{{true, group}};
  }
  if (isWordChar(c)) {
    absl::string_view name = word();
    return Sequence{{true, ruleNamed(name, at)}};
  }
  return error(absl::StrCat("unexpected '", std::string(1, c), "'"), at);
}

absl::StatusOr<std::optional<std::pair<int, int>>>
GrammarBuilder::repetition() {
  // Repetition bounds a generated grammar keeps small enough to expand.
  constexpr int kMaxRepeat = 4096;
  if (atEnd())
    return std::nullopt;
  size_t at = pos;
  switch (text[pos]) {
  case '*':
    ++pos;
    return std::pair{0, -1};
  case '+':
    ++pos;
    return std::pair{1, -1};
  case '?':
    ++pos;
    return std::pair{0, 1};
  case '{':
    break;
  default:
    return std::nullopt;
  }
  ++pos;
  auto number = [&]() -> std::optional<int> {
    skipSpace();
    size_t start = pos;
    long value = 0;
    while (!atEnd() && text[pos] >= '0' && text[pos] <= '9' &&
           value <= kMaxRepeat)
      value = value * 10 + (text[pos++] - '0');
    skipSpace();
    if (pos == start)
      return std::nullopt;
    return static_cast<int>(value);
  };
  std::optional<int> min = number();
  if (!min)
    return error("expected a number after '{'", pos);
  int max = *min;
  if (!atEnd() && text[pos] == ',') {
    ++pos;
    std::optional<int> m = number();
    max = m ? *m : -1;
  }
  if (atEnd() || text[pos] != '}')
    return error("expected '}'", pos);
  ++pos;
  if (*min > kMaxRepeat || max > kMaxRepeat)
    return error(absl::StrCat("repetition bound above ", kMaxRepeat), at);
  if (max >= 0 && max < *min)
    return error("repetition {m,n} with n < m", at);
  return std::pair{*min, max};
}

GrammarBuilder::Symbol GrammarBuilder::single(const Sequence &items,
                                              absl::string_view base) {
  if (items.size() == 1)
    return items[0];
  int32_t group = newRule(base);
  rules[group].alternatives = {items};
  return {true, group};
}

GrammarBuilder::Sequence GrammarBuilder::repeat(Symbol item, int min, int max,
                                                absl::string_view base) {
  Sequence out(static_cast<size_t>(min), item);
  if (max < 0) {
    // item*: star ::= item star | ε
    int32_t star = newRule(base);
    rules[star].alternatives = {{item, {true, star}}, {}};
    out.push_back({true, star});
  } else if (max > min) {
    // Up to max - min more: opt_k ::= item opt_(k-1) | ε.
    int32_t previous = -1;
    for (int k = 1; k <= max - min; ++k) {
      int32_t opt = newRule(base);
      Sequence first = {item};
      if (previous >= 0)
        first.push_back({true, previous});
      rules[opt].alternatives = {first, {}};
      previous = opt;
    }
    out.push_back({true, previous});
  }
  return out;
}

absl::StatusOr<GrammarBuilder::Sequence> GrammarBuilder::sequence() {
  Sequence out;
  while (true) {
    skipSpace();
    if (atEnd() || text[pos] == '|' || text[pos] == ')' || startsRule())
      return out;
    absl::StatusOr<Sequence> item = primary();
    if (!item.ok())
      return item.status();
    absl::StatusOr<std::optional<std::pair<int, int>>> times = repetition();
    if (!times.ok())
      return times.status();
    if (!*times) {
      out.insert(out.end(), item->begin(), item->end());
      continue;
    }
    auto [min, max] = **times;
    Sequence repeated = repeat(single(*item, current), min, max, current);
    out.insert(out.end(), repeated.begin(), repeated.end());
  }
}

absl::StatusOr<std::vector<GrammarBuilder::Sequence>>
GrammarBuilder::alternatives() {
  std::vector<Sequence> out;
  while (true) {
    absl::StatusOr<Sequence> s = sequence();
    if (!s.ok())
      return s.status();
    out.push_back(std::move(*s));
    skipSpace();
    if (atEnd() || text[pos] != '|')
      return out;
    ++pos;
  }
}

absl::Status GrammarBuilder::checkLeftRecursion() const {
  // Nullable rules (can match the empty string), to a fixed point.
  std::vector<bool> nullable(rules.size(), false);
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t r = 0; r < rules.size(); ++r) {
      if (nullable[r])
        continue;
      for (const Sequence &alt : rules[r].alternatives)
        if (std::all_of(alt.begin(), alt.end(), [&](const Symbol &s) {
              return s.rule && nullable[s.index];
            })) {
          nullable[r] = true;
          changed = true;
          break;
        }
    }
  }
  // Rules each rule can start with, then a cycle search.
  std::vector<std::vector<int32_t>> leftmost(rules.size());
  for (size_t r = 0; r < rules.size(); ++r)
    for (const Sequence &alt : rules[r].alternatives)
      for (const Symbol &s : alt) {
        if (!s.rule)
          break;
        leftmost[r].push_back(s.index);
        if (!nullable[s.index])
          break;
      }
  std::vector<int> state(rules.size(), 0); // 0 new, 1 on path, 2 done
  std::vector<int32_t> path;
  std::function<std::optional<std::vector<int32_t>>(int32_t)> visit =
      [&](int32_t r) -> std::optional<std::vector<int32_t>> {
    state[r] = 1;
    path.push_back(r);
    for (int32_t next : leftmost[r]) {
      if (state[next] == 1) {
        auto start = std::find(path.begin(), path.end(), next);
        return std::vector<int32_t>(start, path.end());
      }
      if (state[next] == 0)
        if (auto cycle = visit(next))
          return cycle;
    }
    path.pop_back();
    state[r] = 2;
    return std::nullopt;
  };
  for (size_t r = 0; r < rules.size(); ++r)
    if (state[r] == 0)
      if (auto cycle = visit(static_cast<int32_t>(r))) {
        std::vector<std::string> names;
        for (int32_t c : *cycle)
          names.push_back(rules[c].name);
        return absl::InvalidArgumentError(absl::StrCat(
            "grammar: left recursion through ", absl::StrJoin(names, " -> "),
            " -> ", names[0],
            " (a rule that can start with itself, or a repetition of "
            "something that can match the empty string)"));
      }
  return absl::OkStatus();
}

absl::StatusOr<Grammar> GrammarBuilder::build() {
  skipSpace();
  if (atEnd())
    return absl::InvalidArgumentError("grammar: empty (it needs a root rule)");
  while (true) {
    skipSpace();
    if (atEnd())
      break;
    size_t at = pos;
    absl::string_view name = word();
    if (name.empty())
      return error("expected a rule name", at);
    skipSpace();
    if (text.substr(pos, 3) != "::=")
      return error(absl::StrCat("expected '::=' after rule name '", name, "'"),
                   pos);
    pos += 3;
    int32_t id = ruleNamed(name, at);
    if (rules[id].defined)
      return error(absl::StrCat("rule '", name, "' defined twice"), at);
    current = std::string(name);
    absl::StatusOr<std::vector<Sequence>> alts = alternatives();
    if (!alts.ok())
      return alts.status();
    skipSpace();
    if (!atEnd() && !startsRule())
      return error(absl::StrCat("unexpected '", std::string(1, text[pos]), "'"),
                   pos);
    rules[id].alternatives = std::move(*alts);
    rules[id].defined = true;
  }
  for (const RuleBody &rule : rules)
    if (!rule.defined)
      return error(absl::StrCat("undefined rule '", rule.name, "'"),
                   rule.firstUse);
  auto root = ruleIds.find("root");
  if (root == ruleIds.end())
    return absl::InvalidArgumentError("grammar: no rule named 'root'");
  if (absl::Status s = checkLeftRecursion(); !s.ok())
    return s;

  Grammar g;
  g.root_ = root->second;
  g.classes_ = std::move(classes);
  for (RuleBody &rule : rules) {
    Grammar::Rule flat{std::move(rule.name), {}};
    for (const Sequence &alt : rule.alternatives) {
      flat.alternatives.push_back(static_cast<int32_t>(g.elements_.size()));
      for (const Symbol &s : alt)
        g.elements_.push_back(
            {s.rule ? Element::Kind::Rule : Element::Kind::Char, s.index});
      g.elements_.push_back({Element::Kind::End, 0});
    }
    g.rules_.push_back(std::move(flat));
  }
  return g;
}

absl::StatusOr<Grammar> Grammar::parse(absl::string_view text) {
  return GrammarBuilder(text).build();
}

} // namespace fmc::grammar
