//===- GgmlInstances.cpp - kernel instances over ggml block weights -------===//

#include "runtime/cpu/GgmlInstances.h"

#include "runtime/cpu/GgmlDequant.h"
#include "runtime/cpu/Kernels.h"
#include "runtime/schema/fmc_generated.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

namespace fmc::cpu {

namespace {

/// Weight bytes per task below which a product runs on the caller alone.
constexpr int64_t kMinWeightBytesPerTask = 1 << 14;

/// Rows [r0, r1) of w decoded one at a time into `row` and multiplied with
/// tokens [t0, t1) of x: y[t][r] = sum_i w[r][i] x[t][i], in f32.
void ggmlProduct(const GgmlWeights &w, DotFn dot, const float *x, float *y,
                 int64_t r0, int64_t r1, int64_t t0, int64_t t1, float *row) {
  int64_t blocks = w.k / w.format->elements;
  for (int64_t r = r0; r < r1; ++r) {
    dequantizeGgml(*w.format, w.data + r * w.rowBytes, blocks, row);
    for (int64_t t = t0; t < t1; ++t)
      y[t * w.n + r] = dot(x + t * w.k, row, w.k);
  }
}

/// Rows [r0, r1) of w times tokens [t0, t1) of the prepared activations
/// (token t at row t - t0 of `a`), one integer dot product per row, or per
/// tile of kGgmlTileRows rows where the table has tiles. A tile's rows come
/// from kGgmlTileRows equal contiguous spans of [r0, r1), one from each, so
/// that each span is read in address order, which the hardware prefetchers
/// follow (QuantKernels.inc found neighbouring rows read block by block in
/// turn ran at half speed).
void integerProduct(const GgmlWeights &w, GgmlRowDotFn dot, GgmlTileDotFn tile,
                    const GgmlActivations &a, float *y, int64_t r0, int64_t r1,
                    int64_t t0, int64_t t1) {
  int64_t blocks = w.k / w.format->elements;
  auto rowAt = [&](int64_t r) { return w.data + r * w.rowBytes; };
  auto one = [&](int64_t r) {
    for (int64_t t = t0; t < t1; ++t)
      y[t * w.n + r] = dot(rowAt(r), blocks, a.q(t - t0), a.d(t - t0),
                           a.sums(t - t0), a.qsums(t - t0));
  };
  if (!tile || r1 - r0 < kGgmlTileRows) {
    for (int64_t r = r0; r < r1; ++r)
      one(r);
    return;
  }
  const int64_t span = (r1 - r0) / kGgmlTileRows;
  for (int64_t j = 0; j < span; ++j) {
    const uint8_t *rows[kGgmlTileRows];
    for (int i = 0; i < kGgmlTileRows; ++i)
      rows[i] = rowAt(r0 + i * span + j);
    for (int64_t t = t0; t < t1; ++t) {
      float out[kGgmlTileRows];
      tile(rows, blocks, a.q(t - t0), a.d(t - t0), a.sums(t - t0),
           a.qsums(t - t0), out);
      for (int i = 0; i < kGgmlTileRows; ++i)
        y[t * w.n + r0 + i * span + j] = out[i];
    }
  }
  for (int64_t r = r0 + kGgmlTileRows * span; r < r1; ++r)
    one(r);
}

/// Bytes of int16 activations (2 per feature and token) that one pass over
/// a range of rows multiplies: with a tile's decoded rows (kGgmlTokenRows x
/// k x 2 bytes, 360 KB at k = 5632) they stay in L2 (1 MB on Zen 4 and 5,
/// 2 MB on recent Intel cores) while every tile of the range reads them,
/// where all of a 128-token prefill (128 x 5632 x 2 bytes for an FFN's down
/// projection) would be read from L3 once per tile. Each pass decodes every
/// row once more: at 42 tokens a pass (k = 5632) that costs 10%, at 20
/// (256 KB) 25% (fmc-ggml-bench --k 5632 --tokens N).
constexpr int64_t kTokenPassBytes = 512 << 10;

/// Rows [r0, r1) of w times tokens [t0, t1) of the prepared activations
/// (token t at row t - t0 of `a`) in token tiles (GgmlTokenTileFn) of
/// kGgmlTokenRows consecutive rows, each decoded into `panel` once per pass
/// over the tokens.
void tokenTileProduct(const GgmlWeights &w, GgmlTokenTileFn tokens,
                      const GgmlActivations &a, float *y, int64_t r0,
                      int64_t r1, int64_t t0, int64_t t1, GgmlPanel &panel) {
  int64_t blocks = w.k / w.format->elements;
  int64_t pass = std::max<int64_t>(
      kGgmlTokenTile,
      kTokenPassBytes / (2 * w.k) / kGgmlTokenTile * kGgmlTokenTile);
  for (int64_t p0 = 0; p0 < t1 - t0; p0 += pass) {
    int64_t p1 = std::min(t1 - t0, p0 + pass);
    for (int64_t r = r0; r < r1; r += kGgmlTokenRows) {
      int count = static_cast<int>(std::min<int64_t>(kGgmlTokenRows, r1 - r));
      tokens(w.data + r * w.rowBytes, w.rowBytes, count, blocks, a, p0, p1,
             y + t0 * w.n + r, w.n, panel);
    }
  }
}

class GgmlLinear final : public KernelInstance {
public:
  GgmlLinear(const GgmlWeights &w, const float *in, float *out,
             const float *bias, bool logits, float scale, float softcap,
             GgmlProduct product, std::shared_ptr<GgmlActivations> scratch)
      : w(w), in(in), out(out), bias(bias), logits(logits), scale(scale),
        softcap(softcap), product(product), acts(std::move(scratch)),
        rowDot(bestGgmlDot().dot[ggmlFormatIndex(*w.format)]),
        tileDot(bestGgmlDot().tile[ggmlFormatIndex(*w.format)]),
        tokenTile(bestGgmlDot().tokens[ggmlFormatIndex(*w.format)]) {}

