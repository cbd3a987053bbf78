//===- GgmlDequantGeneric.cpp - ggml block decoders for any x86-64 --------===//

#define FMC_GGML_NS ggml_generic
#include "runtime/cpu/GgmlDequant.inc"
