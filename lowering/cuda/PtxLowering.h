//===- PtxLowering.h - the kernels module to PTX (and cubin) --------------===//
//
// The CUDA target: the gpu.module goes through NVVM and LLVM's NVPTX
// backend to PTX for one SM architecture. Math functions are expanded into
// polynomials and LLVM intrinsics first, so the PTX never calls libdevice
// and needs no CUDA toolkit to build. When ptxas is present it assembles the
// PTX into a cubin (and so validates it).
//
// On chips with grid dependency control (sm_90 and later) every kernel
// waits for its predecessor (griddepcontrol.wait) where its generator put
// the marker (lowering/gpu/GridDependency.h), else at its entry, so the
// runtime may launch it with programmatic stream serialization; elsewhere
// the markers are erased.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_LOWERING_CUDA_PTXLOWERING_H
#define FMC_LOWERING_CUDA_PTXLOWERING_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <string>

namespace fmc::cuda {

struct PtxOptions {
  /// The SM architecture, e.g. "sm_90".
  std::string chip = "sm_80";
  /// The PTX ISA version the NVPTX backend targets, e.g. "+ptx80".
  std::string features = "+ptx80";
};

/// Lowers a copy of `kernels` (a module with one gpu.module) to PTX text.
llvm::Expected<std::string> lowerToPtx(mlir::ModuleOp kernels,
                                       const PtxOptions &options);

/// Whether `chip` ("sm_90", "sm_90a", "sm_100") has griddepcontrol: sm_90
/// and later. lowerToPtx's PTX for such a chip has every kernel wait for
/// its predecessor, so its executable allows programmatic dependent launch
/// (schema Executable.programmatic_dependent_launch).
bool hasGridDependencyControl(llvm::StringRef chip);

/// Assembles `ptx` for `chip` with `ptxas` (its path) into a cubin.
llvm::Expected<std::string> assembleCubin(llvm::StringRef ptx,
                                          llvm::StringRef chip,
                                          llvm::StringRef ptxas);

/// The ptxas to use: $FMC_PTXAS, else /usr/local/cuda/bin/ptxas, else empty.
std::string findPtxas();

} // namespace fmc::cuda

#endif // FMC_LOWERING_CUDA_PTXLOWERING_H
