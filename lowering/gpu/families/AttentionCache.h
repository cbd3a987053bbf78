//===- AttentionCache.h - what the attention lowerings share --------------===//
//
// plan.attention has two GPU lowerings: Attention.cpp for programs of many
// rows (kernels/attention.mlir) and AttentionDecode.cpp for programs of one
// row (kernels/attention_decode.mlir). Both read the cache in one layout,
// GpuCacheLayout (the only place that defines it), check a kernel the same
// way and append rows with the same kv_append dispatches.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_LOWERING_GPU_FAMILIES_ATTENTIONCACHE_H
#define FMC_LOWERING_GPU_FAMILIES_ATTENTIONCACHE_H

#include "lowering/gpu/LaunchBuilder.h"

#include "dialects/plan/IR/PlanOps.h"

#include "llvm/Support/Error.h"

#include <cstdint>

namespace fmc::gpu {

/// Element kinds as the templates number them (`elem`).
enum class CacheElement : int64_t { F32 = 0, F16 = 1, Int8 = 2, BF16 = 3 };

/// A KV cache's bytes on the GPU (KVCache.bytes of the artifact), read by the
/// kernels as 32-bit words, slot-major: slot s (a position, or a position
/// mod capacity for a ring) is the `slotWords` words at s * slotWords,
///   [keys]          kv_heads rows of head_dim elements, head g's at
///                   g * rowWords;
///   [values]        the same, from valuesBase;
///   [key scales]    int8 only: kv_heads f32, from keyScales;
///   [value scales]  int8 only: the same, from valueScales.
/// A cache of n positions is then the first n slots: a device sizes a
/// linear cache to the context it was opened with (runtime cacheBytes), and
/// `capacity` only bounds slots and wraps a ring. A (slot, head) row is
/// whole words: head_dim is even for 16-bit elements and a multiple of 4
/// for int8. capacity slots are the artifact writer's cacheBytes (capacity
/// * bytes per position + scales).
struct GpuCacheLayout {
  CacheElement element = CacheElement::F32;
  /// Words of one (slot, head) row.
  int64_t rowWords = 0;
  /// Words of one slot; the offsets below are within a slot.
  int64_t slotWords = 0;
  int64_t valuesBase = 0;
  int64_t keyScales = 0;
  int64_t valueScales = 0;

  static llvm::Expected<GpuCacheLayout> of(mlir::fm::KVCacheOp cache);
};

/// A plan.attention as both lowerings see it, checked: it attends over the
/// cache it writes (if it writes), heads of at most kMaxHeadDim features, a
/// cache the kernels can lay out, a positive window unless global.
struct AttentionInstance {
  static constexpr int64_t kMaxHeadDim = 256;

  mlir::plan::AttentionOp op;
  mlir::fm::KVCacheOp cache;
  GpuCacheLayout layout;
  int64_t heads = 0, kvHeads = 0, headDim = 0, capacity = 0;
  bool writes = false, ring = false;
  /// The templates' codes: 0 global, 1 local (sliding window), 2 chunked;
  /// the window is 1 for global attention (unused).
  int64_t kind = 0, window = 1;
  double scale = 1.0, softcap = 0.0;

  static llvm::Expected<AttentionInstance> of(mlir::Operation *kernel,
                                              LaunchBuilder &builder);
  llvm::StringRef cacheName() const {
    return mlir::plan::AttentionOp(op).getReadsAttr().getValue();
  }
};

/// How the prefill attention kernel (attention.mlir's `attention`) cuts its
/// work: `tileRows` query rows times `block` query heads of one KV head's
/// group a workgroup, `tile` positions a tile, `wg` threads (one per 4
/// output features of a query), for a program of `rows` rows at most. Fits
/// the kernel's workgroup memory for any group and head_dim up to
/// AttentionInstance::kMaxHeadDim.
struct PrefillAttentionShape {
  int64_t block = 1;
  int64_t tileRows = 1;
  int64_t tile = 1;
  int64_t wg = 64;
};
PrefillAttentionShape prefillAttentionShape(int64_t group, int64_t headDim,
                                            int64_t rows);

/// The smallest workgroup (a multiple of 64, so of every subgroup width)
/// with a thread per feature of a head.
int64_t workgroupFor(int64_t headDim);

/// Writes rows of `k` and `v` at `positions` into `cache` (kv_append, once
/// for keys and once for values; grid (rows, kv_heads)).
llvm::Error dispatchKvAppend(LaunchBuilder &builder, mlir::Value k,
                             mlir::Value v, mlir::Value positions,
                             mlir::FlatSymbolRefAttr cache);
/// The same for an attention's own k and v rows.
llvm::Error appendRows(const AttentionInstance &attention,
                       LaunchBuilder &builder);

} // namespace fmc::gpu

#endif // FMC_LOWERING_GPU_FAMILIES_ATTENTIONCACHE_H
