//===- Attention.cpp - attention over a KV cache --------------------------===//
//
// Positions within a run are consecutive, so a query at position p sees
// [lo, hi] with hi = p when causal.
//
// A kernel that writes a linear cache first appends the run's keys and
// values, then every query attends over the cache (a task takes a token
// and query heads of one KV head, which read its keys and values once).
// A kernel that writes a ring cache of `window` positions cannot: the
// run's later keys would overwrite slots its earlier queries still see. It
// attends to the run's own positions from its k and v rows and to earlier
// positions from the cache, and appends afterwards ("in flight"). A kernel
// that only reads a cache (KV sharing) attends over the cache its writer
// filled; the plan sized a read ring cache to hold the window behind a
// whole run.
//
//===----------------------------------------------------------------------===//

#include "runtime/cpu/Int8Cache.h"
#include "runtime/cpu/Program.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace fmc::cpu {

namespace {

/// Query heads of one KV head an attention task takes at most: their
/// scores are a row each of per-thread scratch.
constexpr int64_t kMaxQueriesPerTask = 8;

/// Whether `positions` are what the runtime writes: consecutive from a
/// non-negative start, all within `cache` (a ring holds any). The artifact
/// validator ties every attention to the program's positions; this is the
/// kernels' own bound check, so that no buffer mix-up can index past a
/// cache: runs that fail it write nothing to the cache and attend to
/// nothing.
bool positionsFit(const Cache &cache, const int32_t *positions, int64_t rows) {
  if (rows <= 0 || positions[0] < 0)
    return rows == 0;
  for (int64_t t = 1; t < rows; ++t)
    if (static_cast<int64_t>(positions[t]) != positions[0] + t)
      return false;
  return cache.ring || positions[0] + rows <= cache.capacity;
}

/// Rows [0, rows) of k and v (kvHeads x headDim each) into their
/// positions' slots.
void appendKeysAndValues(Cache &cache, const float *k, const float *v,
                         const int32_t *positions, int64_t rows,
                         int64_t kvHeads, int64_t headDim) {
  int64_t width = kvHeads * headDim;
  if (rows == 1 && !cache.int8) {
    int64_t slot = cache.slot(positions[0]);
    const int64_t bytes = elementBytes(cache.type);
    for (int64_t g = 0; g < kvHeads; ++g)
      for (int64_t d = 0; d < headDim; ++d) {
        size_t at = cache.offset(g, d, slot) * bytes;
        __builtin_prefetch(static_cast<const char *>(cache.keys) + at, 1);
        __builtin_prefetch(static_cast<const char *>(cache.values) + at, 1);
      }
  }
  for (int64_t t = 0; t < rows; ++t) {
    int64_t slot = cache.slot(positions[t]);
    for (int64_t g = 0; g < kvHeads; ++g) {
      const float *kr = k + t * width + g * headDim;
      const float *vr = v + t * width + g * headDim;
      if (cache.int8) {
        size_t at = cache.offset(g, 0, slot);
        size_t scaleAt = static_cast<size_t>(g) * cache.capacity + slot;
        cache.keyScales[scaleAt] =
            quantizeInt8(kr, headDim, static_cast<int8_t *>(cache.keys) + at,
                         cache.stride);
        cache.valueScales[scaleAt] =
            quantizeInt8(vr, headDim, static_cast<int8_t *>(cache.values) + at,
                         cache.stride);
        continue;
      }
      for (int64_t d = 0; d < headDim; ++d) {
        size_t at = cache.offset(g, d, slot);
        storeElement(cache.keys, cache.type, at, kr[d]);
        storeElement(cache.values, cache.type, at, vr[d]);
      }
    }
  }
}

/// plan.kv_append: a cache writer that appends first, split from its
/// attention (which then only reads).
class KvAppend final : public KernelInstance {
public:
  KvAppend(const float *k, const float *v, const int32_t *positions,
           Cache &cache)
      : k(k), v(v), positions(positions), cache(cache) {}
  void run(const RunContext &ctx) const override {
    if (!positionsFit(cache, positions, ctx.rows))
      return;
    appendKeysAndValues(cache, k, v, positions, ctx.rows, cache.kvHeads,
                        cache.headDim);
  }

private:
  const float *k, *v;
  const int32_t *positions;
  Cache &cache;
};

class Attention final : public KernelInstance {
public:
  Attention(const schema::AttentionSpec &spec, const float *q, const float *k,
            const float *v, const int32_t *positions, float *out, Cache &cache,
            bool writes)
      : q(q), k(k), v(v), positions(positions), out(out), cache(cache),
        writes(writes), inFlight(writes && cache.ring), heads(spec.heads()),
        kvHeads(spec.kv_heads()), headDim(spec.head_dim()),
        group(spec.heads() / spec.kv_heads()), window(spec.window()),
        kind(spec.kind()), scale(spec.scale()), softcap(spec.softcap()),
        causal(spec.causal()) {}

