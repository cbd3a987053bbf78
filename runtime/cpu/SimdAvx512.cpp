//===- SimdAvx512.cpp - the hot CPU kernels for avx512
//-------------------------===//
//
// Compiled with this instruction set's flags (see runtime/CMakeLists.txt);
// bestKernels() only hands this table out when the CPU supports them.
//
//===----------------------------------------------------------------------===//

// GCC 12's avx512fintrin.h (_mm512_cvtph_ps) reads an intentionally
// undefined register and warns about itself.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#define FMC_SIMD_NS avx512
#define FMC_SIMD_BYTES 64
#define FMC_SIMD_TOKENS 4
#define FMC_SIMD_PANEL_TOKENS 8
#define FMC_SIMD_ISA "avx512"
#include "runtime/cpu/SimdKernels.inc"

const fmc::cpu::SimdKernels &fmc::cpu::avx512Kernels() {
  return avx512::table();
}
