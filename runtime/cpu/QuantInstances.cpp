//===- QuantInstances.cpp - kernel instances over packed weights ----------===//

#include "runtime/cpu/QuantInstances.h"

#include <algorithm>
#include <cmath>

namespace fmc::cpu {

namespace {

/// Output rows per task below which a product runs on the caller alone.
constexpr int64_t kMinWeightBytesPerTask = 1 << 14;
/// Tokens per task below which activations are quantized on one thread.
constexpr int64_t kMinTokensPerPrepareTask = 8;
/// Rows of a prefill panel (QuantPanels.inc): tasks take whole ones.
constexpr int64_t kPanelRowsPerTask = 32;
/// Tokens of a task when the rows are too few for every thread.
constexpr int64_t kTokensPerTask = 64;
// A run that skips prepareRows (readsQuantized) must give every call the
// tokens that made that decision: all of them, or kTokensPerTask or more.
static_assert(kTokensPerTask >= kFloatPanelMinTokens);

class QuantLinear final : public KernelInstance {
public:
  QuantLinear(const QuantWeights &w, const float *in, float *out,
              const float *bias, int64_t maxTokens, bool logits, float scale,
              float softcap, std::shared_ptr<QuantActivations> scratch)
      : w(w), acts(std::move(scratch)), in(in), out(out), bias(bias),
        logits(logits), scale(scale), softcap(softcap),
        kernels(bestQuantKernels()) {
    acts->reserve(w, maxTokens);
  }

  void run(const RunContext &ctx) const override {
    int64_t t0 = logits ? ctx.logitsFrom : 0, t1 = ctx.rows;
    if (t1 <= t0)
      return;
    int64_t threads = ctx.pool->size();
    acts->bind(w, in, w.k);
    // Short rows' long prefills read x alone (stories260K's at 2 bits
    // spent 1.5% of its time quantizing for nothing).
    if (kernels.readsQuantized(w, t1 - t0))
      prepare(ctx, t0, t1);
    int64_t weightBytes = static_cast<int64_t>(w.n * w.rowBytes);
    if (threads == 1 || weightBytes < 2 * kMinWeightBytesPerTask) {
      kernels.linear(w, *acts, out, w.n, 0, w.n, t0, t1);
    } else {
      // Output-row chunks spread the weight stream over the threads. With
      // rows enough for every thread, each task takes every token: a
      // prefill kernel lays its rows out once per call (QuantPanels.inc)
      // and then serves any number of tokens. Otherwise token blocks make
      // the tasks.
      const int64_t wantTasks = 4 * threads;
      const bool rowsOnly = w.n >= wantTasks * kPanelRowsPerTask;
      const TokenBlocks blocks(t1 - t0, rowsOnly ? t1 - t0 : kTokensPerTask);
      int64_t nChunks =
          std::max<int64_t>(1, (wantTasks + blocks.count - 1) / blocks.count);
      int64_t nChunk = (w.n + nChunks - 1) / nChunks;
      if (rowsOnly) // Whole panels of rows.
        nChunk = (nChunk + kPanelRowsPerTask - 1) / kPanelRowsPerTask *
                 kPanelRowsPerTask;
      nChunks = (w.n + nChunk - 1) / nChunk;
      ctx.pool->run(blocks.count * nChunks, [&](int64_t task, int) {
        int64_t tb = task / nChunks, nc = task % nChunks;
        int64_t r0 = nc * nChunk, r1 = std::min(w.n, r0 + nChunk);
        kernels.linear(w, *acts, out, w.n, r0, r1, t0 + blocks.begin(tb),
           t0 + blocks.end(tb));
      });
    }
    if (!bias && scale == 1.0f && softcap == 0.0f)
      return;
    for (int64_t t = t0; t < t1; ++t) {
      float *row = out + t * w.n;
      for (int64_t i = 0; i < w.n; ++i) {
        float v = (row[i] + (bias ? bias[i] : 0.0f)) * scale;
        row[i] = softcap > 0.0f ? softcap * std::tanh(v / softcap) : v;
      }
    }
  }

private:
  /// Quantizes tokens [t0, t1) of the bound activations.
  void prepare(const RunContext &ctx, int64_t t0, int64_t t1) const {
    const int64_t threads = ctx.pool->size();
    if (threads == 1 || t1 - t0 < 2 * kMinTokensPerPrepareTask)
      return acts->prepareRows(w, t0, t1);
    // Quantizing a prompt's activations took 4% of a 512-token prefill on
    // one thread while the others waited.
    const int64_t tasks =
        std::min(2 * threads, (t1 - t0) / kMinTokensPerPrepareTask);
    const int64_t per = (t1 - t0 + tasks - 1) / tasks;
    ctx.pool->run(tasks, [&](int64_t task, int) {
      const int64_t a0 = t0 + task * per;
      acts->prepareRows(w, a0, std::min(t1, a0 + per));
    });
  }

  QuantWeights w;
  std::shared_ptr<QuantActivations> acts; // Rewritten by every run.
  const float *in;
  float *out;
  const float *bias;
  bool logits;
  float scale, softcap;
  const QuantKernelTable &kernels;
};

class QuantEmbedding final : public KernelInstance {
public:
  QuantEmbedding(const QuantWeights &table, const int32_t *tokens, float *out,
                 float scale)
      : table(table), tokens(tokens), out(out), scale(scale) {}
  void run(const RunContext &ctx) const override {
    for (int64_t t = 0; t < ctx.rows; ++t) {
      float *row = out + t * table.k;
      int64_t id = tokens[t];
      if (id < 0 || id >= table.n) // Ids are checked before a run.
        std::fill(row, row + table.k, 0.0f);
      else
        quantEmbeddingRow(table, id, scale, row);
    }
  }

private:
  QuantWeights table;
  const int32_t *tokens;
  float *out;
  float scale;
};

} // namespace

bool isPackedTensor(const schema::Artifact &artifact, int32_t index) {
  return index >= 0 &&
         artifact.tensors()->Get(index)->dtype() == schema::DType::Packed;
}

QuantWeights packedWeights(const schema::Tensor &tensor, const void *data) {
  const schema::QuantEncoding &q = *tensor.quant();
  int64_t k = tensor.shape()->Get(tensor.shape()->size() - 1);
  int64_t n = 1;
  for (int64_t d : *tensor.shape())
    n *= d;
  n /= k;
  return QuantWeights::view(
      data, q.bits(), q.grid() == schema::QuantGrid::Affine,
      q.scale_dtype() == schema::DType::BF16, q.group_size(), n, k);
}

std::unique_ptr<KernelInstance>
makeQuantLinear(const QuantWeights &w, const float *in, float *out,
                const float *bias, int64_t maxTokens, bool logits, float scale,
                float softcap, std::shared_ptr<QuantActivations> scratch) {
  return std::make_unique<QuantLinear>(w, in, out, bias, maxTokens, logits,
                                       scale, softcap, std::move(scratch));
}

std::unique_ptr<KernelInstance> makeQuantEmbedding(const QuantWeights &table,
                                                   const int32_t *tokens,
                                                   float *out, float scale) {
  return std::make_unique<QuantEmbedding>(table, tokens, out, scale);
}

} // namespace fmc::cpu
