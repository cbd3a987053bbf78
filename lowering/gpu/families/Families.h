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

/// The code the MoE template (moe.mlir) and the generated kernels take for an
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
/// plan.attention (kernels/attention.mlir; in a program of one row,
/// lowerDecodeAttention with plan::defaultDecodeAttentionSplits).
llvm::Error lowerAttention(mlir::Operation *kernel, LaunchBuilder &builder);
/// plan.kv_append (kernels/attention.mlir's kv_append).
llvm::Error lowerKvAppend(mlir::Operation *kernel, LaunchBuilder &builder);
/// plan.attention `attention` in a program of one row, as flash-decoding
/// over `splits` ranges of cache slots (kernels/attention_decode.mlir):
/// a writer's kv_append, the split kernel, and with more than one split the
/// combine kernel. `splits` is from 1 to the cache's capacity.
llvm::Error lowerDecodeAttention(mlir::Operation *attention,
                                 LaunchBuilder &builder, int64_t splits);
/// plan.all_reduce: a collective launch (no kernel) summing its inputs
/// across the ranks into its outputs.
llvm::Error lowerAllReduce(mlir::Operation *kernel, LaunchBuilder &builder);
/// plan.moe_route, plan.moe_combine, plan.moe (kernels/moe.mlir).
llvm::Error lowerMoeRoute(mlir::Operation *kernel, LaunchBuilder &builder);
llvm::Error lowerMoeCombine(mlir::Operation *kernel, LaunchBuilder &builder);
llvm::Error lowerMoe(mlir::Operation *kernel, LaunchBuilder &builder);

} // namespace fmc::gpu

#endif // FMC_LOWERING_GPU_FAMILIES_FAMILIES_H
