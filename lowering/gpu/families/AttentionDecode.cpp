//===- AttentionDecode.cpp - flash-decoding attention for one row ---------===//
//
// plan.attention in a program of one row: a writer appends its row first
// (kv_append), then the row attends over the cache in `splits` ranges of
// slots (kernels/attention_decode.mlir):
//   - attention_decode_split, grid (kv_heads * blocks, splits): one
//     workgroup per (KV head, range) serves every query head of the GQA
//     group (`block` of them, the whole group unless its queries and outputs
//     do not fit the workgroup memory), so each K and V row is read once;
//     it writes its partial (max, sum, unnormalized output per head) to the
//     program's scratch, or with one split the output itself;
//   - attention_decode_combine, grid (heads): merges the partials.
// Appending first is what the CPU backend computes: a linear writer appends
// before attending there too. A ring writer attends to its own row in
// flight there, which the cache gives back the same after appending for
// f32 and int8 (rounded as kv_round_trip would) but rounded for f16/bf16:
// that row is then read from k and v. The slot the append overwrites held
// position p - capacity, outside every window the verifier admits (ring
// caches are local or chunked with window <= capacity).
//
//===----------------------------------------------------------------------===//

#include "lowering/gpu/families/AttentionCache.h"
#include "lowering/gpu/families/Families.h"
#include "lowering/gpu/families/WeightLayout.h"

#include "llvm/ADT/Twine.h"

#include <algorithm>

