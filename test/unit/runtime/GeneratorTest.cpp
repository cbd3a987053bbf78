//===- GeneratorTest.cpp - generations that continue in the KV cache ------===//
//
// A chat's later turn runs only its own tokens after those already in the
// session's caches; with greedy sampling it must generate what a fresh
// session generates from the whole transcript.
//
//===----------------------------------------------------------------------===//

#include "runtime/Generator.h"

#include <gtest/gtest.h>

namespace fmc {
namespace {

struct Generated {
  std::vector<int32_t> tokens;
  GenerationStats stats;
};

Generated generateGreedy(Session &session, const std::vector<int32_t> &prompt,
                   int64_t n, absl::Span<const int32_t> earlier = {}) {
  GenerationOptions options;
  options.maxNewTokens = n;
  Generated run;
  GenerationCallbacks callbacks;
  callbacks.onToken = [&](int32_t token) {
    run.tokens.push_back(token);
    return true;
  };
  absl::StatusOr<GenerationStats> stats =
      generate(session, prompt, options, callbacks, earlier);
  EXPECT_TRUE(stats.ok()) << stats.status().message();
  if (stats.ok())
    run.stats = *stats;
  return run;
}

class GeneratorTest : public ::testing::Test {
protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<Artifact>> opened =
        Artifact::open(FMC_TEST_ARTIFACT);
    ASSERT_TRUE(opened.ok()) << opened.status().message();
    artifact = std::move(*opened);
  }
  std::unique_ptr<Session> open() {
    BackendOptions options;
    options.threads = 1;
    absl::StatusOr<std::unique_ptr<Session>> session =
        Session::open(*artifact, "cpu", options);
    EXPECT_TRUE(session.ok()) << session.status().message();
    return session.ok() ? std::move(*session) : nullptr;
  }
  std::unique_ptr<Artifact> artifact;
};

TEST_F(GeneratorTest, AContinuationGeneratesWhatTheWholeTranscriptDoes) {
  std::unique_ptr<Session> chat = open();
  ASSERT_TRUE(chat);
  // "Once upon a time" with BOS, then a second turn's tokens.
  std::vector<int32_t> first = {1, 403, 407, 261, 378};
  std::vector<int32_t> second = {13, 450, 281};
  Generated reply = generateGreedy(*chat, first, 6);
  ASSERT_EQ(reply.tokens.size(), 6u);
  EXPECT_EQ(reply.stats.lastToken, reply.tokens.back());

  // The caches hold the first prompt and the reply but its last token,
  // which starts the next prompt.
  std::vector<int32_t> earlier = first;
  earlier.insert(earlier.end(), reply.tokens.begin(), reply.tokens.end() - 1);
  std::vector<int32_t> next = {reply.stats.lastToken};
  next.insert(next.end(), second.begin(), second.end());
  Generated continued = generateGreedy(*chat, next, 8, earlier);
  EXPECT_EQ(continued.stats.promptTokens, 4);
  EXPECT_EQ(continued.tokens.size(), 8u);

  std::unique_ptr<Session> fresh = open();
  ASSERT_TRUE(fresh);
  std::vector<int32_t> whole = earlier;
  whole.insert(whole.end(), next.begin(), next.end());
  Generated expected = generateGreedy(*fresh, whole, 8);
  EXPECT_EQ(continued.tokens, expected.tokens);
}

TEST_F(GeneratorTest, AContinuationMustFitTheContext) {
  std::unique_ptr<Session> session = open();
  ASSERT_TRUE(session);
  std::vector<int32_t> earlier(session->maxContext() - 2, 403);
  GenerationOptions options;
  absl::StatusOr<GenerationStats> stats =
      generate(*session, {1, 403, 407}, options, {}, earlier);
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.status().message(),
            "the prompt has 3 tokens after 510 earlier ones but the model's "
            "context is 512 tokens");
}

} // namespace
} // namespace fmc
