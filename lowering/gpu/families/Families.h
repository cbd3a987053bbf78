//===- Families.h - the GPU lowering of each plan kernel family -----------===//
//
// One function per family (or group of related families), each in its own
// file next to its templates in kernels/. Families.cpp maps plan op names to
// them; a family missing there is reported by name at compile time.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_LOWERING_GPU_FAMILIES_FAMILIES_H
#define FMC_LOWERING_GPU_FAMILIES_FAMILIES_H

#include "lowering/gpu/LaunchBuilder.h"

#include "mlir/IR/Operation.h"
#include "llvm/Support/Error.h"

namespace fmc::gpu {

/// plan.add, plan.mul (kernels/elementwise.mlir).
llvm::Error lowerElementwise(mlir::Operation *kernel, LaunchBuilder &builder);

} // namespace fmc::gpu

#endif // FMC_LOWERING_GPU_FAMILIES_FAMILIES_H
