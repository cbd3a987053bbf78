//===- Moe.cpp - the fused mixture-of-experts kernel ----------------------===//

#include "runtime/cpu/Moe.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace fmc::cpu {

namespace {

/// Below this many multiply-adds a matmul runs on the calling thread.
constexpr int64_t kMinParallelWork = 65536;

/// y[rows, n] = x[rows, k] W^T, split over output features and token blocks.
void matmul(const RunContext &ctx, WeightRef w, const float *x, int64_t k,
            float *y, int64_t n, int64_t rows) {
  if (rows <= 0)
    return;
  LinearArgs args{x, k, k, w.data, nullptr, y, n};
  LinearFn fn = ctx.simd->linear[static_cast<int>(w.type)];
  int64_t threads = ctx.pool->size();
  if (threads == 1 || rows * n * k < kMinParallelWork) {
    fn(args, 0, n, 0, rows);
    return;
  }
  int64_t tokenBlock = rows <= 16 ? rows : 32;
  int64_t tokenBlocks = (rows + tokenBlock - 1) / tokenBlock;
  int64_t nChunks =
      std::max<int64_t>(1, (4 * threads + tokenBlocks - 1) / tokenBlocks);
  int64_t nChunk = std::max<int64_t>(4, (n + nChunks - 1) / nChunks);
  nChunk = (nChunk + 3) / 4 * 4;
  nChunks = (n + nChunk - 1) / nChunk;
  ctx.pool->run(tokenBlocks * nChunks, [&](int64_t task, int) {
    int64_t tb = task / nChunks, nc = task % nChunks;
    int64_t a0 = tb * tokenBlock, a1 = std::min(rows, a0 + tokenBlock);
    int64_t n0 = nc * nChunk, n1 = std::min(n, n0 + nChunk);
    fn(args, n0, n1, a0, a1);
  });
}

/// Element offset of expert e's slab of `rowsPerExpert` rows of `k`.
WeightRef slab(WeightRef w, int64_t e, int64_t rowsPerExpert, int64_t k) {
  auto *base = static_cast<const uint8_t *>(w.data);
  return {base +
              static_cast<size_t>(e) * rowsPerExpert * k * elementBytes(w.type),
          w.type};
}

/// out[r, i] = act(gu[r, i]) * gu[r, inter + i] for rows of 2 * inter,
/// split over the pool by rows when there is enough work.
void gatedActivation(const RunContext &ctx, Activation act, const float *gu,
                     float *out, int64_t rows, int64_t inter) {
  auto row = [&](int64_t r) {
    const float *gate = gu + r * 2 * inter, *up = gate + inter;
    float *y = out + r * inter;
    if (act == Activation::Silu) {
      ctx.simd->siluMul(gate, up, y, inter);
    } else {
      for (int64_t i = 0; i < inter; ++i)
        y[i] = activate(act, gate[i]) * up[i];
    }
  };
  int64_t threads = ctx.pool->size();
  if (threads == 1 || rows < 2 || rows * inter < kMinParallelWork / 8) {
    for (int64_t r = 0; r < rows; ++r)
      row(r);
    return;
  }
  int64_t tasks = std::min<int64_t>(rows, 4 * threads);
  int64_t chunk = (rows + tasks - 1) / tasks;
  ctx.pool->run(tasks, [&](int64_t task, int) {
    for (int64_t r = task * chunk, end = std::min(rows, r + chunk); r < end;
         ++r)
      row(r);
  });
}

/// Where each part of the workspace starts, in floats.
struct Layout {
  int64_t logits, scores, weights, indices, order, counts, gathered, gateUp,
      act, expertOut, total;
  explicit Layout(const MoeShape &s) {
    int64_t t = s.maxTokens, k = s.topK;
    int64_t inter = std::max(s.inter, s.sharedInter);
    int64_t at = 0;
    auto take = [&](int64_t floats) {
      int64_t start = at;
      at += (floats + 15) / 16 * 16; // 64-byte aligned parts
      return start;
    };
    logits = take(t * s.experts);
    scores = take(s.experts);
    weights = take(t * k);
    indices = take(t * k);
    order = take(t * k);
    counts = take(s.experts + 1);
    gathered = take(t * s.width);
    gateUp = take(t * 2 * inter);
    act = take(t * inter);
    expertOut = take(t * k * s.width);
    total = at;
  }
};

class Moe final : public KernelInstance {
public:
  Moe(const MoeShape &shape, const MoeWeights &weights, Activation activation,
      bool softmax, bool normalize, const float *in, float *out,
      MoeWorkspace workspace)
      : s(shape), w(weights), act(activation), softmax(softmax),
        normalize(normalize), in(in), out(out), layout(shape),
        workspace(std::move(workspace)) {}

