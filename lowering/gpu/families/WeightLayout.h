//===- WeightLayout.h - how kernel templates read a weight parameter ------===//
//
// The GPU templates read every weight as i32 words: dense f32, f16 and bf16
// tensors element by element (two 16-bit elements a word), packed tensors
// in the row_major layout of lowering/quant/QuantMath.h (codes, then f16 or
// bf16 scales, then affine minimums), and ggml block tensors (GGUF weights
// kept exactly: runtime/GgmlBlocks.h) block by block, each row k / elements
// blocks. This is the one place that turns an
// fm.param into the specialization values those templates take, and that
// rejects the storage formats no GPU kernel reads.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_LOWERING_GPU_FAMILIES_WEIGHTLAYOUT_H
#define FMC_LOWERING_GPU_FAMILIES_WEIGHTLAYOUT_H

#include "lowering/gpu/LaunchBuilder.h"
#include "lowering/quant/QuantMath.h"
#include "runtime/GgmlBlocks.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/Support/Error.h"

#include <cstdint>

namespace fmc::gpu {

/// Dense element codes of the templates' `dtype` / `mode` arguments.
enum DenseType : int64_t { F32 = 0, F16 = 1, BF16 = 2, Absent = 3 };

/// A weight viewed as a [rows][k] matrix (leading dimensions flattened).
struct WeightLayout {
  bool packed = false;
  /// ggml blocks (neither dense nor packed): the block format; rowBytes is
  /// a row's blocks.
  const ggml::BlockFormat *ggml = nullptr;
  int64_t dtype = F32; ///< Dense only.
  quant::Format format; ///< Packed only.
  int64_t rows = 0, k = 0;
  // Packed only: the effective group size, groups per row, bytes of codes
  // per row, and the byte offsets of the scale and minimum arrays.
  int64_t group = 0, groups = 0;
  uint64_t rowBytes = 0, scalesAt = 0, minsAt = 0;
  /// Packed: the row's codes split into whole i32 words of whole groups,
  /// so a template decodes a word at a time (`aligned`).
  bool wordAligned() const;
};

/// The layout of parameter `symbol`, or an error naming it when its storage
/// is one no GPU kernel reads (i8, fmc's q8_0 and q4_0) or `role` (e.g. "weight of
/// plan.linear") needs a rank it does not have.
llvm::Expected<WeightLayout> weightLayout(LaunchBuilder &b,
                                          mlir::FlatSymbolRefAttr symbol,
                                          llvm::StringRef role);

/// A dense vector parameter (norm weight, bias): its DenseType and binding,
/// or Absent and `fallback` when `symbol` is null (the template's argument
/// is then unused). Packed and ggml block vectors are an error naming the
/// parameter.
struct VectorParam {
  int64_t dtype = Absent;
  Binding binding;
};
llvm::Expected<VectorParam> vectorParam(LaunchBuilder &b,
                                        mlir::FlatSymbolRefAttr symbol,
                                        llvm::StringRef role);

/// Workgroups of `threads` threads covering `items` items.
int64_t groupsFor(int64_t items, int64_t threads);
/// Workgroups per grid dimension every target allows (Vulkan's minimum, and
/// CUDA's past x).
constexpr int64_t kMaxGridDimension = 65535;

/// A grid of at least `workgroups` workgroups: x up to 65535 (Vulkan's
/// guaranteed limit), then rows of those in y. The templates number
/// workgroups y * grid_x + x and treat the spare ones as past the end.
std::array<uint32_t, 3> gridFor(int64_t workgroups);

/// The width of a plan rows buffer.
int64_t widthOf(mlir::Value rows);

} // namespace fmc::gpu

#endif // FMC_LOWERING_GPU_FAMILIES_WEIGHTLAYOUT_H
