//===- MatvecEpilogues.h - what a matvec does with its result tile --------===//
//
// After the products, a matvec workgroup holds its rows' results for the
// pass's tokens in workgroup memory (`tile`, and `tileUp` for the up half
// of gate/up pairs). The row epilogue finishes each (row, token) on its
// own: bias, GLU, logits scale and soft-cap, residual add, store. The head
// epilogue finishes one attention head per workgroup, which the per-head
// steps need: bias, qk-norm (a reduction over the head), RoPE (pairs within
// the head), the store, and the KV-cache append (int8: a reduction for the
// scale), in the cache layout of families/AttentionCache.h.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_LOWERING_GPU_GENERATOR_MATVECEPILOGUES_H
#define FMC_LOWERING_GPU_GENERATOR_MATVECEPILOGUES_H

#include "lowering/gpu/generator/KernelBuilder.h"
#include "lowering/gpu/generator/MatvecKernel.h"

namespace fmc::gpu {

struct EpilogueContext {
  KernelBuilder &kb;
  const MatvecKernelSpec &spec;
  const MatvecSegment &segment;
  llvm::ArrayRef<mlir::Value> bindings;
  mlir::Value tile, tileUp, scratch, partials;
  mlir::Value tid, workgroup, rows, firstToken;
  /// The output row of a token of the run (MatvecEmitter::outputRow).
  llvm::function_ref<mlir::Value(mlir::Value)> outputRow;
};

void emitRowEpilogue(const EpilogueContext &c);
void emitHeadEpilogue(const EpilogueContext &c);

/// The features of RoPE pair `j` of a head: (2j, 2j + 1) interleaved, or
/// (j, j + rotary / 2) rotate-half (runtime/cpu/Kernels.cpp rope()).
std::pair<mlir::Value, mlir::Value>
ropePairFeatures(KernelBuilder &kb, const MatvecRope &rope, mlir::Value j);
/// Pair j turned by position * inv_freq_j (theta^(-2j / rotary), or the
/// scaled table): (a c - b s, a s + b c), c and s times the attention factor.
std::pair<mlir::Value, mlir::Value>
emitRopePair(KernelBuilder &kb, const MatvecRope &rope, mlir::Value j,
             mlir::Value a, mlir::Value b, mlir::Value position);

/// `x` through activation `code` (families/Families.h activationCode).
mlir::Value emitActivation(KernelBuilder &kb, int64_t code, mlir::Value x);

} // namespace fmc::gpu

#endif // FMC_LOWERING_GPU_GENERATOR_MATVECEPILOGUES_H
