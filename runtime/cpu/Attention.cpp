//===- Attention.cpp - attention over a KV cache --------------------------===//
//
// A run first appends its keys and values to the cache (when the kernel
// writes one), then every (token, head) pair attends over the cached
// positions it may see. Positions within a run are consecutive, so a query
// at position p sees [lo, hi] with hi = p when causal; the plan sized ring
// caches so that span is still cached.
//
//===----------------------------------------------------------------------===//

#include "runtime/cpu/Program.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace fmc::cpu {

namespace {

class Attention final : public KernelInstance {
public:
  Attention(const schema::AttentionSpec &spec, const float *q, const float *k,
            const float *v, const int32_t *positions, float *out, Cache &cache,
            bool writes)
      : q(q), k(k), v(v), positions(positions), out(out), cache(cache),
        writes(writes), heads(spec.heads()), kvHeads(spec.kv_heads()),
        headDim(spec.head_dim()), group(spec.heads() / spec.kv_heads()),
        window(spec.window()), kind(spec.kind()), scale(spec.scale()),
        softcap(spec.softcap()), causal(spec.causal()) {}

  void run(const RunContext &ctx) const override {
    if (writes)
      append(ctx);
    int64_t last = positions[ctx.rows - 1];
    auto task = [&](int64_t index, int thread) {
      int64_t t = index / heads, h = index % heads;
      attend(t, h, last, *ctx.simd, ctx.scratch + thread * ctx.scratchStride);
    };
    int64_t tasks = ctx.rows * heads;
    // Short contexts are cheap per head: keep small decode steps on one thread.
    if (ctx.pool->size() == 1 || tasks * (last + 1) * headDim < 32768) {
      for (int64_t i = 0; i < tasks; ++i)
        task(i, 0);
      return;
    }
    ctx.pool->run(tasks, task);
  }

private:
  void append(const RunContext &ctx) const {
    int64_t width = kvHeads * headDim;
    for (int64_t t = 0; t < ctx.rows; ++t) {
      int64_t slot = cache.slot(positions[t]);
      for (int64_t g = 0; g < kvHeads; ++g) {
        const float *kr = k + t * width + g * headDim;
        const float *vr = v + t * width + g * headDim;
        for (int64_t d = 0; d < headDim; ++d) {
          size_t at = cache.offset(g, d, slot);
          storeElement(cache.keys, cache.type, at, kr[d]);
          storeElement(cache.values, cache.type, at, vr[d]);
        }
      }
    }
  }

  void attend(int64_t t, int64_t h, int64_t last, const SimdKernels &simd,
              float *scores) const {
    int64_t p = positions[t];
    int64_t hi = causal ? p : last;
    int64_t lo = 0;
    if (kind == schema::AttentionKind::Local)
      lo = std::max<int64_t>(0, p - window + 1);
    else if (kind == schema::AttentionKind::Chunked)
      lo = p / window * window;
    if (cache.ring)
      lo = std::max(lo, hi - cache.capacity + 1);
    const float *query = q + (t * heads + h) * headDim;
    float *result = out + (t * heads + h) * headDim;
    std::fill(result, result + headDim, 0.0f);
    if (hi < lo)
      return;
    int64_t g = h / group;
    const int type = static_cast<int>(cache.type);
    const int64_t bytes = elementBytes(cache.type);
    const auto *keys = static_cast<const uint8_t *>(cache.keys);
    const auto *values = static_cast<const uint8_t *>(cache.values);
    // Positions [lo, hi] occupy at most two runs of consecutive slots (a ring
    // cache wraps around once).
    auto forRuns = [&](auto &&fn) {
      for (int64_t j = lo; j <= hi;) {
        int64_t slot = cache.slot(j);
        int64_t run = std::min(hi - j + 1, cache.capacity - slot);
        fn(j - lo, cache.offset(g, 0, slot) * bytes, run);
        j += run;
      }
    };
    float max = -std::numeric_limits<float>::infinity();
    forRuns([&](int64_t at, size_t offset, int64_t run) {
      max = std::max(max, simd.scores[type](query, keys + offset,
                                            cache.capacity, run, headDim,
                                            scale, scores + at));
    });
    int64_t n = hi - lo + 1;
    if (softcap > 0.0f) {
      // tanh is increasing: the capped maximum is the cap of the maximum.
      for (int64_t j = 0; j < n; ++j)
        scores[j] = softcap * std::tanh(scores[j] / softcap);
      max = softcap * std::tanh(max / softcap);
    }
    float inv = 1.0f / simd.expSum(scores, n, max);
    forRuns([&](int64_t at, size_t offset, int64_t run) {
      simd.mix[type](scores + at, values + offset, cache.capacity, run, headDim,
                     result);
    });
    for (int64_t d = 0; d < headDim; ++d)
      result[d] *= inv;
  }

  const float *q, *k, *v;
  const int32_t *positions;
  float *out;
  Cache &cache;
  bool writes;
  int64_t heads, kvHeads, headDim, group, window;
  schema::AttentionKind kind;
  float scale, softcap;
  bool causal;
};

} // namespace

std::unique_ptr<KernelInstance>
makeAttention(const schema::AttentionSpec &spec, const float *q, const float *k,
              const float *v, const int32_t *positions, float *out,
              Cache &reads, bool writes, int64_t *scratchFloats) {
  // Scores of one query: at most the cache's capacity.
  *scratchFloats = std::max(*scratchFloats, reads.capacity);
  return std::make_unique<Attention>(spec, q, k, v, positions, out, reads,
                                     writes);
}

} // namespace fmc::cpu
