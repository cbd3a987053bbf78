//===- QuantAvx2.cpp - packed-weight kernels for avx2 ------------------===//
//
// Compiled with this instruction set's flags (see runtime/CMakeLists.txt);
// bestQuantKernels() only hands this table out when the CPU supports them.
//
//===----------------------------------------------------------------------===//

#define FMC_QUANT_NS quant_avx2
#define FMC_QUANT_ISA "avx2"
#define FMC_QUANT_DOT 1
#include "runtime/cpu/QuantKernels.inc"

const fmc::cpu::QuantKernelTable &fmc::cpu::quantAvx2Kernels() {
  return quant_avx2::table();
}
