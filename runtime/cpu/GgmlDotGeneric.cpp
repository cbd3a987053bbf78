//===- GgmlDotGeneric.cpp - ggml block dot products for any x86-64 --------===//

#define FMC_GGML_DOT_NS ggml_dot_generic
#define FMC_GGML_DOT_ISA "generic"
#define FMC_GGML_DOT_AVX2 0
#define FMC_GGML_DOT_AVX512 0
#include "runtime/cpu/GgmlDot.inc"

const fmc::cpu::GgmlDotTable &fmc::cpu::ggmlDotGeneric() {
  return ggml_dot_generic::table();
}
