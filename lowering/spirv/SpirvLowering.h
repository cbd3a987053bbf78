//===- SpirvLowering.h - the kernels module to one SPIR-V module ----------===//
//
// The Vulkan target, and the first half of the Metal one: every kernel of
// the gpu.module becomes an entry point (GLCompute, its workgroup size as
// LocalSize, its bindings in descriptor set 0) of one SPIR-V module, which
// SPIRV-Tools validates before it is returned.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_LOWERING_SPIRV_SPIRVLOWERING_H
#define FMC_LOWERING_SPIRV_SPIRVLOWERING_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <vector>

namespace fmc::spirv {

/// What the SPIR-V may use. Apple GPUs and lavapipe both have all of it:
/// 16-bit storage, fp16 arithmetic, subgroup arithmetic and shuffles.
struct SpirvOptions {
  /// Subgroup size the resource limits state (kernels read the device's
  /// through the SubgroupSize builtin; this only guides MLIR's lowering).
  int subgroupSize = 32;
};

/// Lowers a copy of `kernels` (a module with one gpu.module) to SPIR-V words.
llvm::Expected<std::vector<uint32_t>> lowerToSpirv(mlir::ModuleOp kernels,
                                                   const SpirvOptions &options);

/// Runs the SPIRV-Tools validator (Vulkan 1.1 environment) over `words`.
llvm::Error validateSpirv(const std::vector<uint32_t> &words);

} // namespace fmc::spirv

#endif // FMC_LOWERING_SPIRV_SPIRVLOWERING_H
