//===- SamplerTest.cpp - greedy and stochastic token choice ---------------===//

#include "runtime/Sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <utility>
#include <vector>

namespace fmc {
namespace {

TEST(Sampler, GreedyTakesTheLargestLogitAndTheLowestIndexOnTies) {
  std::vector<float> logits = {0.5f, 3.0f, -1.0f, 3.0f};
  Sampler sampler({}, logits.size());
  EXPECT_EQ(sampler.sample(logits.data()), 1);
  EXPECT_EQ(Sampler::argmax(logits.data(), logits.size()), 1);
}

TEST(Sampler, TopKOfOneAndTinyTopPAreGreedy) {
  std::vector<float> logits = {0.1f, 0.2f, 2.0f, 0.3f, 1.9f};
  SamplerOptions topK{1.0f, 1, 1.0f, 3};
  SamplerOptions topP{1.0f, 0, 1e-4f, 3};
  Sampler a(topK, logits.size()), b(topP, logits.size());
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(a.sample(logits.data()), 2);
    EXPECT_EQ(b.sample(logits.data()), 2);
  }
}

TEST(Sampler, SeedDeterminesTheSequence) {
  std::vector<float> logits(50);
  for (size_t i = 0; i < logits.size(); ++i)
    logits[i] = 0.01f * static_cast<float>(i);
  auto run = [&](uint64_t seed) {
    Sampler sampler({1.0f, 0, 1.0f, seed}, logits.size());
    std::vector<int32_t> ids;
    for (int i = 0; i < 64; ++i)
      ids.push_back(sampler.sample(logits.data()));
    return ids;
  };
  EXPECT_EQ(run(11), run(11));
  EXPECT_NE(run(11), run(12));
}

TEST(Sampler, FrequenciesFollowTheSoftmaxAndRespectTopK) {
  // Issue 14: the excluded token used to have probability 2.6e-10, so the
  // test passed without top-k. Here it would take a quarter of the draws:
  // probabilities 1/16, 2/16, 5/16, 4/16, 4/16; top 3 keeps ids 2, 3, 4
  // and renormalizes.
  std::vector<float> logits = {std::log(1.0f), std::log(2.0f), std::log(5.0f),
                               std::log(4.0f), std::log(4.0f)};
  Sampler sampler({1.0f, 3, 1.0f, 5}, logits.size());
  std::map<int32_t, int> counts;
  const int n = 80000;
  for (int i = 0; i < n; ++i)
    ++counts[sampler.sample(logits.data())];
  EXPECT_EQ(counts.count(0), 0u); // Outside the top 3.
  EXPECT_EQ(counts.count(1), 0u);
  EXPECT_NEAR(counts[2] / double(n), 5.0 / 13, 0.01);
  EXPECT_NEAR(counts[3] / double(n), 4.0 / 13, 0.01);
  EXPECT_NEAR(counts[4] / double(n), 4.0 / 13, 0.01);
}

TEST(Sampler, TemperatureSharpensAndFlattens) {
  // softmax(l / T): logits log 1, log 3 give 1/4, 3/4 at T = 1; T = 0.5
  // squares the odds (1/10, 9/10), T = 2 takes their root.
  std::vector<float> logits = {std::log(1.0f), std::log(3.0f)};
  const int n = 60000;
  for (auto [temperature, second] :
       {std::pair{0.5f, 0.9}, std::pair{1.0f, 0.75},
        std::pair{2.0f, std::sqrt(3.0) / (1 + std::sqrt(3.0))}}) {
    SCOPED_TRACE(temperature);
    Sampler sampler({temperature, 0, 1.0f, 21}, logits.size());
    int seconds = 0;
    for (int i = 0; i < n; ++i)
      seconds += sampler.sample(logits.data()) == 1;
    EXPECT_NEAR(seconds / double(n), second, 0.01);
  }
}

TEST(Sampler, TopPKeepsTheNucleus) {
  // Probabilities 0.5, 0.3, 0.2: p = 0.7 keeps the first two only.
  std::vector<float> logits = {std::log(0.5f), std::log(0.3f), std::log(0.2f)};
  Sampler sampler({1.0f, 0, 0.7f, 9}, logits.size());
  std::map<int32_t, int> counts;
  for (int i = 0; i < 20000; ++i)
    ++counts[sampler.sample(logits.data())];
  EXPECT_EQ(counts.count(2), 0u);
  EXPECT_NEAR(counts[0] / 20000.0, 0.625, 0.02);
}

TEST(Sampler, MinPDropsTokensLessLikelyThanAFractionOfTheBest) {
  // Probabilities 0.5, 0.3, 0.15, 0.05 (before temperature): min-p 0.2
  // keeps p >= 0.1, the first three, renormalized to 0.5/0.95, ...; at
  // T = 2 the kept set is the same (min-p is taken before temperature).
  std::vector<float> logits = {std::log(0.5f), std::log(0.3f),
                               std::log(0.15f), std::log(0.05f)};
  SamplerOptions options{1.0f, 0, 1.0f, 4};
  options.minP = 0.2f;
  Sampler sampler(options, logits.size());
  std::map<int32_t, int> counts;
  const int n = 40000;
  for (int i = 0; i < n; ++i)
    ++counts[sampler.sample(logits.data())];
  EXPECT_EQ(counts.count(3), 0u);
  EXPECT_NEAR(counts[0] / double(n), 0.5 / 0.95, 0.01);
  EXPECT_NEAR(counts[2] / double(n), 0.15 / 0.95, 0.01);

  options.temperature = 2.0f;
  Sampler hot(options, logits.size());
  for (int i = 0; i < 4000; ++i)
    EXPECT_NE(hot.sample(logits.data()), 3);
}

TEST(Sampler, RepeatPenaltyDividesPositiveAndMultipliesNegativeLogits) {
  // Greedy: token 0 leads; once seen, 2.0 / 2.5 = 0.8 < 1.0 hands the lead
  // to token 1. A negative logit grows more negative: -0.5 * 2.5 < -1.
  std::vector<float> logits = {2.0f, 1.0f, -0.5f, -1.0f};
  SamplerOptions options;
  options.repeatPenalty = 2.5f;
  Sampler sampler(options, logits.size());
  EXPECT_EQ(sampler.sample(logits.data()), 0);
  sampler.accept(0);
  EXPECT_EQ(sampler.sample(logits.data()), 1);
  sampler.accept(1);
  // Both penalized: 0.8 and 0.4 still beat -0.5.
  EXPECT_EQ(sampler.sample(logits.data()), 0);

  std::vector<float> negative = {-1.0f, -0.5f};
  Sampler second(options, negative.size());
  second.accept(1);
  EXPECT_EQ(second.sample(negative.data()), 0); // -1.25 < -1.
}

TEST(Sampler, PresenceAndFrequencyPenaltiesCountTheWindowOnly) {
  std::vector<float> logits = {3.0f, 2.0f, 0.0f};
  SamplerOptions options;
  options.frequencyPenalty = 0.6f;
  options.penaltyWindow = 2;
  Sampler sampler(options, logits.size());
  sampler.accept(0);
  EXPECT_EQ(sampler.sample(logits.data()), 0); // 3 - 0.6 > 2.
  sampler.accept(0);
  EXPECT_EQ(sampler.sample(logits.data()), 1); // 3 - 1.2 < 2.
  sampler.accept(2);                           // Pushes one 0 out.
  EXPECT_EQ(sampler.sample(logits.data()), 0);

  SamplerOptions presence;
  presence.presencePenalty = 0.6f;
  Sampler once(presence, logits.size());
  once.accept(0);
  once.accept(0);
  once.accept(0);
  EXPECT_EQ(once.sample(logits.data()), 0); // Once only: 3 - 0.6 > 2.
  presence.penaltyWindow = 0;               // Off.
  presence.presencePenalty = 5.0f;
  Sampler off(presence, logits.size());
  off.accept(0);
  EXPECT_EQ(off.sample(logits.data()), 0);
}

} // namespace
} // namespace fmc
