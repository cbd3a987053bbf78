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

/// The code the templates (activation.mlir, moe.mlir) take for an
/// activation: silu 0, gelu 1, gelu_tanh 2, sigmoid 3, relu 4.
int64_t activationCode(mlir::fm::Activation kind);

/// A #plan.matvec dispatch (generator/MatvecKernel.h).
llvm::Error lowerMatvec(mlir::Operation *dispatch, LaunchBuilder &builder);
/// A #plan.rowwise dispatch (generator/RowwiseKernel.h).
llvm::Error lowerRowwise(mlir::Operation *dispatch, LaunchBuilder &builder);

/// plan.embedding (kernels/embedding.mlir).
llvm::Error lowerEmbedding(mlir::Operation *kernel, LaunchBuilder &builder);
/// plan.track_combine, plan.last_row (kernels/rows.mlir).
llvm::Error lowerTrackCombine(mlir::Operation *kernel, LaunchBuilder &builder);
llvm::Error lowerLastRow(mlir::Operation *kernel, LaunchBuilder &builder);
/// plan.attention (kernels/attention.mlir).
llvm::Error lowerAttention(mlir::Operation *kernel, LaunchBuilder &builder);
/// plan.kv_append (kernels/attention.mlir's kv_append).
llvm::Error lowerKvAppend(mlir::Operation *kernel, LaunchBuilder &builder);
/// Appends rows of `k` and `v` at `positions` to `cache`: one kv_append
/// dispatch for the keys and one for the values.
llvm::Error dispatchKvAppend(LaunchBuilder &builder, mlir::Value k,
                             mlir::Value v, mlir::Value positions,
                             mlir::FlatSymbolRefAttr cache);
/// The smallest workgroup (a multiple of 64, so of every subgroup width)
/// with a thread per feature of a head (the attention kernels').
int64_t attentionWorkgroupFor(int64_t headDim);
/// plan.moe_route, plan.moe_combine, plan.moe (kernels/moe.mlir).
llvm::Error lowerMoeRoute(mlir::Operation *kernel, LaunchBuilder &builder);
llvm::Error lowerMoeCombine(mlir::Operation *kernel, LaunchBuilder &builder);
llvm::Error lowerMoe(mlir::Operation *kernel, LaunchBuilder &builder);

} // namespace fmc::gpu

#endif // FMC_LOWERING_GPU_FAMILIES_FAMILIES_H
