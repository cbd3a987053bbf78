//===- CacheLayout.h - a KV cache's bytes as the GPU kernels lay them out -===//
//
// The one definition of where keys, values and int8 scales of a cache lie
// in its binding, shared by every kernel that appends to or attends over a
// cache (kv_append, the attention kernels, the fused append of a matvec).
//
//===----------------------------------------------------------------------===//

#ifndef FMC_LOWERING_GPU_FAMILIES_CACHELAYOUT_H
#define FMC_LOWERING_GPU_FAMILIES_CACHELAYOUT_H

#include "dialects/fm/IR/FmOps.h"

#include "llvm/ADT/Twine.h"
#include "llvm/Support/Error.h"

#include <cstdint>

namespace fmc::gpu {

/// Element kinds as the templates number them (`elem`).
enum class CacheElement : int64_t { F32 = 0, F16 = 1, Int8 = 2, BF16 = 3 };

/// A KV cache's bytes on the GPU (KVCache.bytes of the artifact), read by the
/// kernels as 32-bit words:
///   [keys]          capacity x kv_heads rows of head_dim elements,
///                   slot-major: row (slot, head) at (slot*kv_heads + head)
///                   * rowWords words;
///   [values]        the same;
///   [key scales]    int8 only: capacity x kv_heads f32, (slot, head) at
///                   slot*kv_heads + head;
///   [value scales]  int8 only: the same.
/// A (slot, head) row is whole words: head_dim is even for 16-bit elements
/// and a multiple of 4 for int8. Its size equals the artifact writer's
/// cacheBytes (capacity * bytes per position + scales).
struct GpuCacheLayout {
  CacheElement element = CacheElement::F32;
  int64_t rowWords = 0;
  int64_t valuesBase = 0;
  int64_t keyScales = 0;
  int64_t valueScales = 0;

  static llvm::Expected<GpuCacheLayout> of(mlir::fm::KVCacheOp cache) {
    GpuCacheLayout layout;
    mlir::Type type = cache.getElementType();
    int64_t bytes = 4;
    if (type.isF16()) {
      layout.element = CacheElement::F16;
      bytes = 2;
    } else if (type.isBF16()) {
      layout.element = CacheElement::BF16;
      bytes = 2;
    } else if (type.isInteger(8)) {
      layout.element = CacheElement::Int8;
      bytes = 1;
    }
    int64_t headDim = cache.getHeadDim();
    if (headDim * bytes % 4 != 0)
      return llvm::createStringError(
          "KV cache '" + cache.getSymName() + "' has head_dim " +
          llvm::Twine(headDim) +
          ": the GPU kernels need each head's row of cached elements to be "
          "whole 32-bit words (head_dim even for f16/bf16, a multiple of 4 "
          "for i8)");
    int64_t rows = cache.getCapacity() * cache.getNumKvHeads();
    layout.rowWords = headDim * bytes / 4;
    layout.valuesBase = rows * layout.rowWords;
    layout.keyScales = 2 * rows * layout.rowWords;
    layout.valueScales = layout.keyScales + rows;
    return layout;
  }
};

} // namespace fmc::gpu

#endif // FMC_LOWERING_GPU_FAMILIES_CACHELAYOUT_H
