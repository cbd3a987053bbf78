//===- GgmlDecode.h - ggml blocks decoded in GPU kernels ------------------===//
//
// GGUF weights stay in ggml's block formats (runtime/GgmlBlocks.h) on the
// GPU too. A kernel decodes them a run of 32 consecutive elements at a
// time: every format's block is one run (32-element blocks) or eight
// (256-element blocks), a run never needs more than two scales (K-quants'
// 16-element sub-blocks), and 32 elements tile the 128-feature activation
// tiles of the matvec. Each run is straight-line code for its format; the
// run index within the block may vary at run time, so the bytes a run
// reads are chosen by shifts and selects instead of branches.
//
// Every value is what runtime/cpu/GgmlDequant.inc computes for the same
// element, with the same operations in the same order (f16 scales widened
// exactly, K-quant 6-bit scales and minimums, the IQ4 non-linear grid,
// TQ1_0's base-3 digits), so the GPU and CPU kernels multiply the same f32
// weights.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_LOWERING_GPU_GENERATOR_GGMLDECODE_H
#define FMC_LOWERING_GPU_GENERATOR_GGMLDECODE_H

#include "lowering/gpu/generator/KernelBuilder.h"
#include "runtime/GgmlBlocks.h"

#include "llvm/ADT/SmallVector.h"

namespace fmc::gpu {

/// Elements of one run: what a kernel decodes at once.
inline constexpr int64_t kGgmlRun = 32;

/// `count` little-endian 32-bit words starting at byte `byte` of `words`
/// (any alignment). No word past the one holding the last byte is read.
llvm::SmallVector<mlir::Value> readWordsAt(KernelBuilder &kb,
                                           mlir::Value words, mlir::Value byte,
                                           int64_t count);

/// The f32 values of elements 32 * run .. 32 * run + 31 of the ggml block
/// of format `format` that starts at byte `block` of `words` (an i32
/// binding), in element order. `run` is an index below
/// format.elements / 32.
llvm::SmallVector<mlir::Value, kGgmlRun>
decodeGgmlRun(KernelBuilder &kb, const ggml::BlockFormat &format,
              mlir::Value words, mlir::Value block, mlir::Value run);

} // namespace fmc::gpu

#endif // FMC_LOWERING_GPU_GENERATOR_GGMLDECODE_H