  void run(const RunContext &ctx) const override {
    int64_t t0 = logits ? ctx.logitsFrom : 0, t1 = ctx.rows;
    if (t1 <= t0)
      return;
    // By default prefill takes the integer way only where token tiles
    // serve it: rows one token at a time are slower than the f32 way there.
    bool integer = product == GgmlProduct::Integer ||
                   (product == GgmlProduct::Auto &&
                    (t1 - t0 < kGgmlIntegerTokens || tokenTile));
    if (integer)
      runInteger(ctx, t0, t1);
    else
      runF32(ctx, t0, t1);
    if (!bias && scale == 1.0f && softcap == 0.0f)
      return;
    for (int64_t t = t0; t < t1; ++t) {
      float *y = out + t * w.n;
      for (int64_t i = 0; i < w.n; ++i) {
        float v = (y[i] + (bias ? bias[i] : 0.0f)) * scale;
        y[i] = softcap > 0.0f ? softcap * std::tanh(v / softcap) : v;
      }
    }
  }

private:
  void runInteger(const RunContext &ctx, int64_t t0, int64_t t1) const {
    acts->prepare(in, w.k, t0, t1, w.format->elements);
    // Token tiles from 2 tokens on; one token takes the rows (or tiles of
    // rows) that read each weight once, in address order.
    bool tokens = tokenTile && t1 - t0 > 1;
    int64_t threads = ctx.pool->size();
    std::vector<GgmlPanel> panels(tokens ? threads : 0);
    auto product = [&](int64_t r0, int64_t r1, int thread) {
      if (tokens)
        tokenTileProduct(w, tokenTile, *acts, out, r0, r1, t0, t1,
                         panels[thread]);
      else
        integerProduct(w, rowDot, tileDot, *acts, out, r0, r1, t0, t1);
    };
    int64_t weightBytes = static_cast<int64_t>(w.n * w.rowBytes);
    if (threads == 1 || weightBytes < 2 * kMinWeightBytesPerTask) {
      product(0, w.n, 0);
      return;
    }
    // Contiguous row chunks, each read once in address order; several per
    // thread even out a shared machine. Token tiles take whole tiles of
    // rows where there are enough.
    int64_t chunks = std::min<int64_t>(w.n, 4 * threads);
    int64_t chunk = (w.n + chunks - 1) / chunks;
    if (tokens && chunk > kGgmlTokenRows / 2)
      chunk = (chunk + kGgmlTokenRows - 1) / kGgmlTokenRows * kGgmlTokenRows;
    chunks = (w.n + chunk - 1) / chunk;
    ctx.pool->run(chunks, [&](int64_t task, int thread) {
      int64_t r0 = task * chunk, r1 = std::min(w.n, r0 + chunk);
      product(r0, r1, thread);
    });
  }

