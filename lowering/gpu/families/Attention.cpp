//===- Attention.cpp - plan.attention on the GPU --------------------------===//
//
// Computes what runtime/cpu/Attention.cpp computes. A program of one row
// (@decode) takes the flash-decoding path (AttentionDecode.cpp); a program
// of many rows runs up to five dispatches of kernels/attention.mlir:
//   - a linear cache's writer appends this run's keys and values first
//     (kv_append, once for keys and once for values), then attends;
//   - a ring cache's writer attends to this run's own positions from its k
//     and v rows ("in flight", rounded first through int8 when the cache is
//     int8: kv_round_trip) and to earlier ones from the cache, then appends;
//   - a reader (KV sharing) only attends.
// The GPU layout of a cache's bytes is GpuCacheLayout's (AttentionCache.h).
//
//===----------------------------------------------------------------------===//

#include "lowering/gpu/families/AttentionCache.h"
#include "dialects/plan/IR/PlanDispatch.h"
#include "lowering/gpu/families/Families.h"

namespace fmc::gpu {

llvm::Error lowerAttention(mlir::Operation *kernel, LaunchBuilder &b) {
  if (b.maxTokens() == 1) {
    // An unknown cache is reported by lowerDecodeAttention.
    mlir::fm::KVCacheOp cache =
        b.cacheOp(llvm::cast<mlir::plan::AttentionOp>(kernel).getReadsAttr());
    return lowerDecodeAttention(
        kernel, b, cache ? mlir::plan::defaultDecodeAttentionSplits(cache) : 1);
  }
  llvm::Expected<AttentionInstance> a = AttentionInstance::of(kernel, b);
  if (!a)
    return a.takeError();
  mlir::plan::AttentionOp op = a->op;
  bool inFlight = a->writes && a->ring;
  int64_t wg = workgroupFor(a->headDim);
  uint32_t rows = static_cast<uint32_t>(b.maxTokens());
  std::array<uint32_t, 3> workgroup = {static_cast<uint32_t>(wg), 1, 1};

  if (inFlight && a->layout.element == CacheElement::Int8)
    for (mlir::Value src : {op.getK(), op.getV()})
      if (llvm::Error error = b.dispatch(
              "kv_round_trip", {a->kvHeads, a->headDim, b.rowsSlot(), wg},
              workgroup, {rows, static_cast<uint32_t>(a->kvHeads), 1},
              {b.buffer(src), b.run()}))
        return error;
  if (a->writes && !inFlight)
    if (llvm::Error error = appendRows(*a, b))
      return error;

  // A reader has no k and v: the query buffer stands in (never read).
  Binding q = b.buffer(op.getQ());
  Binding k = a->writes ? b.buffer(op.getK()) : q;
  Binding v = a->writes ? b.buffer(op.getV()) : q;
  if (llvm::Error error = b.dispatch(
          "attention",
          {a->heads, a->kvHeads, a->headDim, a->capacity, int64_t(a->ring),
           int64_t(inFlight), a->kind, a->window, int64_t(op.getCausal()),
           a->scale, a->softcap, static_cast<int64_t>(a->layout.element),
           a->layout.valuesBase, a->layout.keyScales, a->layout.valueScales,
           a->layout.rowWords, a->layout.slotWords, b.rowsSlot(), wg},
          workgroup, {rows, static_cast<uint32_t>(a->heads), 1},
          {q, k, v, b.buffer(op.getPositions()), b.cache(op.getReadsAttr()),
           b.buffer(op.getOutput()), b.run()}))
    return error;

  if (inFlight)
    return appendRows(*a, b);
  return llvm::Error::success();
}

} // namespace fmc::gpu
