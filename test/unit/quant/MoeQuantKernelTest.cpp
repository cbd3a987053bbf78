//===- MoeQuantKernelTest.cpp - the fused MoE over packed experts ---------===//
//
// The fused MoE kernel with packed (2- and 4-bit) expert stacks and shared
// expert, against an expert-by-expert reference built from
// referenceQuantLinear with the kernels' activation rounding (what the
// unfused form computes): equal within f32 tolerance for decode and for a
// prefill grouped by expert on several threads. Decode must read only the
// selected experts: every other expert's scales are NaN.
//
//===----------------------------------------------------------------------===//

#include "lowering/quant/QuantMath.h"
#include "runtime/cpu/Moe.h"
#include "runtime/cpu/ThreadPool.h"

#include "test/unit/KernelTestData.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

using namespace fmc;
using namespace fmc::cpu;

namespace {

using fmc::test::randomFloats;
using fmc::test::silu;

/// A packed [rows][k] matrix and its view.
struct Packed {
  std::vector<uint8_t> bytes;
  QuantWeights view;
};

Packed pack(const quant::Format &f, const std::vector<float> &w, int64_t rows,
            int64_t k) {
  Packed p;
  p.bytes.resize(quant::packedBytes(f, rows, k));
  quant::quantize(f, w.data(), rows, k, p.bytes.data());
  p.view = QuantWeights::view(
      p.bytes.data(), f.bits, f.grid == quant::Grid::Affine,
      f.scaleType == quant::ScaleType::BF16, f.groupSize, rows, k);
  return p;
}

struct Model {
  MoeShape shape;
  std::vector<float> router, sharedGate;
  Packed gateUp, down, sharedGateUp, sharedDown;
};

/// Hidden 256 and intermediate 128: the activations go through full
/// int8 blocks of 128 in both projections.
Model makeModel(const quant::Format &f, int64_t experts, int64_t topK,
                int64_t maxTokens, uint32_t seed) {
  Model m;
  MoeShape &s = m.shape;
  s.width = 256;
  s.experts = experts;
  s.inter = 128;
  s.sharedInter = 128;
  s.topK = topK;
  s.maxTokens = maxTokens;
  int64_t h = s.width, i = s.inter;
  m.router = randomFloats(experts * h, seed);
  m.gateUp =
      pack(f, randomFloats(experts * 2 * i * h, seed + 1), experts * 2 * i, h);
  m.down = pack(f, randomFloats(experts * h * i, seed + 2), experts * h, i);
  m.sharedGateUp = pack(f, randomFloats(2 * i * h, seed + 3), 2 * i, h);
  m.sharedDown = pack(f, randomFloats(h * i, seed + 4), h, i);
  m.sharedGate = randomFloats(h, seed + 5);
  return m;
}

/// Softmax routing with ties to the lower expert, renormalized top-k.
std::vector<std::pair<int, float>> route(const Model &m, const float *x) {
  const MoeShape &s = m.shape;
  std::vector<double> score(s.experts);
  for (int64_t e = 0; e < s.experts; ++e)
    for (int64_t j = 0; j < s.width; ++j)
      score[e] += static_cast<double>(m.router[e * s.width + j]) * x[j];
  double max = *std::max_element(score.begin(), score.end()), sum = 0;
  for (double &v : score)
    sum += v = std::exp(v - max);
  std::vector<int> order(s.experts);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return score[a] > score[b]; });
  double total = 0;
  for (int64_t j = 0; j < s.topK; ++j)
    total += score[order[j]];
  std::vector<std::pair<int, float>> chosen;
  for (int64_t j = 0; j < s.topK; ++j)
    chosen.push_back({order[j], static_cast<float>(score[order[j]] / total)});
  return chosen;
}

/// One gated FFN on packed weights, as the unfused form runs it.
std::vector<float> ffn(const QuantWeights &gateUp, const QuantWeights &down,
                       const float *x) {
  int64_t inter = gateUp.n / 2;
  std::vector<float> gu(gateUp.n), a(inter), y(down.n);
  referenceQuantLinear(gateUp, x, 1, gu.data(), /*quantizeActivations=*/true);
  for (int64_t i = 0; i < inter; ++i)
    a[i] = silu(gu[i]) * gu[inter + i];
  referenceQuantLinear(down, a.data(), 1, y.data(), true);
  return y;
}

std::vector<float> reference(const Model &m, const std::vector<float> &x,
                             int64_t rows, std::vector<int> *selected) {
  const MoeShape &s = m.shape;
  int64_t h = s.width;
  std::vector<float> y(rows * h, 0.0f);
  for (int64_t t = 0; t < rows; ++t) {
    const float *xt = x.data() + t * h;
    for (auto [e, weight] : route(m, xt)) {
      if (selected)
        selected->push_back(e);
      std::vector<float> d = ffn(packedExpert(m.gateUp.view, e, 2 * s.inter),
                                 packedExpert(m.down.view, e, h), xt);
      for (int64_t i = 0; i < h; ++i)
        y[t * h + i] += weight * d[i];
    }
    std::vector<float> d = ffn(m.sharedGateUp.view, m.sharedDown.view, xt);
    double z = 0;
    for (int64_t j = 0; j < h; ++j)
      z += static_cast<double>(m.sharedGate[j]) * xt[j];
    float g = static_cast<float>(1.0 / (1.0 + std::exp(-z)));
    for (int64_t i = 0; i < h; ++i)
      y[t * h + i] += d[i] * g;
  }
  return y;
}

