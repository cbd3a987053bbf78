//===- Decode.h - 16-bit floats and dense parameters in i32 words ---------===//
//
// Parameters are bound as arrays of 32-bit words (the artifact pads every
// tensor to 64 bytes, so a read of the word after the last value stays
// inside the binding). These read one f32, f16 or bf16 element at any
// element index, and turn f32 into the 16-bit patterns caches store.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_LOWERING_GPU_GENERATOR_DECODE_H
#define FMC_LOWERING_GPU_GENERATOR_DECODE_H

#include "lowering/gpu/generator/KernelBuilder.h"

namespace fmc::gpu {

/// The 16 bits at byte `byte` of `words` (any byte: a value in the last
/// byte of a word continues in the next), zero-extended to i32.
mlir::Value read16(KernelBuilder &kb, mlir::Value words, mlir::Value byte);

/// f16 (widened with arith.extf) or bf16 (a shift: exact, and SPIR-V has no
/// bf16) bits in the low half of an i32, as f32.
mlir::Value halfToF32(KernelBuilder &kb, mlir::Value bits16, bool bf16);

/// Element `i` of a dense parameter of DenseType `dtype` (F32, F16, BF16).
mlir::Value denseElement(KernelBuilder &kb, mlir::Value words, int64_t dtype,
                         mlir::Value i);

/// The f16 bits of `x` (arith.truncf, round to nearest even) in an i32.
mlir::Value f32ToF16Bits(KernelBuilder &kb, mlir::Value x);
/// The bf16 bits of `x`, rounded to nearest even, NaNs kept quiet (as
/// runtime/cpu/Float16.h floatToBf16).
mlir::Value f32ToBf16Bits(KernelBuilder &kb, mlir::Value x);

} // namespace fmc::gpu

#endif // FMC_LOWERING_GPU_GENERATOR_DECODE_H
