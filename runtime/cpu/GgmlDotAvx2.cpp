//===- GgmlDotAvx2.cpp - ggml block dot products for avx2 -----------------===//
//
// Compiled with -mavx2 -mfma -mf16c (runtime/CMakeLists.txt); bestGgmlDot()
// hands this table out only on CPUs that support them.
//
//===----------------------------------------------------------------------===//

#define FMC_GGML_DOT_NS ggml_dot_avx2
#define FMC_GGML_DOT_ISA "avx2"
#define FMC_GGML_DOT_AVX2 1
#define FMC_GGML_DOT_AVX512 0
#include "runtime/cpu/GgmlDot.inc"

const fmc::cpu::GgmlDotTable &fmc::cpu::ggmlDotAvx2() {
  return ggml_dot_avx2::table();
}
