//===- PlanOps.h - plan ops -----------------------------------------------===//

#ifndef FMC_DIALECTS_PLAN_IR_PLANOPS_H
#define FMC_DIALECTS_PLAN_IR_PLANOPS_H

#include "dialects/fm/IR/FmOps.h"
#include "dialects/plan/IR/PlanDialect.h"

#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/SymbolTable.h"

#include "dialects/plan/IR/PlanInterfaces.h.inc"

#define GET_OP_CLASSES
#include "dialects/plan/IR/PlanOps.h.inc"

namespace mlir::plan {

/// The buffers `kernel` reads: its operands that it does not write.
SmallVector<Value> getReadBuffers(KernelOpInterface kernel);

/// Bytes a buffer of `type` takes in a program of `maxTokens` tokens.
int64_t getBufferBytes(RowsType type, int64_t maxTokens);

/// Arena offsets and buffer sizes are multiples of this.
constexpr int64_t kBufferAlignment = 64;

/// When a buffer holds a value: from the first step that writes it to the
/// last step that reads it, a step being a kernel of the program's body or a
/// whole plan.dispatch. The runtime's inputs are written at -1; the logits
/// are read after the last step.
struct LiveRange {
  BufferOp buffer;
  int64_t firstWrite;
  int64_t lastRead;
};

/// The live range of every buffer some kernel uses, in declaration order.
/// Fails, with a diagnostic, when the program reads a buffer before any
/// kernel writes it or is otherwise malformed.
FailureOr<SmallVector<LiveRange>> computeLiveRanges(ProgramOp program);

} // namespace mlir::plan

#endif // FMC_DIALECTS_PLAN_IR_PLANOPS_H
