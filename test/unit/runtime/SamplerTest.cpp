//===- SamplerTest.cpp - greedy and stochastic token choice ---------------===//

#include "runtime/Sampler.h"

#include <gtest/gtest.h>

#include <cmath>

#include <map>
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
  std::vector<float> logits = {std::log(1.0f), std::log(2.0f), std::log(5.0f),
                               -20.0f};
  Sampler sampler({1.0f, 3, 1.0f, 5}, logits.size());
  std::map<int32_t, int> counts;
  const int n = 80000;
  for (int i = 0; i < n; ++i)
    ++counts[sampler.sample(logits.data())];
  EXPECT_EQ(counts.count(3), 0u); // Outside the top 3.
  EXPECT_NEAR(counts[0] / double(n), 0.125, 0.01);
  EXPECT_NEAR(counts[1] / double(n), 0.25, 0.01);
  EXPECT_NEAR(counts[2] / double(n), 0.625, 0.01);
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

} // namespace
} // namespace fmc
