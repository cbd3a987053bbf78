//===- QuantGeneric.cpp - packed-weight kernels for generic
//------------------===//
//
// Compiled with this instruction set's flags (see runtime/CMakeLists.txt);
// bestQuantKernels() only hands this table out when the CPU supports them.
//
//===----------------------------------------------------------------------===//

#define FMC_QUANT_NS quant_generic
#define FMC_QUANT_ISA "generic"
#define FMC_QUANT_DOT 0
#include "runtime/cpu/QuantKernels.inc"

const fmc::cpu::QuantKernelTable &fmc::cpu::quantGenericKernels() {
  return quant_generic::table();
}
