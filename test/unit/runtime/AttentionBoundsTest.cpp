//===- AttentionBoundsTest.cpp - the cpu attention kernels' bound check ---===//
//
// Issue 14: the cpu attention used positions[t] as the cache slot without a
// check, so an artifact that fed it token ids wrote past the cache. The
// validator now rejects such artifacts; these tests call the kernels
// directly, as a validator bug would, and check that positions outside the
// cache write nothing outside it (guard floats on both sides) while the
// same kernels still write and read the cache for valid positions.
//
//===----------------------------------------------------------------------===//

#include "runtime/cpu/Kernels.h"
#include "runtime/cpu/Program.h"
#include "runtime/cpu/ThreadPool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace fmc::cpu {
namespace {

constexpr int64_t kCapacity = 8, kHeadDim = 4, kHeads = 2, kGuard = 256;
/// Rows of slots padded as the cpu backend pads them (cacheRowStride).
constexpr int64_t kStride = kCapacity + 4;
constexpr float kSentinel = -12345.0f;

/// A linear f32 cache of one KV head with kGuard sentinel floats before and
/// after its keys and values, and sentinels in each row's padding: no
/// kernel may write them, and a kernel that read them would attend to
/// -12345.
struct GuardedCache {
  std::vector<float> keys, values;
  Cache cache;
  GuardedCache()
      : keys(kStride * kHeadDim + 2 * kGuard, kSentinel),
        values(kStride * kHeadDim + 2 * kGuard, kSentinel) {
    for (std::vector<float> *v : {&keys, &values})
      for (int64_t d = 0; d < kHeadDim; ++d)
        std::fill_n(v->begin() + kGuard + d * kStride, kCapacity, 0.0f);
    cache.capacity = kCapacity;
    cache.stride = kStride;
    cache.kvHeads = 1;
    cache.headDim = kHeadDim;
    cache.keys = keys.data() + kGuard;
    cache.values = values.data() + kGuard;
  }
  bool guardsIntact() const {
    for (const std::vector<float> *v : {&keys, &values}) {
      for (int64_t i = 0; i < kGuard; ++i)
        if ((*v)[i] != kSentinel || (*v)[v->size() - 1 - i] != kSentinel)
          return false;
      for (int64_t d = 0; d < kHeadDim; ++d)
        for (int64_t slot = kCapacity; slot < kStride; ++slot)
          if ((*v)[kGuard + d * kStride + slot] != kSentinel)
            return false;
    }
    return true;
  }
  /// Key feature `d` at `slot` (the cache is feature-major).
  float key(int64_t d, int64_t slot) const {
    return keys[kGuard + d * kStride + slot];
  }
};

struct KernelRun {
  ThreadPool pool{1};
  std::vector<float> scratch;
  RunContext context(const int32_t *positions, int64_t rows,
                     int64_t scratchFloats) {
    scratch.assign(std::max<int64_t>(scratchFloats, 1), 0.0f);
    return {rows, positions, 0, &pool, &bestKernels(), scratch.data(),
            scratchFloats};
  }
};

const schema::AttentionSpec &globalSpec(flatbuffers::FlatBufferBuilder &fbb) {
  fbb.Finish(schema::CreateAttentionSpec(
      fbb, schema::AttentionKind::Global, 0, 0, kHeads, 1, kHeadDim, 0,
      1.0f / std::sqrt(static_cast<float>(kHeadDim)), 0.0f, true));
  return *flatbuffers::GetRoot<schema::AttentionSpec>(fbb.GetBufferPointer());
}

TEST(AttentionBounds, AWriterAtAPositionPastTheCacheWritesNothing) {
  flatbuffers::FlatBufferBuilder fbb;
  const schema::AttentionSpec &spec = globalSpec(fbb);
  GuardedCache guarded;
  std::vector<float> q(kHeads * kHeadDim, 1.0f), k = {1, 2, 3, 4},
                     v = {5, 6, 7, 8}, out(kHeads * kHeadDim, 9.0f);
  int64_t scratch = 0;
  KernelRun run;
  for (int32_t position : {3, 100, 1 << 30, -1}) {
    SCOPED_TRACE(position);
    std::unique_ptr<KernelInstance> attention =
        makeAttention(spec, q.data(), k.data(), v.data(), &position,
                      out.data(), guarded.cache, /*writes=*/true, &scratch);
    attention->run(run.context(&position, 1, scratch));
    EXPECT_TRUE(guarded.guardsIntact());
    if (position == 3) {
      // The control: a valid position is written and attended to beside
      // the three empty (zero) slots before it: scores 0, 0, 0 and
      // q.k / sqrt(4) = 5.
      EXPECT_EQ(guarded.key(2, 3), 3.0f);
      double weight = std::exp(5.0) / (3.0 + std::exp(5.0));
      EXPECT_NEAR(out[1], 6.0 * weight, 1e-5);
    } else {
      for (float x : out)
        EXPECT_EQ(x, 0.0f);
    }
  }
}

TEST(AttentionBounds, AnAppendPastTheCacheWritesNothing) {
  GuardedCache guarded;
  std::vector<float> k = {1, 2, 3, 4, 5, 6, 7, 8},
                     v = {1, 2, 3, 4, 5, 6, 7, 8};
  KernelRun run;
  // Rows at 6 and 7 fit; 7 and 8 do not; positions that are not
  // consecutive (what the runtime never writes) do not either.
  int32_t fits[] = {6, 7}, past[] = {7, 8}, scattered[] = {0, 5000};
  for (int32_t *positions : {fits, past, scattered}) {
    SCOPED_TRACE(positions[0]);
    std::unique_ptr<KernelInstance> append =
        makeKvAppend(k.data(), v.data(), positions, guarded.cache);
    append->run(run.context(positions, 2, 0));
    EXPECT_TRUE(guarded.guardsIntact());
  }
  EXPECT_EQ(guarded.key(0, 6), 1.0f);
  EXPECT_EQ(guarded.key(0, 7), 5.0f);
  EXPECT_EQ(guarded.key(0, 0), 0.0f); // The scattered rows wrote nothing.
}

} // namespace
} // namespace fmc::cpu