  void run(const RunContext &ctx) const override {
    if (!positionsFit(cache, positions, ctx.rows)) {
      std::fill(out, out + ctx.rows * heads * headDim, 0.0f);
      return;
    }
    if (inFlight && cache.int8)
      roundTripRun(ctx);
    if (writes && !inFlight)
      append(ctx);
    int64_t first = positions[0], last = positions[ctx.rows - 1];
    // A task takes a token, a KV head and up to kMaxQueriesPerTask of its
    // query heads, which read the head's keys and values once; fewer where
    // that would leave threads idle (decode of few KV heads).
    const int64_t want = 4 * ctx.pool->size();
    int64_t perTask = std::min(group, kMaxQueriesPerTask);
    int64_t splits = (group + perTask - 1) / perTask;
    if (ctx.rows * kvHeads * splits < want) {
      splits = std::min(group, (want + ctx.rows * kvHeads - 1) /
                                   (ctx.rows * kvHeads));
      perTask = (group + splits - 1) / splits;
      splits = (group + perTask - 1) / perTask;
    }
    auto task = [&](int64_t index, int thread) {
      int64_t t = index / (kvHeads * splits), rest = index % (kvHeads * splits);
      int64_t g = rest / splits, h0 = rest % splits * perTask;
      attend(t, g, h0, std::min(group, h0 + perTask), first, last, *ctx.simd,
             ctx.scratch + thread * ctx.scratchStride);
    };
    int64_t tasks = ctx.rows * kvHeads * splits;
    // Short contexts are cheap per head: keep small decode steps on one thread.
    if (ctx.pool->size() == 1 ||
        ctx.rows * heads * (last + 1) * headDim < 32768) {
      for (int64_t i = 0; i < tasks; ++i)
        task(i, 0);
    } else {
      ctx.pool->run(tasks, task);
    }
    if (inFlight)
      append(ctx);
  }

private:
  /// In-flight keys and values of an int8 cache are attended to as the
  /// cache will give them back. The plan gives this kernel the only use of
  /// its k and v rows, so they are rounded in place.
  void roundTripRun(const RunContext &ctx) const {
    int64_t width = kvHeads * headDim;
    for (int64_t t = 0; t < ctx.rows; ++t)
      for (int64_t g = 0; g < kvHeads; ++g) {
        roundTripInt8(const_cast<float *>(k) + t * width + g * headDim,
                      headDim);
        roundTripInt8(const_cast<float *>(v) + t * width + g * headDim,
                      headDim);
      }
  }

  void append(const RunContext &ctx) const {
    appendKeysAndValues(cache, k, v, positions, ctx.rows, kvHeads, headDim);
  }