  void runF32(const RunContext &ctx, int64_t t0, int64_t t1) const {
    DotFn dot = ctx.simd->dot[static_cast<int>(ElementType::F32)];
    int64_t threads = ctx.pool->size();
    int64_t weightBytes = static_cast<int64_t>(w.n * w.rowBytes);
    if (threads == 1 || weightBytes < 2 * kMinWeightBytesPerTask) {
      std::vector<float> row(w.k);
      ggmlProduct(w, dot, in, out, 0, w.n, t0, t1, row.data());
    } else {
      // Each row is decoded once per run, by the task owning it; several
      // tasks per thread even out rows of uneven cost (a tail block).
      int64_t chunks = std::min<int64_t>(w.n, 4 * threads);
      int64_t chunk = (w.n + chunks - 1) / chunks;
      chunks = (w.n + chunk - 1) / chunk;
      std::vector<std::vector<float>> rows(threads);
      ctx.pool->run(chunks, [&](int64_t task, int thread) {
        std::vector<float> &row = rows[thread];
        row.resize(w.k);
        int64_t r0 = task * chunk, r1 = std::min(w.n, r0 + chunk);
        ggmlProduct(w, dot, in, out, r0, r1, t0, t1, row.data());
      });
    }
  }

  GgmlWeights w;
  const float *in;
  float *out;
  const float *bias;
  bool logits;
  float scale, softcap;
  GgmlProduct product;
  std::shared_ptr<GgmlActivations> acts; // Rewritten by every integer run.
  GgmlRowDotFn rowDot;
  GgmlTileDotFn tileDot; // Null: rows one by one.
  GgmlTokenTileFn tokenTile; // Null: prefill rows one token at a time.
};

class GgmlEmbedding final : public KernelInstance {
public:
  GgmlEmbedding(const GgmlWeights &table, const int32_t *tokens, float *out,
                float scale)
      : table(table), tokens(tokens), out(out), scale(scale) {}
  void run(const RunContext &ctx) const override {
    int64_t blocks = table.k / table.format->elements;
    for (int64_t t = 0; t < ctx.rows; ++t) {
      float *row = out + t * table.k;
      int64_t id = tokens[t];
      if (id < 0 || id >= table.n) { // Ids are checked before a run.
        std::fill(row, row + table.k, 0.0f);
        continue;
      }
      dequantizeGgml(*table.format, table.data + id * table.rowBytes, blocks,
                     row);
      if (scale != 1.0f)
        for (int64_t i = 0; i < table.k; ++i)
          row[i] *= scale;
    }
  }

private:
  GgmlWeights table;
  const int32_t *tokens;
  float *out;
  float scale;
};

} // namespace

absl::StatusOr<GgmlProduct> ggmlProductFromEnvironment() {
  const char *value = std::getenv("FMC_GGML_PRODUCT");
  if (!value)
    return GgmlProduct::Auto;
  std::string v(value);
  if (v == "integer")
    return GgmlProduct::Integer;
  if (v == "f32")
    return GgmlProduct::F32;
  return absl::InvalidArgumentError("FMC_GGML_PRODUCT is '" + v +
                                    "': expected integer or f32");
}

bool isGgmlTensor(const schema::Artifact &artifact, int32_t index) {
  return index >= 0 &&
         artifact.tensors()->Get(index)->dtype() == schema::DType::GgmlBlocks;
}

GgmlWeights ggmlWeights(const schema::Tensor &tensor, const void *data) {
  GgmlWeights w;
  w.format = ggml::blockFormat(tensor.ggml_type());
  w.k = tensor.shape()->Get(tensor.shape()->size() - 1);
  w.n = 1;
  for (int64_t d : *tensor.shape())
    w.n *= d;
  w.n /= w.k;
  w.rowBytes = w.k / w.format->elements * w.format->bytes;
  w.data = static_cast<const uint8_t *>(data);
  return w;
}

std::unique_ptr<KernelInstance>
makeGgmlLinear(const GgmlWeights &w, const float *in, float *out,
               const float *bias, bool logits, float scale, float softcap,
               GgmlProduct product, std::shared_ptr<GgmlActivations> scratch) {
  return std::make_unique<GgmlLinear>(w, in, out, bias, logits, scale, softcap,
                                      product, std::move(scratch));
}

std::unique_ptr<KernelInstance> makeGgmlEmbedding(const GgmlWeights &table,
                                                  const int32_t *tokens,
                                                  float *out, float scale) {
  return std::make_unique<GgmlEmbedding>(table, tokens, out, scale);
}

} // namespace fmc::cpu
