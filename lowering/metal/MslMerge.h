//===- MslMerge.h - one MSL source from per-kernel translations -----------===//
//
// SPIRV-Cross writes one complete MSL translation unit per entry point:
// preprocessor lines, `using namespace metal;`, the helper templates that
// kernel needs, every struct type of the module, the kernel. The units come
// from one SPIR-V module, so a struct has the same name (`_<id>`) and
// definition in every unit, and a helper the same text. Merging keeps the
// first copy of each top-level block (a struct, a helper, a kernel) in
// order of first appearance, which keeps every block after what it uses,
// and fails when two units define the same name differently.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_LOWERING_METAL_MSLMERGE_H
#define FMC_LOWERING_METAL_MSLMERGE_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <string>

namespace fmc::metal {

/// One entry point's MSL translation unit.
struct MslUnit {
  std::string entryPoint;
  std::string source;
};

/// One MSL source holding every unit's kernel once, and every struct and
/// helper once.
llvm::Expected<std::string> mergeMslUnits(llvm::ArrayRef<MslUnit> units);

} // namespace fmc::metal

#endif // FMC_LOWERING_METAL_MSLMERGE_H
