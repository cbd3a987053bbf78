//===- GgmlDequantAvx2.cpp - ggml block decoders for avx2 -----------------===//
//
// Compiled with -mavx2 -mfma -mf16c (runtime/CMakeLists.txt); GgmlDequant.cpp
// calls it only on CPUs that support them.
//
//===----------------------------------------------------------------------===//

#define FMC_GGML_NS ggml_avx2
#include "runtime/cpu/GgmlDequant.inc"
