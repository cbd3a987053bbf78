//===- QuantParam.h - quantizing an fm.param's source --------------------===//
//
// The bridge between fm.param (its #fm.quant encoding and float source) and
// QuantMath: used by the fm-quantize-weights pass to measure what
// quantization will do, and by the artifact writer to pack the bytes it
// writes. Both call packParameter, so what the report says is what the
// artifact holds.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_LOWERING_QUANT_QUANTPARAM_H
#define FMC_LOWERING_QUANT_QUANTPARAM_H

#include "dialects/fm/IR/FmOps.h"
#include "lowering/quant/QuantMath.h"

#include "llvm/Support/Error.h"

#include <string>

namespace fmc::quant {

/// The discardable attributes fm-quantize-weights sets on a quantized
/// parameter for the size report: whether every group was on the grid
/// (unit), and the relative error ||w - q(w)|| / ||w||.
inline constexpr const char *kLosslessAttr = "fm.quant_lossless";
inline constexpr const char *kRelativeErrorAttr = "fm.quant_error";

Format formatOf(mlir::fm::QuantAttr quant);
mlir::fm::QuantAttr quantAttrOf(mlir::MLIRContext *context,
                                const Format &format);

/// Success when the artifact can hold `param`'s #fm.quant encoding (2 or 4
/// bits, f16 or bf16 scales, groups of 32, 64, 128 or one per row: what the
/// runtime's kernels read); otherwise an error naming the parameter.
llvm::Error checkEncoding(mlir::fm::ParamOp param);

/// Whether the writer quantizes `param` (a #fm.quant type over an f32,
/// f16 or bf16 file source).
bool isQuantizedWhenWritten(mlir::fm::ParamOp param);
/// Whether `param` is a stack with a #fm.quant encoding (fm.moe's expert
/// weights under fm-quantize-weights): its float source is its parts'
/// bytes concatenated, quantized as one [rows][k] matrix. Rows never mix
/// parts (every part has the stack's last dimension), so each expert's
/// rows, scales and minimums are a contiguous slice of each array.
bool isQuantizedStack(mlir::fm::ParamOp param);
/// The float dtype a quantized parameter is read as: its source's, or its
/// first part's for a stack (the verifier makes the parts agree).
mlir::fm::StorageType floatSourceType(mlir::fm::ParamOp param);
/// Bytes of the float source such a parameter reads (a stack: its parts'
/// bytes together).
uint64_t floatSourceBytes(mlir::fm::ParamOp param);

/// Quantizes the float source bytes of `param` (floatSourceBytes of them)
/// to its encoding's packed layout (getStorageBytes bytes), on all
/// threads. `stats` receives what quantization did; `out` may be null to
/// measure only.
llvm::Error packParameter(mlir::fm::ParamOp param, llvm::StringRef source,
                          uint8_t *out, Stats &stats);

} // namespace fmc::quant

#endif // FMC_LOWERING_QUANT_QUANTPARAM_H
