//===- QuantAvx512Vnni.cpp - packed-weight kernels for avx512vnni
//------------------===//
//
// Compiled with this instruction set's flags (see runtime/CMakeLists.txt);
// bestQuantKernels() only hands this table out when the CPU supports them.
//
//===----------------------------------------------------------------------===//

// GCC 12's avx512fintrin.h (_mm512_cvtepi32_ps, the 256-bit halves) reads
// an intentionally undefined register and warns about itself.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

#define FMC_QUANT_NS quant_avx512vnni
#define FMC_QUANT_ISA "avx512vnni"
#define FMC_QUANT_DOT 2
#include "runtime/cpu/QuantKernels.inc"

const fmc::cpu::QuantKernelTable &fmc::cpu::quantAvx512VnniKernels() {
  return quant_avx512vnni::table();
}
