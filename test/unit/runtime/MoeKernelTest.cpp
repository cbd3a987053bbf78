//===- MoeKernelTest.cpp - the fused MoE kernel against a plain loop ------===//

#include "runtime/cpu/Moe.h"
#include "runtime/cpu/ThreadPool.h"

#include "test/unit/KernelTestData.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

namespace fmc::cpu {
namespace {

using fmc::test::randomFloats;
using fmc::test::silu;

/// y = W x for W [n][k].
std::vector<double> matvec(const float *w, const float *x, int64_t n,
                           int64_t k) {
  std::vector<double> y(n);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < k; ++j)
      y[i] += static_cast<double>(w[i * k + j]) * x[j];
  return y;
}

struct Model {
  MoeShape shape;
  std::vector<float> router, gateUp, down, sharedGateUp, sharedDown, sharedGate;
  bool softmax = true, normalize = false;
};

Model makeModel(int64_t experts, int64_t topK, bool shared, uint32_t seed,
                int64_t inter = 12, int64_t maxTokens = 7) {
  Model m;
  m.shape.width = 24;
  m.shape.experts = experts;
  m.shape.inter = inter;
  m.shape.sharedInter = shared ? 8 : 0;
  m.shape.topK = topK;
  m.shape.maxTokens = maxTokens;
  int64_t h = m.shape.width, i = m.shape.inter, s = m.shape.sharedInter;
  m.router = randomFloats(experts * h, seed);
  m.gateUp = randomFloats(experts * 2 * i * h, seed + 1);
  m.down = randomFloats(experts * h * i, seed + 2);
  if (shared) {
    m.sharedGateUp = randomFloats(2 * s * h, seed + 3);
    m.sharedDown = randomFloats(h * s, seed + 4);
    m.sharedGate = randomFloats(h, seed + 5);
  }
  return m;
}

/// The plain definition: route (ties to the lower index), run the selected
/// experts, sum by weight, add the (gated) shared expert.
std::vector<float> reference(const Model &m, const std::vector<float> &x,
                             int64_t rows, std::vector<int> *selected) {
  const MoeShape &s = m.shape;
  int64_t h = s.width, inter = s.inter;
  std::vector<float> y(rows * h);
  for (int64_t t = 0; t < rows; ++t) {
    const float *xt = x.data() + t * h;
    std::vector<double> logits = matvec(m.router.data(), xt, s.experts, h);
    std::vector<double> score(s.experts);
    double max = *std::max_element(logits.begin(), logits.end()), sum = 0;
    for (int64_t e = 0; e < s.experts; ++e)
      sum += score[e] = m.softmax ? std::exp(logits[e] - max)
                                  : 1.0 / (1.0 + std::exp(-logits[e]));
    if (m.softmax)
      for (double &v : score)
        v /= sum;
    std::vector<int> order(s.experts);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](int a, int b) { return score[a] > score[b]; });
    double total = 0;
    for (int64_t j = 0; j < s.topK; ++j)
      total += score[order[j]];
    for (int64_t j = 0; j < s.topK; ++j) {
      int e = order[j];
      if (selected)
        selected->push_back(e);
      double w = score[e] / (m.normalize ? total : 1.0);
      std::vector<double> gu =
          matvec(m.gateUp.data() + e * 2 * inter * h, xt, 2 * inter, h);
      std::vector<float> a(inter);
      for (int64_t i = 0; i < inter; ++i)
        a[i] =
            silu(static_cast<float>(gu[i])) * static_cast<float>(gu[inter + i]);
      std::vector<double> d =
          matvec(m.down.data() + e * h * inter, a.data(), h, inter);
      for (int64_t i = 0; i < h; ++i)
        y[t * h + i] += static_cast<float>(w * d[i]);
    }
    if (s.sharedInter) {
      int64_t si = s.sharedInter;
      std::vector<double> gu = matvec(m.sharedGateUp.data(), xt, 2 * si, h);
      std::vector<float> a(si);
      for (int64_t i = 0; i < si; ++i)
        a[i] = silu(static_cast<float>(gu[i])) * static_cast<float>(gu[si + i]);
      std::vector<double> d = matvec(m.sharedDown.data(), a.data(), h, si);
      double g =
          1.0 / (1.0 + std::exp(-matvec(m.sharedGate.data(), xt, 1, h)[0]));
      for (int64_t i = 0; i < h; ++i)
        y[t * h + i] += static_cast<float>(g * d[i]);
    }
  }
  return y;
}

