//===- Passes.h - fm to plan lowering -------------------------------------===//

#ifndef FMC_LOWERING_PLAN_PASSES_H
#define FMC_LOWERING_PLAN_PASSES_H

#include "dialects/plan/IR/PlanOps.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::plan {

#define GEN_PASS_DECL
#include "lowering/plan/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "lowering/plan/Passes.h.inc"

/// Places every buffer of `program` in its arena: buffers whose live ranges
/// intersect get disjoint bytes, largest first at the lowest offset that
/// fits. Sets each plan.buffer's offset and the program's arena_bytes.
LogicalResult assignBuffers(ProgramOp program);

} // namespace mlir::plan

#endif // FMC_LOWERING_PLAN_PASSES_H