namespace fmc::gpu {

namespace {

/// The split kernel's workgroup pool: 2048 units of 16 bytes (32 KB, what
/// Apple GPUs and lavapipe give a workgroup).
constexpr int64_t kPoolUnits = 2048;
/// Slots a tile holds at most; at least kMinTile before a GQA group is
/// served by more than one workgroup.
constexpr int64_t kMaxTile = 32;
constexpr int64_t kMinTile = 4;

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

/// How the split kernel cuts its work (its specialization constants).
struct SplitShape {
  int64_t block = 1; ///< Query heads per workgroup (a divisor of the group).
  int64_t tile = 1;  ///< Slots per tile.
  int64_t parts = 1; ///< Workgroup items per partial score (feature parts).
  int64_t wg = 64;   ///< Threads.
};

/// Pool units the split kernel's regions take (attention_decode.mlir).
int64_t poolUnits(int64_t headDim, int64_t block, int64_t tile, int64_t parts) {
  int64_t hd4 = ceilDiv(headDim, 4), quads = ceilDiv(block, 4);
  return 2 * 4 * hd4 * quads          // queries, output accumulators
         + tile * ((hd4 | 1) + hd4)   // the tile's keys and values
         + (parts + 1) * tile * quads // partial scores, scores
         + 3 * quads;                 // running max, sum, rescale
}

/// The largest tile of at most `limit` slots that fits with `block` heads
/// and `parts` feature parts (0 if none does).
int64_t largestTile(int64_t headDim, int64_t block, int64_t parts,
                    int64_t limit) {
  for (int64_t tile = limit; tile >= 1; --tile)
    if (poolUnits(headDim, block, tile, parts) <= kPoolUnits)
      return tile;
  return 0;
}

SplitShape splitShape(int64_t group, int64_t headDim, int64_t splitSlots) {
  SplitShape shape;
  int64_t limit = std::min(kMaxTile, splitSlots);
  // The whole group if its tiles can hold kMinTile slots (or the split's
  // slots), else the largest divisor that can.
  for (int64_t block = group; block >= 1; --block)
    if (group % block == 0 &&
        (largestTile(headDim, block, 1, limit) >= std::min(kMinTile, limit) ||
         block == 1)) {
      shape.block = block;
      break;
    }
  int64_t hd4 = ceilDiv(headDim, 4), quads = ceilDiv(shape.block, 4);
  shape.wg = std::clamp<int64_t>(ceilDiv(4 * hd4 * quads, 64) * 64, 64, 256);
  // Tiles and feature parts: a tile's dependent steps are about a barrier
  // and load (kTileSteps) plus the features of a part plus its slots
  // (softmax, then the values); fewest steps over the split wins. Tiles
  // have equal sizes, and at most a workgroup of partial-score items.
  constexpr int64_t kTileSteps = 16;
  int64_t best = -1;
  for (int64_t parts : {8, 4, 2, 1}) {
    if (hd4 % parts != 0)
      continue;
    int64_t most = largestTile(headDim, shape.block, parts, limit);
    if (most == 0)
      continue;
    int64_t tiles = ceilDiv(splitSlots, most);
    int64_t tile = ceilDiv(splitSlots, tiles);
    if (parts > 1 && parts * tile * quads > shape.wg)
      continue;
    int64_t steps = tiles * (kTileSteps + hd4 / parts + 2 * tile);
    if (best < 0 || steps < best) {
      best = steps;
      shape.tile = tile;
      shape.parts = parts;
    }
  }
  return shape;
}

} // namespace

llvm::Error lowerDecodeAttention(mlir::Operation *kernel, LaunchBuilder &b,
                                 int64_t splits) {
  llvm::Expected<AttentionInstance> a = AttentionInstance::of(kernel, b);
  if (!a)
    return a.takeError();
  if (b.maxTokens() != 1)
    return llvm::createStringError("decode attention over KV cache '" +
                                   a->cacheName() + "' in a program of " +
                                   llvm::Twine(b.maxTokens()) +
                                   " rows: its kernels attend for one row");
  if (splits < 1 || splits > std::min(a->capacity, kMaxGridDimension))
    return llvm::createStringError(
        "decode attention over KV cache '" + a->cacheName() + "' of " +
        llvm::Twine(a->capacity) + " positions cannot be split " +
        llvm::Twine(splits) + " ways: from 1 to one split per position (" +
        llvm::Twine(kMaxGridDimension) + " at most)");
  if (a->writes)
    if (llvm::Error error = appendRows(*a, b))
      return error;

  mlir::plan::AttentionOp op = a->op;
  int64_t group = a->heads / a->kvHeads;
  int64_t splitSlots = ceilDiv(a->capacity, splits);
  SplitShape shape = splitShape(group, a->headDim, splitSlots);
  Binding q = b.buffer(op.getQ());
  Binding out = b.buffer(op.getOutput());
  // A ring writer's own row is attended to unrounded by the CPU (in
  // flight); appended first, a 16-bit cache would give it back rounded, so
  // the split kernel reads that one row from k and v. (Int8 rounds it in
  // flight too, as the cache does; f32 is exact.) A reader's k and v: q
  // stands in, never read.
  bool sixteenBit = a->layout.element == CacheElement::F16 ||
                    a->layout.element == CacheElement::BF16;
  int64_t ownRow = a->writes && a->ring && sixteenBit;
  // Partials: accumulators [heads][splits][head_dim], maxima and sums
  // [heads][splits]. With one split the output stands in (never touched).
  Binding partials = splits == 1
                         ? out
                         : b.scratch(static_cast<uint64_t>(
                               a->heads * splits * (a->headDim + 2) * 4));
  uint32_t wgBlocks = static_cast<uint32_t>(a->kvHeads * group / shape.block);
  if (llvm::Error error = b.dispatch(
          "attention_decode_split",
          {a->heads,
           a->kvHeads,
           a->headDim,
           shape.block,
           a->capacity,
           ownRow,
           a->kind,
           a->window,
           a->scale,
           a->softcap,
           static_cast<int64_t>(a->layout.element),
           a->layout.valuesBase,
           a->layout.keyScales,
           a->layout.valueScales,
           a->layout.rowWords,
           a->layout.slotWords,
           splits,
           splitSlots,
           shape.tile,
           shape.parts,
           b.rowsSlot(),
           shape.wg},
          {static_cast<uint32_t>(shape.wg), 1, 1},
          {wgBlocks, static_cast<uint32_t>(splits), 1},
          {q, a->writes ? b.buffer(op.getK()) : q,
           a->writes ? b.buffer(op.getV()) : q, b.buffer(op.getPositions()),
           b.cache(op.getReadsAttr()), out, partials, b.run()}))
    return error;
  if (splits == 1)
    return llvm::Error::success();
  int64_t wg = workgroupFor(a->headDim);
  return b.dispatch("attention_decode_combine",
                    {a->heads, a->headDim, splits, b.rowsSlot(), wg},
                    {static_cast<uint32_t>(wg), 1, 1},
                    {static_cast<uint32_t>(a->heads), 1, 1},
                    {partials, out, b.run()});
}

} // namespace fmc::gpu
