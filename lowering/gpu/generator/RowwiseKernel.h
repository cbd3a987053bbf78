//===- RowwiseKernel.h - the generated row-local kernel -------------------===//
//
// What a #plan.rowwise dispatch runs: one plan kernel that works row by row
// (a norm, RoPE, or an elementwise op) and that no matvec absorbed. One
// workgroup per token row (per group of features for a grouped RMSNorm)
// strides over the row's features; norms reduce through subgroups and
// workgroup memory. It computes what the CPU backend's row kernels compute
// (runtime/cpu/Kernels.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef FMC_LOWERING_GPU_GENERATOR_ROWWISEKERNEL_H
#define FMC_LOWERING_GPU_GENERATOR_ROWWISEKERNEL_H

#include "lowering/gpu/generator/MatvecKernel.h"

namespace fmc::gpu {

struct RowwiseKernelSpec {
  enum class Kind { RmsNorm, LayerNorm, Rope, Add, Mul, Activation, Glu };
  Kind kind = Kind::Add;
  int64_t workgroupSize = 256;
  int64_t width = 0;
  /// RmsNorm: features per normalized group (a workgroup each).
  int64_t groupSize = 0;
  MatvecNorm norm;
  MatvecRope rope;
  int64_t activation = 0; ///< Activation, Glu.
  /// Mul: the right operand has width 1 (one factor per row).
  bool broadcast = false;
  int64_t rowsSlot = 0;
  int input = -1, second = -1, output = -1, positions = -1, run = -1;
  std::vector<mlir::MemRefType> bindings;

  /// Workgroups per token row.
  int64_t workgroupsPerRow() const {
    return kind == Kind::RmsNorm ? width / groupSize : 1;
  }
};

mlir::gpu::GPUFuncOp emitRowwiseKernel(mlir::ImplicitLocOpBuilder &b,
                                       llvm::StringRef name,
                                       const RowwiseKernelSpec &spec);

} // namespace fmc::gpu

#endif // FMC_LOWERING_GPU_GENERATOR_ROWWISEKERNEL_H
