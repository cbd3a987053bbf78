//===- TextStreamTest.cpp - streamed text: UTF-8 and stop strings ---------===//

#include "runtime/TextStream.h"

#include <gtest/gtest.h>

namespace fmc {
namespace {

TEST(TextStream, HoldsAnIncompleteCharacterUntilItIsWhole) {
  TextStream stream;
  // U+00E9 (c3 a9) and U+4F60 (e4 bd a0) split across byte tokens.
  EXPECT_EQ(stream.push("caf\xc3"), "caf");
  EXPECT_EQ(stream.push("\xa9 \xe4"), "\xc3\xa9 ");
  EXPECT_EQ(stream.push("\xbd"), "");
  EXPECT_EQ(stream.push("\xa0!"), "\xe4\xbd\xa0!");
  // An invalid byte is shown as it is, and a tail that never completes
  // comes out at the end.
  EXPECT_EQ(stream.push("\x80x"), "\x80x");
  EXPECT_EQ(stream.push("\xf0\x9f"), "");
  EXPECT_EQ(stream.flush(), "\xf0\x9f");
}

TEST(TextStream, StopsBeforeAStopStringSpanningTokens) {
  TextStream stream({"</s>", "\n\n"});
  EXPECT_EQ(stream.push("Hello <"), "Hello ");
  EXPECT_EQ(stream.push("/"), "");
  EXPECT_EQ(stream.push("x"), "</x"); // Not a stop string after all.
  EXPECT_EQ(stream.push(" end</"), " end");
  EXPECT_EQ(stream.push("s> more"), "");
  EXPECT_EQ(stream.stoppedAt(), "</s>");
  EXPECT_EQ(stream.push("ignored"), "");
  EXPECT_EQ(stream.flush(), "");
}

TEST(TextStream, TheEarliestStopStringWins) {
  TextStream stream({"bc", "ab"});
  EXPECT_EQ(stream.push("xabc"), "x");
  EXPECT_EQ(stream.stoppedAt(), "ab");
}

TEST(TextStream, ThePromptNeverStops) {
  TextStream stream({"time"});
  EXPECT_EQ(stream.push("Once upon a time", /*generated=*/false),
            "Once upon a time");
  EXPECT_FALSE(stream.stoppedAt());
  // A stop string may not start inside the prompt either.
  TextStream split({"ab"});
  EXPECT_EQ(split.push("xa", false), "xa");
  EXPECT_EQ(split.push("b"), "b");
  EXPECT_EQ(split.push("ab"), "");
  EXPECT_EQ(split.stoppedAt(), "ab");
}

TEST(TextStream, WithoutStopStringsEverythingCompleteIsShown) {
  TextStream stream;
  EXPECT_EQ(stream.push("a"), "a");
  EXPECT_EQ(stream.push(""), "");
  EXPECT_FALSE(stream.stoppedAt());
}

} // namespace
} // namespace fmc
