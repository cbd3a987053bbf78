//===- PtxLowering.h - the kernels module to PTX (and cubin) --------------===//
//
// The CUDA target: the gpu.module goes through NVVM and LLVM's NVPTX
// backend to PTX for one SM architecture. Math functions are expanded into
// polynomials and LLVM intrinsics first, so the PTX never calls libdevice
// and needs no CUDA toolkit to build. When ptxas is present it assembles the
// PTX into a cubin (and so validates it).
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

/// Assembles `ptx` for `chip` with `ptxas` (its path) into a cubin.
llvm::Expected<std::string> assembleCubin(llvm::StringRef ptx,
                                          llvm::StringRef chip,
                                          llvm::StringRef ptxas);

/// The ptxas to use: $FMC_PTXAS, else /usr/local/cuda/bin/ptxas, else empty.
std::string findPtxas();

} // namespace fmc::cuda

#endif // FMC_LOWERING_CUDA_PTXLOWERING_H
