//===- BufferAssignment.cpp - place a program's buffers by liveness -------===//
//
// Greedy by size (as TFLite's arena planner): the largest buffers are placed
// first, each at the lowest 64-byte aligned offset where it overlaps no
// already-placed buffer that is live at the same time. For a transformer the
// live set is small (the residual stream plus one layer's temporaries), so
// the arena is a few rows of the widest activations, not their sum.
//
//===----------------------------------------------------------------------===//

#include "lowering/plan/Passes.h"

#include "mlir/IR/Builders.h"

#include <algorithm>

using namespace mlir;
using namespace mlir::plan;

LogicalResult mlir::plan::assignBuffers(ProgramOp program) {
  FailureOr<SmallVector<LiveRange>> ranges = computeLiveRanges(program);
  if (failed(ranges))
    return failure();
  int64_t maxTokens = program.getMaxTokens();
  auto bytesOf = [&](LiveRange r) {
    return getBufferBytes(cast<RowsType>(r.buffer.getType()), maxTokens);
  };

  SmallVector<size_t> order(ranges->size());
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return bytesOf((*ranges)[a]) > bytesOf((*ranges)[b]);
  });

  struct Placed {
    int64_t begin, end;
    LiveRange *range;
  };
  SmallVector<Placed> placed;
  int64_t arena = 0;
  Builder builder(program.getContext());
  for (size_t index : order) {
    LiveRange &range = (*ranges)[index];
    int64_t bytes = bytesOf(range);
    SmallVector<std::pair<int64_t, int64_t>> busy;
    for (const Placed &p : placed)
      if (p.range->firstWrite <= range.lastRead &&
          range.firstWrite <= p.range->lastRead)
        busy.push_back({p.begin, p.end});
    llvm::sort(busy);
    int64_t offset = 0;
    for (auto [begin, end] : busy) {
      if (offset + bytes <= begin)
        break;
      offset = std::max(offset, end);
    }
    range.buffer.setOffsetAttr(builder.getI64IntegerAttr(offset));
    placed.push_back({offset, offset + bytes, &range});
    arena = std::max(arena, offset + bytes);
  }
  // Buffers no kernel touches still need a valid place.
  for (BufferOp buffer : program.getBody().front().getOps<BufferOp>())
    if (llvm::none_of(*ranges,
                      [&](const LiveRange &r) { return r.buffer == buffer; })) {
      buffer.setOffsetAttr(builder.getI64IntegerAttr(0));
      arena = std::max(
          arena, getBufferBytes(cast<RowsType>(buffer.getType()), maxTokens));
    }
  program.setArenaBytesAttr(builder.getI64IntegerAttr(arena));
  return success();
}
