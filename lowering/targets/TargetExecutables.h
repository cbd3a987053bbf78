//===- TargetExecutables.h - the GPU targets of one compilation -----------===//
//
// Builds the GPU program (kernels and dispatch lists) once and lowers it for
// every requested GPU target: cuda (PTX per SM architecture, plus a cubin
// per architecture when ptxas is present), vulkan (SPIR-V), metal (MSL from
// the same SPIR-V). Each becomes an executable of the artifact.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_LOWERING_TARGETS_TARGETEXECUTABLES_H
#define FMC_LOWERING_TARGETS_TARGETEXECUTABLES_H

#include "lowering/gpu/GpuProgram.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <functional>
#include <string>
#include <vector>

namespace fmc::targets {

struct TargetOptions {
  /// CUDA SM architectures to emit PTX (and cubins) for.
  std::vector<std::string> cudaArchs = {"sm_80", "sm_90"};
  /// Assemble cubins with ptxas when it is found (findPtxas()).
  bool cubins = true;
  /// The metal target ships a metallib built by Xcode's Metal compiler
  /// (lowering/metal/Metallib.h, macOS only) instead of MSL source, with
  /// this xcrun (empty: PATH's).
  bool metallib = false;
  std::string xcrun;
  /// Reports each step ("lowering to PTX for sm_90", ...).
  std::function<void(const std::string &)> progress;
};

/// The GPU targets this build can compile for.
std::vector<std::string> gpuTargets();

/// Executables for the GPU targets among `targets` (others are ignored).
llvm::Expected<std::vector<gpu::ExecutableImage>>
buildExecutables(mlir::ModuleOp planModule,
                 const std::vector<std::string> &targets,
                 const TargetOptions &options);

/// Writes every executable's code into `directory` (created if needed) as
/// `<target>[.<arch>].<ext>` with ext ptx, cubin, spv or metal; returns the
/// paths written.
llvm::Expected<std::vector<std::string>>
dumpExecutables(const std::vector<gpu::ExecutableImage> &executables,
                llvm::StringRef directory);

} // namespace fmc::targets

#endif // FMC_LOWERING_TARGETS_TARGETEXECUTABLES_H
