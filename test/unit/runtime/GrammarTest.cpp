//===- GrammarTest.cpp - GBNF parsing and token masks vs brute force ------===//
//
// The matcher's masks against a reference that knows nothing of stacks or
// tries: every sentence of a small grammar up to a length, enumerated over
// a test alphabet; a byte string is allowed iff it is a prefix of one of
// them, an end token iff it is one of them. The vocabulary splits
// multi-byte characters across tokens, as byte-level BPE does.
//
//===----------------------------------------------------------------------===//

#include "runtime/grammar/Grammar.h"
#include "runtime/grammar/GrammarMatcher.h"
#include "runtime/grammar/JsonSchemaGrammar.h"

#include "gtest/gtest.h"

#include <random>
#include <set>
#include <string>
#include <vector>

namespace fmc::grammar {
namespace {

std::string utf8(uint32_t cp) {
  std::string out;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | cp >> 6);
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | cp >> 12);
    out += static_cast<char>(0x80 | (cp >> 6 & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | cp >> 18);
    out += static_cast<char>(0x80 | (cp >> 12 & 0x3F));
    out += static_cast<char>(0x80 | (cp >> 6 & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return out;
}

/// Every sentence of `g` of at most `maxChars` code points drawn from
/// `alphabet`, as UTF-8.
std::set<std::string> sentences(const Grammar &g,
                                const std::vector<uint32_t> &alphabet,
                                int maxChars) {
  std::set<std::string> out;
  // Work items: text so far (in code points) and the symbols still to
  // derive, leftmost first. Breadth is bounded by maxChars and depth.
  struct Item {
    std::vector<uint32_t> text;
    std::vector<Element> rest;
  };
  std::vector<Item> work;
  for (int32_t alt : g.alternatives(g.root())) {
    Item item;
    for (int32_t e = alt; g.elements()[e].kind != Element::Kind::End; ++e)
      item.rest.push_back(g.elements()[e]);
    std::reverse(item.rest.begin(), item.rest.end());
    work.push_back(item);
  }
  while (!work.empty()) {
    Item item = std::move(work.back());
    work.pop_back();
    if (item.rest.empty()) {
      std::string s;
      for (uint32_t cp : item.text)
        s += utf8(cp);
      out.insert(s);
      continue;
    }
    // Each remaining class needs a character: prune what cannot fit.
    int pending = 0;
    for (const Element &e : item.rest)
      pending += e.kind == Element::Kind::Char;
    if (static_cast<int>(item.text.size()) + pending > maxChars ||
        item.rest.size() > 64)
      continue;
    Element next = item.rest.back();
    item.rest.pop_back();
    if (next.kind == Element::Kind::Char) {
      for (uint32_t cp : alphabet)
        if (g.classes()[next.index].matches(cp)) {
          Item more = item;
          more.text.push_back(cp);
          work.push_back(std::move(more));
        }
      continue;
    }
    for (int32_t alt : g.alternatives(next.index)) {
      Item more = item;
      std::vector<Element> body;
      for (int32_t e = alt; g.elements()[e].kind != Element::Kind::End; ++e)
        body.push_back(g.elements()[e]);
      more.rest.insert(more.rest.end(), body.rbegin(), body.rend());
      work.push_back(std::move(more));
    }
  }
  return out;
}

/// Checks masks against the enumerated sentences along random walks.
void checkAgainstBruteForce(const std::string &gbnf,
                            const std::vector<uint32_t> &alphabet,
                            const std::vector<std::string> &tokens,
                            int maxChars, int walks) {
  SCOPED_TRACE(gbnf);
  absl::StatusOr<Grammar> g = Grammar::parse(gbnf);
  ASSERT_TRUE(g.ok()) << g.status();
  std::set<std::string> all = sentences(*g, alphabet, maxChars);
  ASSERT_FALSE(all.empty());
  std::set<std::string> prefixes;
  for (const std::string &s : all)
    for (size_t n = 0; n <= s.size(); ++n)
      prefixes.insert(s.substr(0, n));
  std::vector<std::string> vocab = tokens;
  vocab.push_back(""); // an end token
  int32_t end = static_cast<int32_t>(vocab.size() - 1);
  Vocabulary vocabulary(vocab, {end});
  std::mt19937 random(7);
  for (int walk = 0; walk < walks; ++walk) {
    GrammarMatcher matcher(*g, vocabulary);
    std::string text;
    // Stay within the enumerated length (in bytes a safe bound).
    while (true) {
      std::vector<uint64_t> mask;
      matcher.allowedTokens(mask);
      std::vector<int32_t> allowed;
      for (int32_t t = 0; t < vocabulary.size(); ++t) {
        bool got = mask[t / 64] >> (t % 64) & 1;
        bool want = t == end ? all.count(text) > 0
                             : prefixes.count(text + vocab[t]) > 0;
        ASSERT_EQ(got, want) << "token " << t << " '" << vocab[t]
                               << "' after '" << text << "'";
        if (got)
          allowed.push_back(t);
      }
      ASSERT_FALSE(allowed.empty()) << "dead end after '" << text << "'";
      int32_t pick = allowed[random() % allowed.size()];
      ASSERT_TRUE(matcher.accept(pick).ok());
      if (pick == end) {
        EXPECT_TRUE(matcher.ended());
        break;
      }
      text += vocab[pick];
      // Stop walks before the reference's horizon (sentences can be longer
      // than maxChars; prefixes near the bound may be missing).
      if (text.size() + 8 > static_cast<size_t>(maxChars))
        break;
    }
  }
}

TEST(Grammar, MasksMatchBruteForceOnAsciiGrammar) {
  checkAgainstBruteForce(
      R"(root ::= "a" ("b" | "cd")* "e" | item{2,3}
         item ::= [x-z] "," )",
      {'a', 'b', 'c', 'd', 'e', 'x', 'y', 'z', ',', 'q'},
      {"a", "b", "c", "d", "e", "ab", "bc", "cd", "cde", "x", "x,", ",y", "z,",
       "q", "abcde", "de", ","},
      16, 200);
}

TEST(Grammar, MasksMatchBruteForceAcrossSplitCharacters) {
  // é (2 bytes), 日 (3), 😀 (4): tokens hold halves and whole characters.
  std::string e = utf8(0xE9), ri = utf8(0x65E5), smile = utf8(0x1F600);
  checkAgainstBruteForce(
      R"(root ::= ([a] | "é" | "日") [^a-c]? "!"+)",
      {'a', 'b', '!', 0xE9, 0x65E5, 0x1F600, 0xE8},
      {"a", "!", "!!", "b", e, e.substr(0, 1), e.substr(1), ri.substr(0, 2),
       ri.substr(2), ri.substr(0, 1), ri.substr(1), smile.substr(0, 3),
       smile.substr(3), smile, utf8(0xE8), "a" + e.substr(0, 1), "\xFF",
       "\xE0", "\xF0", "\xE0\xA0"},
      6, 300);
}

TEST(Grammar, MasksMatchBruteForceOnJsonSchema) {
  absl::StatusOr<std::string> gbnf = jsonSchemaToGbnf(R"({
    "type": "object",
    "properties": {"a": {"type": "boolean"}, "b": {"enum": [1, "x"]}},
    "required": ["b"]})");
  ASSERT_TRUE(gbnf.ok()) << gbnf.status();
  checkAgainstBruteForce(
      *gbnf, {'{', '}', '"', 'a', 'b', 'x', ':', ',', ' ', '1', 't', 'r', 'u',
              'e', 'f', 'l', 's'},
      {"{", "}", "\"", "\"a\"", "\"b\"", ":", ",", " ", "1", "true", "false",
       "\"x\"", "x", "tr", "ue", "{\"", "\":", "b"},
      26, 200);
}

TEST(Grammar, ParseErrorsSayWhereAndWhat) {
  auto error = [](const char *text) {
    return std::string(Grammar::parse(text).status().message());
  };
  EXPECT_EQ(error("root ::= item"), "grammar:1:10: undefined rule 'item'");
  EXPECT_EQ(error("item ::= \"a\""), "grammar: no rule named 'root'");
  EXPECT_EQ(error("root ::= \"a"), "grammar:1:10: unterminated string literal");
  EXPECT_EQ(error("root ::= [b-a]"), "grammar:1:10: character range out of order");
  EXPECT_EQ(error("root ::= \"a\" )"), "grammar:1:14: unexpected ')'");
  EXPECT_EQ(error("root ::= \"a\"\nroot ::= \"b\""),
            "grammar:2:1: rule 'root' defined twice");
  EXPECT_EQ(error("root ::= \"a\"{3,2}"),
            "grammar:1:13: repetition {m,n} with n < m");
  EXPECT_EQ(error("root ::= root \"a\" | \"b\""),
            "grammar: left recursion through root -> root (a rule that can "
            "start with itself, or a repetition of something that can match "
            "the empty string)");
  EXPECT_EQ(error("root ::= (\"a\"?)*"),
            "grammar: left recursion through root.2 -> root.2 (a rule that "
            "can start with itself, or a repetition of something that can "
            "match the empty string)");
  EXPECT_EQ(error(""), "grammar: empty (it needs a root rule)");
}

TEST(Grammar, EndTokensOnlyWhereTheGrammarEnds) {
  absl::StatusOr<Grammar> g = Grammar::parse(R"(root ::= "ab")");
  ASSERT_TRUE(g.ok());
  Vocabulary vocabulary({"a", "b", "ab", ""}, {3});
  GrammarMatcher matcher(*g, vocabulary);
  EXPECT_FALSE(matcher.accept(3).ok());
  EXPECT_FALSE(matcher.accept(1).ok());
  ASSERT_TRUE(matcher.accept(0).ok());
  EXPECT_FALSE(matcher.canEnd());
  ASSERT_TRUE(matcher.accept(1).ok());
  EXPECT_TRUE(matcher.canEnd());
  EXPECT_TRUE(matcher.mustEnd());
  std::vector<uint64_t> mask;
  matcher.allowedTokens(mask);
  EXPECT_EQ(mask[0], uint64_t{1} << 3);
  ASSERT_TRUE(matcher.accept(3).ok());
  EXPECT_TRUE(matcher.ended());
}

} // namespace
} // namespace fmc::grammar
