//===- Intrinsics.h - target-specific instructions in portable kernels ----===//
//
// The kernels module is one gpu.module for every GPU target, but a few
// instructions exist on one target only (CUDA's 4-way byte dot product,
// dp4a, and its warp-wide matrix product, mma.sync). Generated kernels call them as private functions declared in the
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

/// One m16n8k32 integer matrix product of a subgroup of 32 threads (lane
/// `lane`, 0..31; all 32 call it together): C (16 x 8, i32) += A B with A
/// 16 rows of 32 signed bytes at word `aBase` of `a`, rows `aStride` words
/// apart, and B's 8 columns 32 unsigned bytes each at word `bBase` of `b`,
/// `bStride` words apart (both workgroup memory of i32 words). `c` and the
/// result are the lane's four elements in the matrix units' layout: rows
/// lane / 4 and lane / 4 + 8, columns 2 (lane % 4) and 2 (lane % 4) + 1
/// (row-major pairs). CUDA: mma.sync.aligned.m16n8k32.row.col.s32.s8.u8.s32
/// with the fragments loaded from workgroup memory; elsewhere each thread
/// computes its four elements with 4-way byte dot products, which is
/// correct for any subgroup width.
llvm::SmallVector<mlir::Value, 4>
emitMmaS8U8(mlir::ImplicitLocOpBuilder &b, mlir::gpu::GPUModuleOp module,
            mlir::Value a, mlir::Value aBase, int64_t aStride, mlir::Value b_,
            mlir::Value bBase, int64_t bStride, mlir::Value lane,
            mlir::ValueRange c);

/// The same with f16 (or, with `bf16`, bf16) pairs in the words and f32
/// accumulators: m16n8k16, 16 features per step
/// (mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 or .bf16); elsewhere
/// each thread's four elements from products exact in f32.
llvm::SmallVector<mlir::Value, 4>
emitMmaHalves(mlir::ImplicitLocOpBuilder &b, mlir::gpu::GPUModuleOp module,
              bool bf16, mlir::Value a, mlir::Value aBase, int64_t aStride,
              mlir::Value b_, mlir::Value bBase, int64_t bStride,
              mlir::Value lane, mlir::ValueRange c);

/// Replaces every intrinsic call in `module` with NVVM operations.
mlir::LogicalResult resolveIntrinsicsForNvvm(mlir::gpu::GPUModuleOp module);
/// Replaces every intrinsic call in `module` with arith operations.
mlir::LogicalResult resolveIntrinsicsPortably(mlir::gpu::GPUModuleOp module);

} // namespace fmc::gpu

#endif // FMC_LOWERING_GPU_GENERATOR_INTRINSICS_H
