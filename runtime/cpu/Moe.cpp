//===- Moe.cpp - the fused mixture-of-experts kernel ----------------------===//

#include "runtime/cpu/Moe.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace fmc::cpu {

namespace {

/// Below this many multiply-adds a matmul runs on the calling thread.
constexpr int64_t kMinParallelWork = 65536;

/// y[rows, n] = x[rows, k] W^T, split over output features and token blocks;
/// a packed W runs on the packed-weight kernels, x quantized into `acts`.
void matmul(const RunContext &ctx, const WeightRef &w, const float *x,
            int64_t k, float *y, int64_t n, int64_t rows,
            QuantActivations *acts) {
  if (rows <= 0)
    return;
  if (w.isPacked()) {
    acts->prepare(w.packed, x, k, 0, rows);
    QuantLinearFn fn = bestQuantKernels().linear;
    int64_t threads = ctx.pool->size();
    if (threads == 1 || rows * n * k < kMinParallelWork) {
      fn(w.packed, *acts, y, n, 0, n, 0, rows);
      return;
    }
    int64_t chunks = 4 * threads;
    int64_t chunk = std::max<int64_t>(4, (n + chunks - 1) / chunks);
    chunks = (n + chunk - 1) / chunk;
    ctx.pool->run(chunks, [&](int64_t c, int) {
      fn(w.packed, *acts, y, n, c * chunk, std::min(n, (c + 1) * chunk), 0,
         rows);
    });
    return;
  }
  runLinear(ctx, LinearArgs{x, k, k, w.data, nullptr, y, n}, w.type, n, 0,
            rows);
}

/// Expert e's slab of `rowsPerExpert` rows of `k` (float weights).
WeightRef slab(WeightRef w, int64_t e, int64_t rowsPerExpert, int64_t k) {
  auto *base = static_cast<const uint8_t *>(w.data);
  return {base +
              static_cast<size_t>(e) * rowsPerExpert * k * elementBytes(w.type),
          w.type};
}

/// y[r] = x[r] W_e^T for the rows r in [starts[e], starts[e + 1]) of every
/// expert e, W_e expert e's [n, k] slab of `w`: one grouped matmul, one
/// parallel region over (expert, token block, output chunk) tasks.
/// `taskStarts` (experts + 1 ints) is scratch for the task numbering.
void groupedMatmul(const RunContext &ctx, const WeightRef &w, const float *x,
                   int64_t k, float *y, int64_t n, const int32_t *starts,
                   int64_t experts, int32_t *taskStarts,
                   QuantActivations *acts) {
  // Packed experts: every row's activations quantized once, then expert
  // e's rows [starts[e], starts[e+1]) against its slice of the stack only.
  QuantLinearFn packedFn = bestQuantKernels().linear;
  if (w.isPacked() && starts[experts] > 0)
    acts->prepare(packedExpert(w.packed, 0, n), x, k, 0, starts[experts]);
  LinearFn fn = ctx.simd->linear[static_cast<int>(w.type)];
  auto args = [&](int64_t e) {
    return LinearArgs{x + static_cast<int64_t>(starts[e]) * k,
                      k,
                      k,
                      slab(w, e, n, k).data,
                      nullptr,
                      y + static_cast<int64_t>(starts[e]) * n,
                      n};
  };
  // Outputs [n0, n1) of expert e's local rows [t0, t1).
  auto product = [&](int64_t e, int64_t n0, int64_t n1, int64_t t0,
                     int64_t t1) {
    if (w.isPacked())
      packedFn(packedExpert(w.packed, e, n), *acts, y, n, n0, n1,
               starts[e] + t0, starts[e] + t1);
    else
      fn(args(e), n0, n1, t0, t1);
  };
  int64_t rows = starts[experts], active = 0;
  for (int64_t e = 0; e < experts; ++e)
    active += starts[e + 1] > starts[e];
  int64_t threads = ctx.pool->size();
  if (threads == 1 || rows * n * k < kMinParallelWork) {
    for (int64_t e = 0; e < experts; ++e)
      if (starts[e + 1] > starts[e])
        product(e, 0, n, 0, starts[e + 1] - starts[e]);
    return;
  }
  // Each expert's tokens in blocks of 32 (none for an idle expert).
  auto blocksOf = [&](int64_t e) {
    return TokenBlocks(starts[e + 1] - starts[e], 32);
  };
  int64_t chunks = std::max<int64_t>(1, (4 * threads + active - 1) /
                                            std::max<int64_t>(1, active));
  int64_t chunk = std::max<int64_t>(4, (n + chunks - 1) / chunks);
  chunk = (chunk + 3) / 4 * 4;
  chunks = (n + chunk - 1) / chunk;
  taskStarts[0] = 0;
  for (int64_t e = 0; e < experts; ++e) {
    taskStarts[e + 1] =
        static_cast<int32_t>(taskStarts[e] + blocksOf(e).count * chunks);
  }
  ctx.pool->run(taskStarts[experts], [&](int64_t task, int) {
    int64_t e = std::upper_bound(taskStarts, taskStarts + experts + 1, task) -
                taskStarts - 1;
    int64_t local = task - taskStarts[e];
    int64_t block = local / chunks, n0 = local % chunks * chunk;
    const TokenBlocks blocks = blocksOf(e);
    product(e, n0, std::min(n, n0 + chunk), blocks.begin(block),
            blocks.end(block));
  });
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
  int64_t logits, scores, weights, indices, order, rowOf, starts, taskStarts,
      gathered, gateUp, act, total;
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
    rowOf = take(t * k);
    starts = take(s.experts + 1);
    taskStarts = take(s.experts + 1);
    // Rows of every (token, choice) slot: the shared expert's t rows fit.
    gathered = take(t * k * s.width);
    gateUp = take(t * k * 2 * inter);
    act = take(t * k * inter);
    total = at;
  }
};

