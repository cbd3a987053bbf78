//===- GgmlDotAvx512Vnni.cpp - ggml block dot products for avx512vnni ----===//
//
// Compiled with AVX-512 (F, BW, VL, VNNI) and AVX2 flags
// (runtime/CMakeLists.txt); bestGgmlDot() hands this table out only on CPUs
// that support them. The formats without AVX-512 rows keep their portable
// rows, vectorized by the compiler for this instruction set.
//
//===----------------------------------------------------------------------===//

#define FMC_GGML_DOT_NS ggml_dot_avx512vnni
#define FMC_GGML_DOT_ISA "avx512vnni"
#define FMC_GGML_DOT_AVX2 1
#define FMC_GGML_DOT_AVX512 1



#include "runtime/cpu/GgmlDot.inc"

const fmc::cpu::GgmlDotTable &fmc::cpu::ggmlDotAvx512Vnni() {
  return ggml_dot_avx512vnni::table();
}
