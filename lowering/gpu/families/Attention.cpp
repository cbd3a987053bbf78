//===- Attention.cpp - plan.attention on the GPU --------------------------===//
//
// Computes what runtime/cpu/Attention.cpp computes, in up to five
// dispatches of kernels/attention.mlir:
//   - a linear cache's writer appends this run's keys and values first
//     (kv_append, once for keys and once for values), then attends;
//   - a ring cache's writer attends to this run's own positions from its k
//     and v rows ("in flight", rounded first through int8 when the cache is
//     int8: kv_round_trip) and to earlier ones from the cache, then appends;
//   - a reader (KV sharing) only attends.
// The GPU layout of a cache's bytes is GpuCacheLayout's, below; it is the
// only place that defines it.
//
//===----------------------------------------------------------------------===//

#include "lowering/gpu/families/Families.h"

#include "dialects/plan/IR/PlanOps.h"

#include "llvm/ADT/Twine.h"

namespace fmc::gpu {

namespace {

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

/// The smallest workgroup (a multiple of 64, so of every subgroup width)
/// with a thread per feature of a head.
int64_t workgroupFor(int64_t headDim) {
  return headDim <= 64 ? 64 : headDim <= 128 ? 128 : 256;
}

constexpr int64_t kMaxHeadDim = 256;

} // namespace

llvm::Error lowerAttention(mlir::Operation *kernel, LaunchBuilder &b) {
  auto op = llvm::cast<mlir::plan::AttentionOp>(kernel);
  mlir::fm::KVCacheOp cache = b.cacheOp(op.getReadsAttr());
  if (op.getWritesAttr() && op.getWritesAttr() != op.getReadsAttr())
    return llvm::createStringError(
        "attention writes KV cache '" + op.getWritesAttr().getValue() +
        "' but reads '" + op.getReadsAttr().getValue() +
        "': the GPU kernels attend over the cache they write");
  int64_t heads = op.getNumHeads(), kvHeads = op.getNumKvHeads();
  int64_t headDim = op.getHeadDim();
  if (headDim > kMaxHeadDim)
    return llvm::createStringError(
        "attention over KV cache '" + op.getReadsAttr().getValue() +
        "' has head_dim " + llvm::Twine(headDim) +
        ": the GPU kernels support head_dim up to " +
        llvm::Twine(kMaxHeadDim));
  llvm::Expected<GpuCacheLayout> layout = GpuCacheLayout::of(cache);
  if (!layout)
    return layout.takeError();

  bool writes = static_cast<bool>(op.getWritesAttr());
  bool ring = cache.getKind() == mlir::fm::CacheKind::ring;
  bool inFlight = writes && ring;
  bool int8 = layout->element == CacheElement::Int8;
  int64_t capacity = cache.getCapacity();
  int64_t wg = workgroupFor(headDim);
  uint32_t rows = static_cast<uint32_t>(b.maxTokens());
  std::array<uint32_t, 3> workgroup = {static_cast<uint32_t>(wg), 1, 1};
  std::array<uint32_t, 3> perKvHead = {rows, static_cast<uint32_t>(kvHeads),
                                       1};

  Binding positions = b.buffer(op.getPositions());
  Binding cacheBinding = b.cache(op.getReadsAttr());
  auto append = [&]() -> llvm::Error {
    for (auto [src, base, scales] :
         {std::tuple(op.getK(), int64_t(0), layout->keyScales),
          std::tuple(op.getV(), layout->valuesBase, layout->valueScales)})
      if (llvm::Error error = b.dispatch(
              "kv_append",
              {kvHeads, headDim, capacity, int64_t(ring),
               static_cast<int64_t>(layout->element), base, scales,
               layout->rowWords, b.rowsSlot(), wg},
              workgroup, perKvHead,
              {b.buffer(src), positions, cacheBinding, b.run()}))
        return error;
    return llvm::Error::success();
  };

  if (inFlight && int8)
    for (mlir::Value src : {op.getK(), op.getV()})
      if (llvm::Error error =
              b.dispatch("kv_round_trip", {kvHeads, headDim, b.rowsSlot(), wg},
                         workgroup, perKvHead, {b.buffer(src), b.run()}))
        return error;
  if (writes && !inFlight)
    if (llvm::Error error = append())
      return error;

  int64_t kind = 0, window = 1;
  if (op.getKind() == mlir::fm::AttentionKind::local)
    kind = 1;
  else if (op.getKind() == mlir::fm::AttentionKind::chunked)
    kind = 2;
  if (kind != 0) {
    window = op.getWindow().value_or(0);
    if (window <= 0)
      return llvm::createStringError(
          "windowed attention over KV cache '" + op.getReadsAttr().getValue() +
          "' has no positive window");
  }
  double softcap = op.getSoftcapAttr() ? op.getSoftcapAttr().getValueAsDouble()
                                       : 0.0;
  // A reader has no k and v: the query buffer stands in (never read).
  Binding q = b.buffer(op.getQ());
  Binding k = writes ? b.buffer(op.getK()) : q;
  Binding v = writes ? b.buffer(op.getV()) : q;
  if (llvm::Error error = b.dispatch(
          "attention",
          {heads, kvHeads, headDim, capacity, int64_t(ring), int64_t(inFlight),
           kind, window, int64_t(op.getCausal()),
           op.getScaleAttr().getValueAsDouble(), softcap,
           static_cast<int64_t>(layout->element), layout->valuesBase,
           layout->keyScales, layout->valueScales, layout->rowWords,
           b.rowsSlot(), wg},
          workgroup, {rows, static_cast<uint32_t>(heads), 1},
          {q, k, v, positions, cacheBinding, b.buffer(op.getOutput()),
           b.run()}))
    return error;

  if (inFlight)
    return append();
  return llvm::Error::success();
}

} // namespace fmc::gpu