class Moe final : public KernelInstance {
public:
  Moe(const MoeShape &shape, const MoeWeights &weights, Activation activation,
      bool softmax, bool normalize, const float *in, float *out,
      MoeWorkspace workspace, std::shared_ptr<QuantActivations> quantScratch)
      : s(shape), w(weights), act(activation), softmax(softmax),
        normalize(normalize), in(in), out(out), layout(shape),
        workspace(std::move(workspace)), acts(std::move(quantScratch)) {
    int64_t slots = s.maxTokens * s.topK;
    if (w.gateUp.isPacked())
      acts->reserve(packedExpert(w.gateUp.packed, 0, 2 * s.inter), slots);
    if (w.down.isPacked())
      acts->reserve(packedExpert(w.down.packed, 0, s.width), slots);
    if (w.sharedGateUp.isPacked())
      acts->reserve(w.sharedGateUp.packed, s.maxTokens);
    if (w.sharedDown.isPacked())
      acts->reserve(w.sharedDown.packed, s.maxTokens);
  }

  void run(const RunContext &ctx) const override {
    int64_t rows = ctx.rows, k = s.topK, h = s.width, slots = rows * k;
    float *ws = workspace->data();
    float *logits = ws + layout.logits, *weights = ws + layout.weights;
    auto ints = [&](int64_t at) {
      return reinterpret_cast<int32_t *>(ws + at);
    };
    int32_t *indices = ints(layout.indices), *order = ints(layout.order);
    int32_t *rowOf = ints(layout.rowOf), *starts = ints(layout.starts);
    float *gathered = ws + layout.gathered, *gateUp = ws + layout.gateUp;
    float *hidden = ws + layout.act;

    matmul(ctx, w.router, in, h, logits, s.experts, rows, acts.get());
    for (int64_t t = 0; t < rows; ++t)
      route(logits + t * s.experts, ws + layout.scores, weights + t * k,
            indices + t * k);

    // Group the (token, choice) slots by expert, tokens in order: row r of
    // the grouped activations is slot order[r]; slot q sits in row rowOf[q].
    std::fill(starts, starts + s.experts + 1, 0);
    for (int64_t q = 0; q < slots; ++q)
      ++starts[indices[q] + 1];
    for (int64_t e = 0; e < s.experts; ++e)
      starts[e + 1] += starts[e];
    // Each expert's next free row (taskStarts' space, before the matmuls
    // number their tasks there).
    int32_t *cursor = ints(layout.taskStarts);
    std::copy(starts, starts + s.experts, cursor);
    for (int64_t q = 0; q < slots; ++q) {
      int32_t r = cursor[indices[q]]++;
      order[r] = static_cast<int32_t>(q);
      rowOf[q] = r;
    }
    for (int64_t r = 0; r < slots; ++r)
      std::memcpy(gathered + r * h, in + (order[r] / k) * h, h * sizeof(float));

    // One grouped matmul per projection over every selected expert.
    int32_t *taskStarts = cursor;
    groupedMatmul(ctx, w.gateUp, gathered, h, gateUp, 2 * s.inter, starts,
                  s.experts, taskStarts, acts.get());
    gatedActivation(ctx, act, gateUp, hidden, slots, s.inter);
    // The down projection lands in `gathered` (no longer needed).
    groupedMatmul(ctx, w.down, hidden, s.inter, gathered, h, starts, s.experts,
                  taskStarts, acts.get());

    // y[t] = sum_j weight[t, j] * expert_out[t, j], in selection order.
    for (int64_t t = 0; t < rows; ++t) {
      float *y = out + t * h;
      std::fill(y, y + h, 0.0f);
      for (int64_t j = 0; j < k; ++j) {
        float wj = weights[t * k + j];
        const float *e = gathered + static_cast<int64_t>(rowOf[t * k + j]) * h;
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

  /// y += shared(x), scaled by sigmoid(x . shared_gate) when gated.
  void runShared(const RunContext &ctx, int64_t rows, float *gateUp,
                 float *hidden, float *sharedOut) const {
    int64_t h = s.width, inter = s.sharedInter;
    matmul(ctx, w.sharedGateUp, in, h, gateUp, 2 * inter, rows, acts.get());
    gatedActivation(ctx, act, gateUp, hidden, rows, inter);
    matmul(ctx, w.sharedDown, hidden, inter, sharedOut, h, rows, acts.get());
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
  /// Quantized activations of the packed projections (rewritten by each).
  std::shared_ptr<QuantActivations> acts;
};

} // namespace

int64_t moeWorkspaceFloats(const MoeShape &shape) {
  return Layout(shape).total;
}

QuantWeights packedExpert(const QuantWeights &stack, int64_t e, int64_t rows) {
  QuantWeights w = stack;
  uint64_t first = static_cast<uint64_t>(e) * rows;
  uint64_t scaleBytes = first * stack.groups * 2; // f16 or bf16
  w.n = rows;
  w.codes = stack.codes + first * stack.rowBytes;
  w.scales = stack.scales + scaleBytes;
  if (stack.mins)
    w.mins = stack.mins + scaleBytes;
  return w;
}

std::unique_ptr<KernelInstance>
makeMoe(const MoeShape &shape, const MoeWeights &weights, Activation activation,
        bool softmax, bool normalize, const float *in, float *out,
        const MoeWorkspace &workspace,
        const std::shared_ptr<QuantActivations> &quantScratch) {
  int64_t need = moeWorkspaceFloats(shape);
  if (static_cast<int64_t>(workspace->size()) < need)
    workspace->resize(need);
  return std::make_unique<Moe>(
      shape, weights, activation, softmax, normalize, in, out, workspace,
      quantScratch ? quantScratch : std::make_shared<QuantActivations>());
}

std::unique_ptr<KernelInstance>
makeMoe(const MoeShape &shape, const MoeWeights &weights, Activation activation,
        bool softmax, bool normalize, const float *in, float *out,
        const MoeWorkspace &workspace) {
  return makeMoe(shape, weights, activation, softmax, normalize, in, out,
                 workspace, nullptr);
}

} // namespace fmc::cpu
