//===- GridDependency.h - where a kernel may overlap its neighbours -------===//
//
// Programmatic dependent launch (sm_90 and later): the runtime may start a
// dispatch while the one before it still runs, and the kernel itself says
// from where on it needs the predecessor's results (PTX griddepcontrol.wait)
// and from where on its successor may start (griddepcontrol.launch_dependents).
// Kernel generators mark both places with calls to two private functions
// of the gpu.module, target-neutral:
//
//   func.func private @fmc_pdl_wait()               // griddepcontrol.wait
//   func.func private @fmc_pdl_launch_dependents()  // .launch_dependents
//
// A kernel may read weights (which no dispatch writes) before its wait, so
// its weight loads overlap the predecessor's tail; everything else an
// earlier dispatch reads or writes only after it. The PTX lowering for
// chips with griddepcontrol turns the calls into the instructions and puts a
// wait at the entry of every kernel that has none (lowering/cuda); other
// targets erase them (eraseGridDependencyMarkers).
//
//===----------------------------------------------------------------------===//

#ifndef FMC_LOWERING_GPU_GRIDDEPENDENCY_H
#define FMC_LOWERING_GPU_GRIDDEPENDENCY_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVector.h"

namespace fmc::gpu {

inline constexpr llvm::StringLiteral kPdlWaitMarker = "fmc_pdl_wait";
inline constexpr llvm::StringLiteral kPdlLaunchDependentsMarker =
    "fmc_pdl_launch_dependents";

/// Whether `name` is one of the two markers.
inline bool isGridDependencyMarker(llvm::StringRef name) {
  return name == kPdlWaitMarker || name == kPdlLaunchDependentsMarker;
}

/// A call to marker `name` at `builder`'s insertion point, declaring the
/// marker in `module` on first use.
inline void emitGridDependencyMarker(mlir::OpBuilder &builder,
                                     mlir::Location loc,
                                     mlir::gpu::GPUModuleOp module,
                                     llvm::StringRef name) {
  if (!module.lookupSymbol<mlir::func::FuncOp>(name)) {
    mlir::OpBuilder::InsertionGuard guard(builder);
    builder.setInsertionPointToStart(module.getBody());
    auto marker = mlir::func::FuncOp::create(
        builder, loc, name, builder.getFunctionType({}, {}));
    marker.setPrivate();
  }
  mlir::func::CallOp::create(builder, loc, name, mlir::TypeRange{});
}

/// From here on the kernel reads and writes what earlier dispatches wrote.
inline void emitPdlWait(mlir::OpBuilder &builder, mlir::Location loc,
                        mlir::gpu::GPUModuleOp module) {
  emitGridDependencyMarker(builder, loc, module, kPdlWaitMarker);
}

/// From here on the next dispatch may start (it still waits for this one
/// to finish before its own wait returns).
inline void emitPdlLaunchDependents(mlir::OpBuilder &builder,
                                    mlir::Location loc,
                                    mlir::gpu::GPUModuleOp module) {
  emitGridDependencyMarker(builder, loc, module, kPdlLaunchDependentsMarker);
}

/// The calls to either marker inside `root`.
inline llvm::SmallVector<mlir::func::CallOp>
gridDependencyMarkerCalls(mlir::Operation *root) {
  llvm::SmallVector<mlir::func::CallOp> calls;
  root->walk([&](mlir::func::CallOp call) {
    if (isGridDependencyMarker(call.getCallee()))
      calls.push_back(call);
  });
  return calls;
}

/// Erases the markers' declarations (after their calls).
inline void eraseGridDependencyMarkerDeclarations(
    mlir::gpu::GPUModuleOp module) {
  for (llvm::StringRef name : {kPdlWaitMarker, kPdlLaunchDependentsMarker})
    if (auto marker = module.lookupSymbol<mlir::func::FuncOp>(name))
      marker.erase();
}

/// For targets without grid dependency control (sm_80, SPIR-V): every call
/// to a marker and their declarations erased.
inline void eraseGridDependencyMarkers(mlir::gpu::GPUModuleOp module) {
  for (mlir::func::CallOp call : gridDependencyMarkerCalls(module))
    call.erase();
  eraseGridDependencyMarkerDeclarations(module);
}

} // namespace fmc::gpu

#endif // FMC_LOWERING_GPU_GRIDDEPENDENCY_H