std::vector<float> runFused(const Model &m, const std::vector<float> &x,
                            int64_t rows, int threads) {
  ThreadPool pool(threads);
  auto packed = [](const Packed &p) {
    WeightRef ref{p.bytes.data(), ElementType::F32};
    ref.packed = p.view;
    return ref;
  };
  MoeWeights weights{{m.router.data(), ElementType::F32},
                     packed(m.gateUp),
                     packed(m.down),
                     packed(m.sharedGateUp),
                     packed(m.sharedDown),
                     {m.sharedGate.data(), ElementType::F32}};
  std::vector<float> y(rows * m.shape.width, -7.0f);
  auto kernel = makeMoe(m.shape, weights, Activation::Silu, /*softmax=*/true,
                        /*normalize=*/true, x.data(), y.data(),
                        std::make_shared<std::vector<float>>(),
                        std::make_shared<QuantActivations>());
  std::vector<float> scratch(1024 * threads);
  RunContext ctx{rows, nullptr, 0, &pool, &bestKernels(), scratch.data(), 1024};
  kernel->run(ctx);
  return y;
}

void expectClose(const std::vector<float> &got,
                 const std::vector<float> &want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_NEAR(got[i], want[i], 1e-3f * (1.0f + std::fabs(want[i])))
        << "element " << i;
}

std::vector<quant::Format> formats() {
  quant::Format afm; // 2:balanced:64:f16
  quant::Format affine4{4, quant::Grid::Affine, 32, quant::ScaleType::BF16};
  return {afm, affine4};
}

TEST(MoeQuantKernel, PrefillGroupedByExpertMatchesExpertByExpert) {
  for (const quant::Format &f : formats())
    for (int threads : {1, 3}) {
      SCOPED_TRACE(quant::formatToString(f) + " threads " +
                   std::to_string(threads));
      Model m = makeModel(f, 6, 2, /*maxTokens=*/37, 41);
      std::vector<float> x = randomFloats(37 * m.shape.width, 5);
      expectClose(runFused(m, x, 37, threads), reference(m, x, 37, nullptr));
      // A shorter run through the same kernel (the last prefill chunk).
      std::vector<float> head(x.begin(), x.begin() + 3 * m.shape.width);
      expectClose(runFused(m, head, 3, threads),
                  reference(m, head, 3, nullptr));
    }
}

TEST(MoeQuantKernel, DecodeReadsOnlyTheSelectedExperts) {
  for (const quant::Format &f : formats()) {
    SCOPED_TRACE(quant::formatToString(f));
    Model m = makeModel(f, 8, 2, /*maxTokens=*/1, 7);
    std::vector<float> x = randomFloats(m.shape.width, 9);
    std::vector<int> selected;
    std::vector<float> want = reference(m, x, 1, &selected);
    ASSERT_EQ(selected.size(), 2u);
    // Every unselected expert's scales (and minimums) become NaN: a kernel
    // that read any of its rows would return NaN.
    const uint16_t nan =
        f.scaleType == quant::ScaleType::BF16 ? 0x7FC0 : 0x7E00;
    auto poison = [&](Packed &p, int64_t rows) {
      for (int64_t e = 0; e < m.shape.experts; ++e) {
        if (std::count(selected.begin(), selected.end(), e))
          continue;
        QuantWeights slice = packedExpert(p.view, e, rows);
        for (const uint8_t *array : {slice.scales, slice.mins}) {
          if (!array)
            continue;
          auto *values = reinterpret_cast<uint16_t *>(p.bytes.data() +
                                                      (array - p.bytes.data()));
          std::fill_n(values, rows * slice.groups, nan);
        }
      }
    };
    poison(m.gateUp, 2 * m.shape.inter);
    poison(m.down, m.shape.width);
    for (int threads : {1, 4})
      expectClose(runFused(m, x, 1, threads), want);
    // The poison is real: the expert-by-expert reference of an unselected
    // expert is NaN.
    int other = 0;
    while (std::count(selected.begin(), selected.end(), other))
      ++other;
    std::vector<float> bad =
        ffn(packedExpert(m.gateUp.view, other, 2 * m.shape.inter),
            packedExpert(m.down.view, other, m.shape.width), x.data());
    EXPECT_TRUE(std::isnan(bad[0]));
  }
}

TEST(MoeQuantKernel, ExpertSlicesAreTheStackRows) {
  quant::Format f;
  std::vector<float> w = randomFloats(3 * 4 * 128, 3);
  Packed stack = pack(f, w, 12, 128);
  for (int64_t e = 0; e < 3; ++e) {
    std::vector<float> part(w.begin() + e * 4 * 128,
                            w.begin() + (e + 1) * 4 * 128);
    Packed alone = pack(f, part, 4, 128);
    QuantWeights slice = packedExpert(stack.view, e, 4);
    for (int64_t r = 0; r < 4; ++r)
      for (int64_t i = 0; i < 128; ++i)
        ASSERT_EQ(slice.value(r, i), alone.view.value(r, i))
            << "expert " << e << " row " << r << " element " << i;
  }
}

} // namespace
