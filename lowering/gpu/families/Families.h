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

/// plan.add, plan.mul (kernels/elementwise.mlir).
llvm::Error lowerElementwise(mlir::Operation *kernel, LaunchBuilder &builder);
/// plan.embedding (kernels/embedding.mlir).
llvm::Error lowerEmbedding(mlir::Operation *kernel, LaunchBuilder &builder);
/// plan.rms_norm, plan.layer_norm (kernels/norm.mlir).
llvm::Error lowerRmsNorm(mlir::Operation *kernel, LaunchBuilder &builder);
llvm::Error lowerLayerNorm(mlir::Operation *kernel, LaunchBuilder &builder);
/// plan.rope (kernels/rope.mlir).
llvm::Error lowerRope(mlir::Operation *kernel, LaunchBuilder &builder);
/// plan.activation, plan.glu (kernels/activation.mlir).
llvm::Error lowerActivation(mlir::Operation *kernel, LaunchBuilder &builder);
/// plan.linear, plan.logits, plan.grouped_linear (kernels/linear.mlir).
llvm::Error lowerLinear(mlir::Operation *kernel, LaunchBuilder &builder);
/// plan.track_combine, plan.last_row (kernels/rows.mlir).
llvm::Error lowerTrackCombine(mlir::Operation *kernel, LaunchBuilder &builder);
llvm::Error lowerLastRow(mlir::Operation *kernel, LaunchBuilder &builder);
/// plan.attention (kernels/attention.mlir; in a program of one row,
/// lowerDecodeAttention with defaultDecodeAttentionSplits).
llvm::Error lowerAttention(mlir::Operation *kernel, LaunchBuilder &builder);
/// The number of ranges decode attention over `cache` splits its slots into:
/// ranges of at least 32 slots, about 512 workgroups over the cache's KV
/// heads, from 1 to 64 (AttentionDecode.cpp says why).
int64_t defaultDecodeAttentionSplits(mlir::fm::KVCacheOp cache);
/// plan.attention `attention` in a program of one row, as flash-decoding
/// over `splits` ranges of cache slots (kernels/attention_decode.mlir):
/// a writer's kv_append, the split kernel, and with more than one split the
/// combine kernel. `splits` is from 1 to the cache's capacity.
llvm::Error lowerDecodeAttention(mlir::Operation *attention,
                                 LaunchBuilder &builder, int64_t splits);
/// plan.moe_route, plan.moe_combine, plan.moe (kernels/moe.mlir).
llvm::Error lowerMoeRoute(mlir::Operation *kernel, LaunchBuilder &builder);
llvm::Error lowerMoeCombine(mlir::Operation *kernel, LaunchBuilder &builder);
llvm::Error lowerMoe(mlir::Operation *kernel, LaunchBuilder &builder);

} // namespace fmc::gpu

#endif // FMC_LOWERING_GPU_FAMILIES_FAMILIES_H