  /// Query heads [h0, h1) of KV head g's (heads g * group + h0, ...) of
  /// token t. `scratch` holds their scores, a row of up to `most` floats
  /// each, and two floats per head (makeAttention).
  void attend(int64_t t, int64_t g, int64_t h0, int64_t h1, int64_t first,
              int64_t last, const SimdKernels &simd, float *scratch) const {
    const int64_t count = h1 - h0;
    int64_t p = positions[t];
    int64_t hi = causal ? p : last;
    int64_t lo = 0;
    if (kind == schema::AttentionKind::Local)
      lo = std::max<int64_t>(0, p - window + 1);
    else if (kind == schema::AttentionKind::Chunked)
      lo = p / window * window;
    // What the cache still holds: the capacity before the run (in flight)
    // or up to hi (appended first).
    if (cache.ring)
      lo = std::max(lo, (inFlight ? first : hi + 1) - cache.capacity);
    const float *queries = q + (t * heads + g * group + h0) * headDim;
    float *results = out + (t * heads + g * group + h0) * headDim;
    std::fill(results, results + count * headDim, 0.0f);
    if (hi < lo)
      return;
    const int64_t n = hi - lo + 1;
    float *scores = scratch;                   // [count][n]
    float *maxima = scratch + count * n;       // [count]
    float *runMaxima = maxima + count;         // [count]
    // Positions [lo, cachedHi] come from the cache, (cachedHi, hi] from
    // this run's k and v rows.
    int64_t cachedHi = inFlight ? std::min(hi, first - 1) : hi;
    const int type = static_cast<int>(cache.type);
    const int64_t bytes = cache.int8 ? 1 : elementBytes(cache.type);
    const auto *keys = static_cast<const uint8_t *>(cache.keys);
    const auto *values = static_cast<const uint8_t *>(cache.values);
    // Cached positions occupy at most two runs of consecutive slots (a ring
    // cache wraps around once).
    auto forRuns = [&](auto &&fn) {
      for (int64_t j = lo; j <= cachedHi;) {
        int64_t slot = cache.slot(j);
        int64_t run = std::min(cachedHi - j + 1, cache.capacity - slot);
        fn(j - lo, slot, run);
        j += run;
      }
    };
    std::fill(maxima, maxima + count, -std::numeric_limits<float>::infinity());
    forRuns([&](int64_t at, int64_t slot, int64_t run) {
      size_t offset = cache.offset(g, 0, slot) * bytes;
      if (cache.int8) {
        for (int64_t i = 0; i < count; ++i)
          runMaxima[i] = scoresInt8(
              queries + i * headDim,
              reinterpret_cast<const int8_t *>(keys) + offset,
              cache.keyScales + g * cache.capacity + slot, cache.stride, run,
              headDim, scale, scores + i * n + at);
      } else {
        simd.scores[type](queries, count, keys + offset, cache.stride, run,
                          headDim, scale, scores + at, n, runMaxima);
      }
      for (int64_t i = 0; i < count; ++i)
        maxima[i] = std::max(maxima[i], runMaxima[i]);
    });
    int64_t width = kvHeads * headDim;
    for (int64_t i = 0; i < count; ++i) {
      const float *query = queries + i * headDim;
      float *row = scores + i * n;
      float max = maxima[i];
      for (int64_t j = std::max(lo, cachedHi + 1); j <= hi; ++j) {
        const float *key = k + (j - first) * width + g * headDim;
        float s = scale * simd.dot[static_cast<int>(ElementType::F32)](
                              query, key, headDim);
        row[j - lo] = s;
        max = std::max(max, s);
      }
      if (softcap > 0.0f) {
        // tanh is increasing: the capped maximum is the cap of the maximum.
        for (int64_t j = 0; j < n; ++j)
          row[j] = softcap * std::tanh(row[j] / softcap);
        max = softcap * std::tanh(max / softcap);
      }
      // The softmax's sum, kept where the maximum was.
      maxima[i] = 1.0f / simd.expSum(row, n, max);
    }
    forRuns([&](int64_t at, int64_t slot, int64_t run) {
      size_t offset = cache.offset(g, 0, slot) * bytes;
      if (cache.int8) {
        for (int64_t i = 0; i < count; ++i)
          mixInt8(scores + i * n + at,
                  reinterpret_cast<const int8_t *>(values) + offset,
                  cache.valueScales + g * cache.capacity + slot, cache.stride,
                  run, headDim, results + i * headDim);
      } else {
        simd.mix[type](scores + at, count, n, values + offset, cache.stride,
                       run, headDim, results);
      }
    });
    for (int64_t i = 0; i < count; ++i) {
      float *result = results + i * headDim;
      for (int64_t j = std::max(lo, cachedHi + 1); j <= hi; ++j)
        simd.axpy[static_cast<int>(ElementType::F32)](
            scores[i * n + j - lo], v + (j - first) * width + g * headDim,
            result, headDim);
      const float inv = maxima[i];
      for (int64_t d = 0; d < headDim; ++d)
        result[d] *= inv;
    }
  }

  const float *q, *k, *v;
  const int32_t *positions;
  float *out;
  Cache &cache;
  bool writes, inFlight;
  int64_t heads, kvHeads, headDim, group, window;
  schema::AttentionKind kind;
  float scale, softcap;
  bool causal;
};

} // namespace

std::unique_ptr<KernelInstance> makeKvAppend(const float *k, const float *v,
                                             const int32_t *positions,
                                             Cache &cache) {
  return std::make_unique<KvAppend>(k, v, positions, cache);
}

std::unique_ptr<KernelInstance>
makeAttention(const schema::AttentionSpec &spec, const float *q, const float *k,
              const float *v, const int32_t *positions, float *out,
              Cache &reads, bool writes, int64_t *scratchFloats) {
  // Scores of one query: at most the cache's capacity, plus a run's own
  // positions when they are attended to in flight; a row for each query
  // head of a task, and two floats each for their maxima.
  int64_t most = reads.capacity;
  if (writes && reads.ring)
    most += spec.window();
  const int64_t queries =
      std::min<int64_t>(spec.heads() / spec.kv_heads(), kMaxQueriesPerTask);
  *scratchFloats = std::max(*scratchFloats, queries * (most + 2));
  return std::make_unique<Attention>(spec, q, k, v, positions, out, reads,
                                     writes);
}

} // namespace fmc::cpu
