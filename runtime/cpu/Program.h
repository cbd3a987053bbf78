//===- Program.h - a dispatch program bound to CPU memory -----------------===//
//
// At load, every kernel of the artifact's programs becomes a KernelInstance
// with its pointers resolved (arena buffers, weights, caches) and its
// specialization unpacked, so running a program is a loop of virtual calls
// with no lookups and no allocation.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_RUNTIME_CPU_PROGRAM_H
#define FMC_RUNTIME_CPU_PROGRAM_H

#include "runtime/Artifact.h"
#include "runtime/Collective.h"
#include "runtime/cpu/Kernels.h"
#include "runtime/cpu/ThreadPool.h"

#include "absl/status/statusor.h"

#include <algorithm>
#include <memory>
#include <vector>

namespace fmc::cpu {

/// One KV cache: keys and values as [kv_heads][head_dim][stride] each, of
/// which the first `capacity` slots of a row are used (feature-major), so a
/// query's scores over consecutive positions are
/// head_dim vector multiply-adds across positions, with no horizontal sums,
/// however small head_dim is.
struct Cache {
  bool ring = false;
  int64_t capacity = 0;
  /// Elements from one feature's row of slots to the next: the capacity
  /// padded (cacheRowStride).
  int64_t stride = 0;
  int64_t kvHeads = 0;
  int64_t headDim = 0;
  ElementType type = ElementType::F32;
  void *keys = nullptr;
  void *values = nullptr;
  /// int8 caches (Int8Cache.h): keys and values are int8 elements (`type`
  /// unused) with one f32 scale per head and position each, [kv_heads]
  /// [capacity].
  bool int8 = false;
  float *keyScales = nullptr;
  float *valueScales = nullptr;

  int64_t slot(int64_t position) const {
    return ring ? position % capacity : position;
  }
  /// Element index of feature `feature` of `head` at `slot`.
  size_t offset(int64_t head, int64_t feature, int64_t slot) const {
    return (static_cast<size_t>(head) * headDim + feature) * stride + slot;
  }
};

/// What a kernel needs to know about the run it is part of.
struct RunContext {
  int64_t rows;             ///< Tokens in this run.
  const int32_t *positions; ///< Their positions, rows entries.
  int64_t logitsFrom;       ///< First row whose logits are wanted.
  ThreadPool *pool;
  const SimdKernels *simd;
  float *scratch; ///< scratchStride floats per thread.
  int64_t scratchStride;
};

/// Tokens [0, tokens) in blocks of `size` for a product's tasks, the last
/// block taking the rest rather than a short block of its own: a prefill
/// kernel picks its method (and so its bits) by the tokens it is given, and
/// a token's bits must not depend on the thread count.
struct TokenBlocks {
  int64_t tokens, size, count;
  TokenBlocks(int64_t tokens, int64_t size)
      : tokens(tokens), size(size),
        count(tokens > 0 ? std::max<int64_t>(1, tokens / size) : 0) {}
  int64_t begin(int64_t block) const { return block * size; }
  int64_t end(int64_t block) const {
    return block == count - 1 ? tokens : (block + 1) * size;
  }
};

/// y[t0..t1) = x W^T (+ bias) for a float weight of n rows, split over the
/// run's threads (output rows and token blocks) so that no token's bits
/// depend on the thread count: every float product's one way of running.
void runLinear(const RunContext &ctx, const LinearArgs &args, ElementType type,
               int64_t n, int64_t t0, int64_t t1);

class KernelInstance {
public:
  virtual ~KernelInstance() = default;
  virtual void run(const RunContext &ctx) const = 0;
};

/// The cpu device's state that kernels point into.
struct Memory {
  const Artifact *artifact;
  uint8_t *arena;
  std::vector<Cache> caches;
  /// Biases converted to f32 at load (kernels add them per output).
  std::vector<std::vector<float>> biases;
  /// The other ranks of a track-parallel part (null for a whole model), and
  /// the first failure of an all-reduce in the current run: a kernel cannot
  /// return one, so the device reads it after the run.
  Collective *collective = nullptr;
  absl::Status collectiveError;
};

struct Program {
  /// One instance per kernel of the artifact's program, in its order.
  std::vector<std::unique_ptr<KernelInstance>> kernels;
  int32_t *tokens = nullptr;
  int32_t *positions = nullptr;
  float *logits = nullptr;
  int64_t maxTokens = 0;
  /// The first kernel that runs on the last row only (after a last_row
  /// kernel; -1 when every kernel runs on every row). The logits then hold
  /// one row, the last position's.
  int64_t lastRowFrom = -1;
  /// Floats of per-thread scratch its kernels need.
  int64_t scratchFloats = 0;
};

/// Binds a validated program to `memory`.
absl::StatusOr<Program> bindProgram(const schema::Program &program,
                                    Memory &memory);

/// The KV-cache append kernel (Attention.cpp).
std::unique_ptr<KernelInstance> makeKvAppend(const float *k, const float *v,
                                             const int32_t *positions,
                                             Cache &cache);

/// The attention kernel (Attention.cpp).
std::unique_ptr<KernelInstance>
makeAttention(const schema::AttentionSpec &spec, const float *q, const float *k,
              const float *v, const int32_t *positions, float *out,
              Cache &reads, bool writes, int64_t *scratchFloats);

} // namespace fmc::cpu

#endif // FMC_RUNTIME_CPU_PROGRAM_H