  void run(const RunContext &ctx) const override {
    int64_t rows = ctx.rows, k = s.topK, h = s.width;
    float *ws = workspace->data();
    float *logits = ws + layout.logits, *weights = ws + layout.weights;
    auto *indices = reinterpret_cast<int32_t *>(ws + layout.indices);
    auto *order = reinterpret_cast<int32_t *>(ws + layout.order);
    auto *counts = reinterpret_cast<int32_t *>(ws + layout.counts);
    float *gathered = ws + layout.gathered, *gateUp = ws + layout.gateUp;
    float *hidden = ws + layout.act, *expertOut = ws + layout.expertOut;

    matmul(ctx, w.router, in, h, logits, s.experts, rows);
    for (int64_t t = 0; t < rows; ++t)
      route(logits + t * s.experts, ws + layout.scores, weights + t * k,
            indices + t * k);

    // Group the (token, choice) slots by expert, tokens in order.
    std::fill(counts, counts + s.experts + 1, 0);
    for (int64_t slot = 0; slot < rows * k; ++slot)
      ++counts[indices[slot] + 1];
    for (int64_t e = 0; e < s.experts; ++e)
      counts[e + 1] += counts[e];
    for (int64_t slot = 0; slot < rows * k; ++slot)
      order[counts[indices[slot]]++] = static_cast<int32_t>(slot);
    // counts[e] is now the end of expert e's slots; its start is the
    // previous expert's end.
    for (int64_t e = 0, start = 0; e < s.experts; ++e) {
      int64_t end = counts[e], n = end - start;
      if (n > 0)
        runExpert(ctx, e, order + start, n, gathered, gateUp, hidden,
                  expertOut);
      start = end;
    }

    // y[t] = sum_j weight[t, j] * expert_out[t, j], in selection order.
    for (int64_t t = 0; t < rows; ++t) {
      float *y = out + t * h;
      std::fill(y, y + h, 0.0f);
      for (int64_t j = 0; j < k; ++j) {
        float wj = weights[t * k + j];
        const float *e = expertOut + (t * k + j) * h;
        for (int64_t i = 0; i < h; ++i)
          y[i] += wj * e[i];
      }
    }
    if (w.sharedGateUp.data)
      runShared(ctx, rows, gateUp, hidden, gathered);
  }

private:
  /// moe_route's scoring and selection for one token.
  void route(const float *l, float *scores, float *wOut, int32_t *idx) const {
    if (softmax) {
      float max = *std::max_element(l, l + s.experts), sum = 0.0f;
      for (int64_t e = 0; e < s.experts; ++e)
        sum += scores[e] = std::exp(l[e] - max);
      for (int64_t e = 0; e < s.experts; ++e)
        scores[e] /= sum;
    } else {
      for (int64_t e = 0; e < s.experts; ++e)
        scores[e] = 1.0f / (1.0f + std::exp(-l[e]));
    }
    float total = 0.0f;
    for (int64_t j = 0; j < s.topK; ++j) {
      int64_t best = -1;
      for (int64_t e = 0; e < s.experts; ++e) {
        bool taken = false;
        for (int64_t i = 0; i < j; ++i)
          taken |= idx[i] == e;
        if (!taken && (best < 0 || scores[e] > scores[best]))
          best = e;
      }
      idx[j] = static_cast<int32_t>(best);
      wOut[j] = scores[best];
      total += wOut[j];
    }
    if (normalize && total > 0.0f)
      for (int64_t j = 0; j < s.topK; ++j)
        wOut[j] /= total;
  }

  /// Expert e over its n slots: gather, gate_up, activation, down, scatter.
  void runExpert(const RunContext &ctx, int64_t e, const int32_t *slots,
                 int64_t n, float *gathered, float *gateUp, float *hidden,
                 float *expertOut) const {
    int64_t h = s.width, inter = s.inter;
    for (int64_t r = 0; r < n; ++r)
      std::memcpy(gathered + r * h, in + (slots[r] / s.topK) * h,
                  h * sizeof(float));
    matmul(ctx, slab(w.gateUp, e, 2 * inter, h), gathered, h, gateUp, 2 * inter,
           n);
    gatedActivation(ctx, act, gateUp, hidden, n, inter);
    // The down projection lands in `gathered` (no longer needed), then in
    // each slot's row.
    matmul(ctx, slab(w.down, e, h, inter), hidden, inter, gathered, h, n);
    for (int64_t r = 0; r < n; ++r)
      std::memcpy(expertOut + static_cast<int64_t>(slots[r]) * h,
                  gathered + r * h, h * sizeof(float));
  }

  /// y += shared(x), scaled by sigmoid(x . shared_gate) when gated.
  void runShared(const RunContext &ctx, int64_t rows, float *gateUp,
                 float *hidden, float *sharedOut) const {
    int64_t h = s.width, inter = s.sharedInter;
    matmul(ctx, w.sharedGateUp, in, h, gateUp, 2 * inter, rows);
    gatedActivation(ctx, act, gateUp, hidden, rows, inter);
    matmul(ctx, w.sharedDown, hidden, inter, sharedOut, h, rows);
    for (int64_t t = 0; t < rows; ++t) {
      float g = 1.0f;
      if (w.sharedGate.data) {
        float z = ctx.simd->dot[static_cast<int>(w.sharedGate.type)](
            in + t * h, w.sharedGate.data, h);
        g = 1.0f / (1.0f + std::exp(-z));
      }
      float *y = out + t * h;
      const float *sh = sharedOut + t * h;
      for (int64_t i = 0; i < h; ++i)
        y[i] += sh[i] * g;
    }
  }

  MoeShape s;
  MoeWeights w;
  Activation act;
  bool softmax, normalize;
  const float *in;
  float *out;
  Layout layout;
  MoeWorkspace workspace;
};

} // namespace

int64_t moeWorkspaceFloats(const MoeShape &shape) {
  return Layout(shape).total;
}

std::unique_ptr<KernelInstance>
makeMoe(const MoeShape &shape, const MoeWeights &weights, Activation activation,
        bool softmax, bool normalize, const float *in, float *out,
        const MoeWorkspace &workspace) {
  int64_t need = moeWorkspaceFloats(shape);
  if (static_cast<int64_t>(workspace->size()) < need)
    workspace->resize(need);
  return std::make_unique<Moe>(shape, weights, activation, softmax, normalize,
                               in, out, workspace);
}

} // namespace fmc::cpu
