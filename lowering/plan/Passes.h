//===- Passes.h - fm to plan lowering -------------------------------------===//

#ifndef FMC_LOWERING_PLAN_PASSES_H
#define FMC_LOWERING_PLAN_PASSES_H

#include "dialects/plan/IR/PlanOps.h"
#include "passes/OptionNames.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::plan {

#define GEN_PASS_DECL
#include "lowering/plan/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "lowering/plan/Passes.h.inc"

/// fm-to-plan with the names a driver gives its options (for diagnostics).
std::unique_ptr<Pass> createFmToPlan(FmToPlanOptions options,
                                     fm::OptionNames names);

/// Places every buffer of `program` in its arena: buffers whose live ranges
/// intersect get disjoint bytes, largest first at the lowest offset that
/// fits. Sets each plan.buffer's offset and the program's arena_bytes.
LogicalResult assignBuffers(ProgramOp program);

} // namespace mlir::plan

#endif // FMC_LOWERING_PLAN_PASSES_H
