//===- Intrinsics.h - target-specific instructions in portable kernels ----===//
//
// The kernels module is one gpu.module for every GPU target, but a few
// instructions exist on one target only (CUDA's 4-way byte dot product,
// dp4a). Generated kernels call them as private functions declared in the
// gpu.module; each target's lowering resolves the calls before conversion:
// the PTX lowering into NVVM operations, the SPIR-V lowering into portable
// arithmetic that computes the same integers.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_LOWERING_GPU_GENERATOR_INTRINSICS_H
#define FMC_LOWERING_GPU_GENERATOR_INTRINSICS_H

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace fmc::gpu {

/// acc + sum over bytes b of a.b * x.b: the bytes of `a` unsigned (0..255),
/// those of `x` signed, all i32 (dp4a.u32.s32). The intrinsic is declared
/// in `module`, the kernels module being built.
mlir::Value emitDot4U8S8(mlir::ImplicitLocOpBuilder &b,
                         mlir::gpu::GPUModuleOp module, mlir::Value a,
                         mlir::Value x, mlir::Value acc);

/// Replaces every intrinsic call in `module` with NVVM operations.
mlir::LogicalResult resolveIntrinsicsForNvvm(mlir::gpu::GPUModuleOp module);
/// Replaces every intrinsic call in `module` with arith operations.
mlir::LogicalResult resolveIntrinsicsPortably(mlir::gpu::GPUModuleOp module);

} // namespace fmc::gpu

#endif // FMC_LOWERING_GPU_GENERATOR_INTRINSICS_H
