//===- Passes.h - fm model passes -----------------------------------------===//

#ifndef FMC_PASSES_PASSES_H
#define FMC_PASSES_PASSES_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::fm {

#define GEN_PASS_DECL
#include "passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"

/// Registers every fm pass and the named pipelines built from them.
void registerFmPassesAndPipelines();

} // namespace mlir::fm

#endif // FMC_PASSES_PASSES_H
