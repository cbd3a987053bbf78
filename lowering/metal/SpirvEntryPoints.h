//===- SpirvEntryPoints.h - one entry point of a SPIR-V module ------------===//
//
// SPIRV-Cross translates one entry point at a time, and its MSL backend
// declares every Workgroup variable of the module in the entry point it
// translates (SPIR-V 1.3 entry points list only their Input/Output
// variables). Translating a module of many kernels as it is would give every
// Metal kernel the threadgroup memory of all of them, so each entry point is
// first cut out of the module: the other entry points and whatever only they
// reach (functions, module-scope variables) are removed.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_LOWERING_METAL_SPIRVENTRYPOINTS_H
#define FMC_LOWERING_METAL_SPIRVENTRYPOINTS_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace fmc::metal {

/// Checks `words` with the SPIRV-Tools validator (the rules of the SPIR-V
/// version in its header). The error carries the validator's message.
llvm::Error validateSpirv(llvm::ArrayRef<uint32_t> words);

/// The names of the module's GLCompute entry points, in declaration order.
/// Fails on a malformed module (bad header, truncated instruction).
llvm::Expected<std::vector<std::string>>
spirvComputeEntryPoints(llvm::ArrayRef<uint32_t> words);

/// A copy of the (valid) module `words` with GLCompute entry point `name` as
/// its only entry point, without the functions and module-scope variables
/// only other entry points reach. Fails naming the module's entry points
/// when it has none called `name`.
llvm::Expected<std::vector<uint32_t>>
extractSpirvEntryPoint(llvm::ArrayRef<uint32_t> words, llvm::StringRef name);

} // namespace fmc::metal

#endif // FMC_LOWERING_METAL_SPIRVENTRYPOINTS_H
