//===- ZeroTripLoopGuard.h - scf.for results that SPIR-V can lose ---------===//
//
// MLIR 22.1's SCF->SPIR-V conversion assigns an scf.for's result variable
// only inside the loop body, so a loop that runs zero times yields an
// undefined value (llvm-project #211981, fixed upstream by #206280, not in
// 22.1). This pass wraps every scf.for with results whose trip count is not
// known to be positive in `scf.if (lb < ub)`, yielding the initial values
// otherwise.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_LOWERING_SPIRV_ZEROTRIPLOOPGUARD_H
#define FMC_LOWERING_SPIRV_ZEROTRIPLOOPGUARD_H

#include "mlir/Pass/Pass.h"

#include <memory>

namespace fmc::spirv {

std::unique_ptr<mlir::Pass> createZeroTripLoopGuardPass();

} // namespace fmc::spirv

#endif // FMC_LOWERING_SPIRV_ZEROTRIPLOOPGUARD_H
