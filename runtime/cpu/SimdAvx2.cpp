//===- SimdAvx2.cpp - the hot CPU kernels for avx2
//-------------------------===//
//
// Compiled with this instruction set's flags (see runtime/CMakeLists.txt);
// bestKernels() only hands this table out when the CPU supports them.
//
//===----------------------------------------------------------------------===//

#define FMC_SIMD_NS avx2
#define FMC_SIMD_BYTES 32
#define FMC_SIMD_TOKENS 2
#define FMC_SIMD_PANEL_TOKENS 6
#define FMC_SIMD_ISA "avx2"
#include "runtime/cpu/SimdKernels.inc"

const fmc::cpu::SimdKernels &fmc::cpu::avx2Kernels() { return avx2::table(); }
