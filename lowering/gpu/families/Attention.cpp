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

#include "lowering/gpu/families/CacheLayout.h"
#include "lowering/gpu/families/Families.h"

#include "dialects/plan/IR/PlanOps.h"

#include "llvm/ADT/Twine.h"

namespace fmc::gpu {

namespace {

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
  int64_t wg = attentionWorkgroupFor(headDim);
  uint32_t rows = static_cast<uint32_t>(b.maxTokens());
  std::array<uint32_t, 3> workgroup = {static_cast<uint32_t>(wg), 1, 1};
  std::array<uint32_t, 3> perKvHead = {rows, static_cast<uint32_t>(kvHeads),
                                       1};

  Binding positions = b.buffer(op.getPositions());
  Binding cacheBinding = b.cache(op.getReadsAttr());
  auto append = [&]() -> llvm::Error {
    return dispatchKvAppend(b, op.getK(), op.getV(), op.getPositions(),
                            op.getReadsAttr());
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