std::vector<float> runFused(const Model &m, const std::vector<float> &x,
                            int64_t rows, int threads) {
  ThreadPool pool(threads);
  auto ws = std::make_shared<std::vector<float>>();
  auto ref = [](const std::vector<float> &v) {
    return WeightRef{v.empty() ? nullptr : v.data(), ElementType::F32};
  };
  MoeWeights weights{ref(m.router),       ref(m.gateUp),     ref(m.down),
                     ref(m.sharedGateUp), ref(m.sharedDown), ref(m.sharedGate)};
  std::vector<float> y(rows * m.shape.width, -7.0f);
  auto kernel = makeMoe(m.shape, weights, Activation::Silu, m.softmax,
                        m.normalize, x.data(), y.data(), ws);
  std::vector<float> scratch(1024 * threads);
  RunContext ctx{rows, nullptr, 0, &pool, &bestKernels(), scratch.data(), 1024};
  kernel->run(ctx);
  return y;
}

void expectClose(const std::vector<float> &got,
                 const std::vector<float> &want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_NEAR(got[i], want[i], 1e-4f * (1.0f + std::fabs(want[i])))
        << "element " << i;
}

TEST(MoeKernel, MatchesThePlainDefinitionForEveryRoutingVariant) {
  for (int64_t topK : {1, 2, 3})
    for (bool shared : {false, true})
      for (bool softmax : {true, false})
        for (bool normalize : {false, true})
          for (int threads : {1, 3})
            for (int64_t rows : {1, 7}) {
              SCOPED_TRACE(testing::Message()
                           << "top_k " << topK << " shared " << shared
                           << " softmax " << softmax << " normalize "
                           << normalize << " threads " << threads << " rows "
                           << rows);
              Model m = makeModel(8, topK, shared, 11 + topK);
              m.softmax = softmax;
              m.normalize = normalize;
              std::vector<float> x = randomFloats(rows * m.shape.width, 99);
              expectClose(runFused(m, x, rows, threads),
                          reference(m, x, rows, nullptr));
            }
}

TEST(MoeKernel, LongPrefillOnSeveralThreads) {
  // Enough rows and features that grouping, the matmuls and the activation
  // all split over the pool.
  Model m = makeModel(8, 2, true, 31, /*inter=*/1024, /*maxTokens=*/64);
  m.normalize = true;
  std::vector<float> x = randomFloats(64 * m.shape.width, 17);
  expectClose(runFused(m, x, 64, 3), reference(m, x, 64, nullptr));
  // A shorter run through the same kernel (the last prefill chunk).
  std::vector<float> head(x.begin(), x.begin() + 5 * m.shape.width);
  expectClose(runFused(m, head, 5, 3), reference(m, head, 5, nullptr));
}

TEST(MoeKernel, TiesGoToTheLowerExpert) {
  // A zero router scores every expert the same: top-2 is experts 0 and 1.
  Model m = makeModel(4, 2, false, 5);
  std::fill(m.router.begin(), m.router.end(), 0.0f);
  std::vector<float> x = randomFloats(m.shape.width, 3);
  std::vector<int> selected;
  std::vector<float> want = reference(m, x, 1, &selected);
  EXPECT_EQ(selected, (std::vector<int>{0, 1}));
  // Poison experts 2 and 3: a kernel that picked them would return NaN.
  int64_t slab = 2 * m.shape.inter * m.shape.width;
  std::fill(m.gateUp.begin() + 2 * slab, m.gateUp.end(),
            std::numeric_limits<float>::quiet_NaN());
  expectClose(runFused(m, x, 1, 1), want);
}

TEST(MoeKernel, DecodeReadsOnlyTheSelectedExperts) {
  // Every expert the token does not select holds NaN weights; the output
  // stays finite and exact only if the kernel never touches them.
  // Wide enough experts that decode splits them over the pool too.
  Model m = makeModel(8, 2, true, 21, /*inter=*/1024);
  std::vector<float> x = randomFloats(m.shape.width, 4);
  std::vector<int> selected;
  std::vector<float> want = reference(m, x, 1, &selected);
  int64_t h = m.shape.width, inter = m.shape.inter;
  for (int64_t e = 0; e < m.shape.experts; ++e) {
    if (std::find(selected.begin(), selected.end(), e) != selected.end())
      continue;
    std::fill_n(m.gateUp.begin() + e * 2 * inter * h, 2 * inter * h,
                std::numeric_limits<float>::quiet_NaN());
    std::fill_n(m.down.begin() + e * h * inter, h * inter,
                std::numeric_limits<float>::quiet_NaN());
  }
  for (int threads : {1, 4})
    expectClose(runFused(m, x, 1, threads), want);
}

} // namespace
} // namespace fmc::cpu
