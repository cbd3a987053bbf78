//===- Attention.cpp - plan.attention on the GPU --------------------------===//
//
// Computes what runtime/cpu/Attention.cpp computes. A program of one row
// (@decode) takes the flash-decoding path (AttentionDecode.cpp); a program
// of many rows (prefill) runs flash attention over tiles of query rows
// (`attention`: each workgroup serves tile_rows rows times the query heads
// of a GQA group, reading each key and value row once for all of them) in
// up to five dispatches of kernels/attention.mlir:
//   - a linear cache's writer appends this run's keys and values first
//     (kv_append, once for keys and once for values), then attends;
//   - a ring cache's writer attends to this run's own positions from its k
//     and v rows ("in flight", rounded first through int8 when the cache is
//     int8: kv_round_trip) and to earlier ones from the cache, then appends;
//   - a reader (KV sharing) only attends.
// The GPU layout of a cache's bytes is GpuCacheLayout's (AttentionCache.h).
//
//===----------------------------------------------------------------------===//

#include "dialects/plan/IR/PlanDispatch.h"
#include "lowering/gpu/families/AttentionCache.h"
#include "lowering/gpu/families/Families.h"

#include "llvm/Support/MathExtras.h"

#include <algorithm>

namespace fmc::gpu {

namespace {

/// The attention kernel's workgroup memory (attention.mlir): `pool` in
/// 16-byte units, `fl` in floats, and the rows' spans (at most 64 rows).
constexpr int64_t kPoolUnits = 1792;
constexpr int64_t kScoreFloats = 896;
constexpr int64_t kMaxTileRows = 64;
/// Queries a workgroup serves at most, threads it takes at most (a thread
/// owns 4 output features of one query), positions a tile holds at most.
constexpr int64_t kMaxQueries = 32;
constexpr int64_t kMaxThreads = 512;
constexpr int64_t kMaxTile = 32;

} // namespace

PrefillAttentionShape prefillAttentionShape(int64_t group, int64_t headDim,
                                            int64_t rows) {
  PrefillAttentionShape shape;
  int64_t hd4 = llvm::divideCeil(headDim, 4), hd4s = hd4 | 1;
  int64_t queries = std::min(kMaxQueries, kMaxThreads / hd4);
  // The whole GQA group if it fits, else its largest divisor that does
  // (a head of at most 256 features always fits alone).
  for (int64_t block = std::min(group, queries); block >= 1; --block)
    if (group % block == 0) {
      shape.block = block;
      break;
    }
  shape.tileRows = std::clamp<int64_t>(std::min(queries / shape.block, rows), 1,
                                       kMaxTileRows);
  int64_t nqry = shape.block * shape.tileRows;
  shape.tile = 0;
  for (int64_t tile = kMaxTile; tile >= 1 && shape.tile == 0; --tile)
    if ((nqry + 2 * tile) * hd4s <= kPoolUnits &&
        nqry * (tile + 3) <= kScoreFloats)
      shape.tile = tile;
  shape.wg =
      std::clamp<int64_t>(llvm::alignTo(nqry * hd4, 64), 64, kMaxThreads);
  return shape;
}

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
  PrefillAttentionShape shape =
      prefillAttentionShape(a->heads / a->kvHeads, a->headDim, b.maxTokens());

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
  uint32_t rowTiles =
      static_cast<uint32_t>(llvm::divideCeil(b.maxTokens(), shape.tileRows));
  // kv_heads x group / block workgroups of query heads.
  uint32_t blocks = static_cast<uint32_t>(a->heads / shape.block);
  if (llvm::Error error = b.dispatch(
          "attention",
          {a->heads,
           a->kvHeads,
           a->headDim,
           shape.block,
           shape.tileRows,
           a->capacity,
           int64_t(a->ring),
           int64_t(inFlight),
           a->kind,
           a->window,
           int64_t(op.getCausal()),
           a->scale,
           a->softcap,
           static_cast<int64_t>(a->layout.element),
           a->layout.valuesBase,
           a->layout.keyScales,
           a->layout.valueScales,
           a->layout.rowWords,
           a->layout.slotWords,
           shape.tile,
           b.rowsSlot(),
           shape.wg},
          {static_cast<uint32_t>(shape.wg), 1, 1}, {rowTiles, blocks, 1},
          {q, k, v, b.buffer(op.getPositions()), b.cache(op.getReadsAttr()),
           b.buffer(op.getOutput()), b.run()}))
    return error;

  if (inFlight)
    return appendRows(*a, b);
  return llvm::Error::success();
}

} // namespace fmc::gpu
