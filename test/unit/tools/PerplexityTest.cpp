//===- PerplexityTest.cpp - llama-perplexity's windows and estimate -------===//

#include "tools/fmc-perplexity/Perplexity.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace fmc::perplexity {
namespace {

TEST(WindowPlan, WholeWindowsAndTheSecondHalf) {
  // llama-perplexity's n_ctx 512: 255 tokens scored, from logits row 256.
  WindowPlan plan = WindowPlan::of(1300, 512);
  EXPECT_EQ(plan.windows, 2); // The 276-token tail is not used.
  EXPECT_EQ(plan.firstScored(), 256);
  EXPECT_EQ(plan.scoredPerWindow(), 255);
  // Odd windows: rows 50 .. 99 of a 101-token window.
  WindowPlan odd = WindowPlan::of(101, 101);
  EXPECT_EQ(odd.windows, 1);
  EXPECT_EQ(odd.firstScored(), 50);
  EXPECT_EQ(odd.scoredPerWindow(), 50);
  EXPECT_EQ(WindowPlan::of(99, 100).windows, 0);
}

TEST(NegativeLogLikelihood, IsMinusLogSoftmax) {
  std::vector<float> row = {1.0f, 2.0f, 0.5f, -3.0f};
  double sum = 0;
  for (float x : row)
    sum += std::exp(static_cast<double>(x));
  for (int32_t token = 0; token < 4; ++token)
    EXPECT_NEAR(negativeLogLikelihood(row.data(), 4, token),
                -std::log(std::exp(static_cast<double>(row[token])) / sum),
                1e-6);
  // Shifting every logit changes nothing; large logits do not overflow.
  std::vector<float> shifted = {1001.0f, 1002.0f, 1000.5f, 997.0f};
  EXPECT_NEAR(negativeLogLikelihood(shifted.data(), 4, 1),
              negativeLogLikelihood(row.data(), 4, 1), 1e-5);
}

TEST(Estimate, PerplexityAndItsStandardError) {
  Estimate estimate;
  for (double nll : {1.0, 2.0, 3.0})
    estimate.add(nll);
  EXPECT_EQ(estimate.count(), 3);
  EXPECT_DOUBLE_EQ(estimate.meanNll(), 2.0);
  EXPECT_DOUBLE_EQ(estimate.ppl(), std::exp(2.0));
  // llama.cpp: sqrt((mean of squares - mean^2) / (n - 1)) * ppl.
  double variance = (1.0 + 4.0 + 9.0) / 3 - 4.0;
  ASSERT_TRUE(estimate.uncertainty().has_value());
  EXPECT_DOUBLE_EQ(*estimate.uncertainty(),
                   std::sqrt(variance / 2) * std::exp(2.0));
}

TEST(Estimate, NoUncertaintyWithoutSpread) {
  Estimate one;
  one.add(1.5);
  EXPECT_FALSE(one.uncertainty().has_value());
  Estimate same;
  same.add(0.5);
  same.add(0.5);
  EXPECT_FALSE(same.uncertainty().has_value());
}

} // namespace
} // namespace fmc::perplexity
