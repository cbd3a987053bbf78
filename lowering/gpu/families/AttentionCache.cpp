//===- AttentionCache.cpp - what the attention lowerings share ------------===//

#include "lowering/gpu/families/AttentionCache.h"

#include "llvm/ADT/Twine.h"

#include <tuple>

namespace fmc::gpu {

llvm::Expected<GpuCacheLayout> GpuCacheLayout::of(mlir::fm::KVCacheOp cache) {
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
  int64_t kvHeads = cache.getNumKvHeads();
  layout.rowWords = headDim * bytes / 4;
  layout.valuesBase = kvHeads * layout.rowWords;
  layout.keyScales = 2 * kvHeads * layout.rowWords;
  layout.valueScales = layout.keyScales + kvHeads;
  layout.slotWords =
      layout.keyScales +
      (layout.element == CacheElement::Int8 ? 2 * kvHeads : 0);
  return layout;
}

llvm::Expected<AttentionInstance> AttentionInstance::of(mlir::Operation *kernel,
                                                        LaunchBuilder &b) {
  AttentionInstance a;
  a.op = llvm::cast<mlir::plan::AttentionOp>(kernel);
  a.cache = b.cacheOp(a.op.getReadsAttr());
  if (!a.cache)
    return llvm::createStringError("attention reads '" + a.cacheName() +
                                   "', which is not a KV cache");
  if (a.op.getWritesAttr() && a.op.getWritesAttr() != a.op.getReadsAttr())
    return llvm::createStringError(
        "attention writes KV cache '" + a.op.getWritesAttr().getValue() +
        "' but reads '" + a.cacheName() +
        "': the GPU kernels attend over the cache they write");
  a.heads = a.op.getNumHeads();
  a.kvHeads = a.op.getNumKvHeads();
  a.headDim = a.op.getHeadDim();
  if (a.headDim > kMaxHeadDim)
    return llvm::createStringError("attention over KV cache '" + a.cacheName() +
                                   "' has head_dim " + llvm::Twine(a.headDim) +
                                   ": the GPU kernels support head_dim up to " +
                                   llvm::Twine(kMaxHeadDim));
  llvm::Expected<GpuCacheLayout> layout = GpuCacheLayout::of(a.cache);
  if (!layout)
    return layout.takeError();
  a.layout = *layout;
  a.capacity = a.cache.getCapacity();
  a.writes = static_cast<bool>(a.op.getWritesAttr());
  a.ring = a.cache.getKind() == mlir::fm::CacheKind::ring;
  if (a.op.getKind() == mlir::fm::AttentionKind::local)
    a.kind = 1;
  else if (a.op.getKind() == mlir::fm::AttentionKind::chunked)
    a.kind = 2;
  if (a.kind != 0) {
    a.window = a.op.getWindow().value_or(0);
    if (a.window <= 0)
      return llvm::createStringError("windowed attention over KV cache '" +
                                     a.cacheName() +
                                     "' has no positive window");
  }
  a.scale = a.op.getScaleAttr().getValueAsDouble();
  if (a.op.getSoftcapAttr())
    a.softcap = a.op.getSoftcapAttr().getValueAsDouble();
  return a;
}

int64_t workgroupFor(int64_t headDim) {
  return headDim <= 64 ? 64 : headDim <= 128 ? 128 : 256;
}

llvm::Error dispatchKvAppend(LaunchBuilder &b, mlir::Value k, mlir::Value v,
                             mlir::Value positions,
                             mlir::FlatSymbolRefAttr cacheRef) {
  mlir::fm::KVCacheOp cache = b.cacheOp(cacheRef);
  if (!cache)
    return llvm::createStringError("kv_append writes '" + cacheRef.getValue() +
                                   "', which is not a KV cache");
  llvm::Expected<GpuCacheLayout> layout = GpuCacheLayout::of(cache);
  if (!layout)
    return layout.takeError();
  int64_t kvHeads = cache.getNumKvHeads(), headDim = cache.getHeadDim();
  int64_t wg = workgroupFor(headDim);
  bool ring = cache.getKind() == mlir::fm::CacheKind::ring;
  for (auto [src, base, scales] :
       {std::tuple(k, int64_t(0), layout->keyScales),
        std::tuple(v, layout->valuesBase, layout->valueScales)})
    if (llvm::Error error = b.dispatch(
            "kv_append",
            {kvHeads, headDim, static_cast<int64_t>(cache.getCapacity()),
             int64_t(ring), static_cast<int64_t>(layout->element), base,
             scales, layout->rowWords, layout->slotWords, b.rowsSlot(), wg},
            {static_cast<uint32_t>(wg), 1, 1},
            {static_cast<uint32_t>(b.maxTokens()),
             static_cast<uint32_t>(kvHeads), 1},
            {b.buffer(src), b.buffer(positions), b.cache(cacheRef), b.run()}))
      return error;
  return llvm::Error::success();
}

llvm::Error appendRows(const AttentionInstance &a, LaunchBuilder &b) {
  mlir::plan::AttentionOp op = a.op;
  return dispatchKvAppend(b, op.getK(), op.getV(), op.getPositions(),
                          op.getReadsAttr());
}

} // namespace fmc::gpu
