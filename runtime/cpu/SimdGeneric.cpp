//===- SimdGeneric.cpp - the hot CPU kernels for generic
//-------------------------===//
//
// Compiled with this instruction set's flags (see runtime/CMakeLists.txt);
// bestKernels() only hands this table out when the CPU supports them.
//
//===----------------------------------------------------------------------===//

#define FMC_SIMD_NS generic
#define FMC_SIMD_BYTES 16
#define FMC_SIMD_TOKENS 2
#define FMC_SIMD_PANEL_TOKENS 6
#define FMC_SIMD_ISA "generic"
#include "runtime/cpu/SimdKernels.inc"

const fmc::cpu::SimdKernels &fmc::cpu::genericKernels() {
  return generic::table();
}
