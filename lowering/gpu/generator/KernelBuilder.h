//===- KernelBuilder.h - a small vocabulary for emitting GPU kernels ------===//
//
// The kernel generators (MatvecKernel, RowwiseKernel) write gpu.func bodies
// with MLIR's builders. This wraps an ImplicitLocOpBuilder with the handful
// of idioms they repeat: typed constants, index and float arithmetic that
// folds constants as it builds, structured loops and branches with yielded
// values, loads of bindings and workgroup memory, thread and workgroup
// indices, and reductions. Nothing here is specific to a kernel family.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_LOWERING_GPU_GENERATOR_KERNELBUILDER_H
#define FMC_LOWERING_GPU_GENERATOR_KERNELBUILDER_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "llvm/ADT/STLFunctionalExtras.h"

#include <cstdint>

namespace fmc::gpu {

class KernelBuilder {
public:
  explicit KernelBuilder(mlir::ImplicitLocOpBuilder &b) : b(b) {}

  mlir::ImplicitLocOpBuilder &builder() { return b; }

  // Constants.
  mlir::Value index(int64_t v);
  mlir::Value i32(int64_t v);
  mlir::Value f32(double v);

  // Index arithmetic (unsigned division and remainder).
  mlir::Value add(mlir::Value a, mlir::Value b);
  mlir::Value sub(mlir::Value a, mlir::Value b);
  mlir::Value mul(mlir::Value a, mlir::Value b);
  mlir::Value div(mlir::Value a, mlir::Value b);
  mlir::Value rem(mlir::Value a, mlir::Value b);
  mlir::Value add(mlir::Value a, int64_t b) { return add(a, index(b)); }
  mlir::Value mul(mlir::Value a, int64_t b) { return mul(a, index(b)); }
  mlir::Value div(mlir::Value a, int64_t b) { return div(a, index(b)); }
  mlir::Value rem(mlir::Value a, int64_t b) { return rem(a, index(b)); }
  mlir::Value minIndex(mlir::Value a, mlir::Value b);
  mlir::Value ult(mlir::Value a, mlir::Value b);
  mlir::Value ult(mlir::Value a, int64_t b) { return ult(a, index(b)); }
  mlir::Value uge(mlir::Value a, mlir::Value b);
  mlir::Value eq(mlir::Value a, int64_t b);
  mlir::Value andBool(mlir::Value a, mlir::Value b);
  mlir::Value select(mlir::Value c, mlir::Value a, mlir::Value b);

  // i32 bit operations.
  mlir::Value shr(mlir::Value a, int64_t bits);
  mlir::Value shl(mlir::Value a, int64_t bits);
  mlir::Value shrDynamic(mlir::Value a, mlir::Value bits);
  mlir::Value andMask(mlir::Value a, int64_t mask);
  mlir::Value indexToI32(mlir::Value v);
  mlir::Value i32ToIndex(mlir::Value v);

  // f32 arithmetic.
  mlir::Value fadd(mlir::Value a, mlir::Value b);
  mlir::Value fsub(mlir::Value a, mlir::Value b);
  mlir::Value fmul(mlir::Value a, mlir::Value b);
  mlir::Value fdiv(mlir::Value a, mlir::Value b);
  mlir::Value fma(mlir::Value a, mlir::Value b, mlir::Value c);
  mlir::Value fmax(mlir::Value a, mlir::Value b);
  mlir::Value fabs(mlir::Value a);
  mlir::Value sqrt(mlir::Value a);
  mlir::Value exp(mlir::Value a);
  mlir::Value tanh(mlir::Value a);
  mlir::Value erf(mlir::Value a);
  mlir::Value cos(mlir::Value a);
  mlir::Value sin(mlir::Value a);
  mlir::Value roundEven(mlir::Value a);
  mlir::Value sitofp(mlir::Value i32);
  mlir::Value uitofp(mlir::Value i32);
  mlir::Value fptosi(mlir::Value f32);
  /// The f32 of the bits of an i32.
  mlir::Value bitsToF32(mlir::Value i32);

  // Memory: bindings and workgroup buffers are 1-D memrefs.
  mlir::Value load(mlir::Value memref, mlir::Value i);
  void store(mlir::Value v, mlir::Value memref, mlir::Value i);

  // Indices.
  mlir::Value threadId();
  mlir::Value subgroupSize();
  /// The workgroup's number in a grid of (x, y) workgroups, row-major.
  mlir::Value workgroupId();
  void barrier();

  /// gpu.subgroup_reduce add over the whole subgroup.
  mlir::Value subgroupSum(mlir::Value v);
  mlir::Value subgroupMax(mlir::Value v);

  // Structured control flow. Bodies get the induction variable and the
  // loop-carried values, and return the values to carry on.
  using LoopBody = llvm::function_ref<llvm::SmallVector<mlir::Value>(
      mlir::Value, mlir::ValueRange)>;
  llvm::SmallVector<mlir::Value> loop(mlir::Value lb, mlir::Value ub,
                                      mlir::Value step, mlir::ValueRange init,
                                      LoopBody body);
  void loop(mlir::Value lb, mlir::Value ub, mlir::Value step,
            llvm::function_ref<void(mlir::Value)> body);
  void ifThen(mlir::Value cond, llvm::function_ref<void()> then);
  llvm::SmallVector<mlir::Value>
  ifElse(mlir::Value cond, mlir::TypeRange types,
         llvm::function_ref<llvm::SmallVector<mlir::Value>()> then,
         llvm::function_ref<llvm::SmallVector<mlir::Value>()> otherwise);

private:
  mlir::ImplicitLocOpBuilder &b;
};

/// Creates an empty kernel `name` over `bindings` (memref arguments) and
/// `workgroupBuffers` (workgroup attributions) with a known workgroup size,
/// and leaves `b`'s insertion point in its body, before the gpu.return.
mlir::gpu::GPUFuncOp createKernel(mlir::ImplicitLocOpBuilder &b,
                                  llvm::StringRef name,
                                  mlir::TypeRange bindings,
                                  mlir::TypeRange workgroupBuffers,
                                  int64_t workgroupSize);

/// A workgroup buffer of `elements` elements of `type`.
mlir::MemRefType workgroupBuffer(mlir::MLIRContext *ctx, int64_t elements,
                                 mlir::Type type);

/// A binding of `bytes` bytes read as elements of `type` (rounded up: the
/// artifact pads every tensor to 64 bytes).
mlir::MemRefType bindingType(uint64_t bytes, mlir::Type type);

} // namespace fmc::gpu

#endif // FMC_LOWERING_GPU_GENERATOR_KERNELBUILDER_H
