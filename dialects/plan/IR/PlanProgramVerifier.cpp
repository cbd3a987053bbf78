//===- PlanProgramVerifier.cpp - liveness and placement of buffers --------===//
//
// A program is only safe to run if no kernel can clobber a value another
// kernel still needs. Buffers share arena bytes by design (that is what
// liveness-based assignment buys), so the check is: two buffers whose byte
// ranges overlap must have disjoint live ranges.
//
//===----------------------------------------------------------------------===//

#include "dialects/plan/IR/PlanOps.h"

#include "llvm/ADT/DenseMap.h"

using namespace mlir;
using namespace mlir::plan;

namespace {
constexpr int64_t kNone = -2;
} // namespace

FailureOr<SmallVector<LiveRange>>
mlir::plan::computeLiveRanges(ProgramOp program) {
  Block &body = program.getBody().front();
  auto io = dyn_cast<IoOp>(body.getTerminator());
  if (!io)
    return program.emitOpError() << "must end with plan.io";

  llvm::DenseMap<Value, LiveRange> ranges;
  SmallVector<Value> order;
  int64_t step = 0;
  auto visitKernel = [&](Operation &op) -> LogicalResult {
    auto kernel = dyn_cast<KernelOpInterface>(op);
    if (!kernel)
      return op.emitOpError() << "is not a kernel; a program holds "
                                 "plan.buffer, kernels, plan.dispatch and "
                                 "plan.io only";
    for (Value operand : op.getOperands())
      if (!operand.getDefiningOp<BufferOp>())
        return op.emitOpError()
               << "operand is not a plan.buffer of this program";
    for (Value read : getReadBuffers(kernel))
      ranges[read].lastRead = step;
    for (Value written : kernel.getWrittenBuffers()) {
      LiveRange &range = ranges[written];
      if (range.firstWrite == kNone)
        range.firstWrite = step;
    }
    return success();
  };
  for (Operation &op : body) {
    if (auto buffer = dyn_cast<BufferOp>(op)) {
      ranges[buffer.getResult()] = {buffer, kNone, kNone};
      order.push_back(buffer.getResult());
      continue;
    }
    if (isa<IoOp>(op))
      continue;
    // A dispatch is one step: its kernels may run at once, so every buffer
    // any of them touches is live for all of it.
    if (auto dispatch = dyn_cast<DispatchOp>(op)) {
      for (Operation &inner : dispatch.getBody().front())
        if (failed(visitKernel(inner)))
          return failure();
    } else if (failed(visitKernel(op))) {
      return failure();
    }
    ++step;
  }
  int64_t kernelIndex = step;

  for (Value input : {io.getTokens(), io.getPositions()}) {
    LiveRange &range = ranges[input];
    if (range.firstWrite != kNone)
      return io.emitOpError() << "input buffer is overwritten by a kernel";
    range.firstWrite = -1;
  }
  ranges[io.getLogits()].lastRead = kernelIndex;

  SmallVector<LiveRange> result;
  for (Value value : order) {
    LiveRange range = ranges[value];
    if (range.firstWrite == kNone) {
      if (range.lastRead == kNone)
        continue; // Declared but unused.
      return range.buffer.emitOpError() << "is read but no kernel writes it";
    }
    if (range.lastRead == kNone)
      range.lastRead = range.firstWrite; // Written, never read.
    if (range.lastRead < range.firstWrite)
      return range.buffer.emitOpError()
             << "is read (kernel " << range.lastRead
             << ") before it is written (kernel " << range.firstWrite << ")";
    result.push_back(range);
  }
  return result;
}

LogicalResult ProgramOp::verifyRegions() {
  int64_t maxTokens = getMaxTokens(), arena = getArenaBytes();
  if (maxTokens <= 0)
    return emitOpError() << "max_tokens must be positive, got " << maxTokens;
  if (arena < 0)
    return emitOpError() << "arena_bytes must not be negative, got " << arena;

  for (BufferOp buffer : getBody().front().getOps<BufferOp>()) {
    int64_t offset = buffer.getOffset();
    int64_t bytes = getBufferBytes(cast<RowsType>(buffer.getType()), maxTokens);
    if (offset < 0 || offset % kBufferAlignment != 0)
      return buffer.emitOpError()
             << "offset " << offset << " must be a "
             << "non-negative multiple of " << kBufferAlignment;
    if (offset + bytes > arena)
      return buffer.emitOpError()
             << "spans [" << offset << ", " << offset + bytes << ") at "
             << maxTokens << " tokens, beyond the arena of " << arena
             << " bytes";
  }

  FailureOr<SmallVector<LiveRange>> ranges = computeLiveRanges(*this);
  if (failed(ranges))
    return failure();
  for (size_t i = 0; i < ranges->size(); ++i) {
    LiveRange a = (*ranges)[i];
    int64_t aBegin = a.buffer.getOffset();
    int64_t aEnd =
        aBegin + getBufferBytes(cast<RowsType>(a.buffer.getType()), maxTokens);
    for (size_t j = i + 1; j < ranges->size(); ++j) {
      LiveRange b = (*ranges)[j];
      int64_t bBegin = b.buffer.getOffset();
      int64_t bEnd = bBegin + getBufferBytes(cast<RowsType>(b.buffer.getType()),
                                             maxTokens);
      bool bytesOverlap = aBegin < bEnd && bBegin < aEnd;
      bool liveOverlap =
          a.firstWrite <= b.lastRead && b.firstWrite <= a.lastRead;
      if (bytesOverlap && liveOverlap)
        return b.buffer.emitOpError()
               << "bytes [" << bBegin << ", " << bEnd
               << ") overlap those of another buffer [" << aBegin << ", "
               << aEnd << ") while both are live (kernels "
               << std::max(a.firstWrite, b.firstWrite) << " to "
               << std::min(a.lastRead, b.lastRead) << ")";
    }
  }
  return success();
}
