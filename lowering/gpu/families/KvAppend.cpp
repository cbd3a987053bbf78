//===- KvAppend.cpp - plan.kv_append on the GPU ---------------------------===//
//
// kernels/attention.mlir's kv_append, once for the keys and once for the
// values, into the cache laid out as CacheLayout.h says.
//
//===----------------------------------------------------------------------===//

#include "lowering/gpu/families/CacheLayout.h"
#include "lowering/gpu/families/Families.h"

#include "dialects/plan/IR/PlanOps.h"

namespace fmc::gpu {

int64_t attentionWorkgroupFor(int64_t headDim) {
  return headDim <= 64 ? 64 : headDim <= 128 ? 128 : 256;
}

llvm::Error dispatchKvAppend(LaunchBuilder &b, mlir::Value k, mlir::Value v,
                             mlir::Value positions,
                             mlir::FlatSymbolRefAttr cacheRef) {
  mlir::fm::KVCacheOp cache = b.cacheOp(cacheRef);
  llvm::Expected<GpuCacheLayout> layout = GpuCacheLayout::of(cache);
  if (!layout)
    return layout.takeError();
  int64_t kvHeads = cache.getNumKvHeads(), headDim = cache.getHeadDim();
  int64_t wg = attentionWorkgroupFor(headDim);
  bool ring = cache.getKind() == mlir::fm::CacheKind::ring;
  std::array<uint32_t, 3> workgroup = {static_cast<uint32_t>(wg), 1, 1};
  std::array<uint32_t, 3> perKvHead = {static_cast<uint32_t>(b.maxTokens()),
                                       static_cast<uint32_t>(kvHeads), 1};
  for (auto [src, base, scales] :
       {std::tuple(k, int64_t(0), layout->keyScales),
        std::tuple(v, layout->valuesBase, layout->valueScales)})
    if (llvm::Error error = b.dispatch(
            "kv_append",
            {kvHeads, headDim, static_cast<int64_t>(cache.getCapacity()),
             int64_t(ring), static_cast<int64_t>(layout->element), base,
             scales, layout->rowWords, b.rowsSlot(), wg},
            workgroup, perKvHead,
            {b.buffer(src), b.buffer(positions), b.cache(cacheRef), b.run()}))
      return error;
  return llvm::Error::success();
}

llvm::Error lowerKvAppend(mlir::Operation *kernel, LaunchBuilder &b) {
  auto op = llvm::cast<mlir::plan::KVAppendOp>(kernel);
  return dispatchKvAppend(b, op.getK(), op.getV(), op.getPositions(),
                          op.getCacheAttr());
}

} // namespace fmc::gpu
