//===- SpirvEntryPoints.h - one entry point of a SPIR-V module ------------===//
//
// SPIRV-Cross translates one entry point at a time, and its MSL backend
// declares every Workgroup variable of the module in the entry point it
// translates (SPIR-V 1.3 entry points list only their Input/Output
// variables). Translating a module of many kernels as it is would give every
// Metal kernel the threadgroup memory of all of them, so each entry point is
// first cut out of the module: the other entry points and whatever only they
// reach (functions, module-scope variables, their names and decorations)
// are removed.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_LOWERING_METAL_SPIRVENTRYPOINTS_H
#define FMC_LOWERING_METAL_SPIRVENTRYPOINTS_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace fmc::metal {

/// Checks `words` with the SPIRV-Tools validator (the rules of the SPIR-V
/// version in its header). The error carries the validator's message.
llvm::Error validateSpirv(llvm::ArrayRef<uint32_t> words);

/// A SPIR-V module indexed once (with SPIRV-Tools' binary parser) so that
/// each of its entry points can be cut out in one linear pass.
class SpirvModule {
public:
  /// Parses `words`; fails on a module SPIRV-Tools cannot parse.
  static llvm::Expected<SpirvModule> parse(llvm::ArrayRef<uint32_t> words);

  /// The names of the GLCompute entry points, in declaration order.
  const std::vector<std::string> &computeEntryPoints() const {
    return entryNames;
  }

  /// A copy of the module with GLCompute entry point `name` as its only
  /// entry point, without the functions it does not call, the module-scope
  /// variables they do not use, and the names and decorations of what was
  /// removed. Fails naming the module's entry points when it has none
  /// called `name`.
  llvm::Expected<std::vector<uint32_t>>
  extractEntryPoint(llvm::StringRef name) const;

private:
  struct Instruction {
    uint32_t begin = 0; ///< Word offset in the module.
    uint16_t words = 0;
    uint16_t opcode = 0;
    uint32_t result = 0;   ///< Result id, or 0.
    uint32_t function = 0; ///< Result id of its function, 0 at module scope.
    uint32_t target = 0;   ///< The id a name or decoration describes.
  };
  struct Function {
    llvm::SmallVector<uint32_t> callees;
    llvm::DenseSet<uint32_t> globals; ///< Module-scope variables it names.
    llvm::SmallVector<uint32_t> ids;  ///< Result ids defined in it.
  };
  struct EntryPoint {
    std::string name;
    uint32_t function = 0;
    llvm::SmallVector<uint32_t> interface;
    size_t instruction = 0;
  };

  std::vector<uint32_t> module;
  std::vector<Instruction> instructions;
  llvm::DenseMap<uint32_t, Function> functions;
  llvm::DenseSet<uint32_t> globals;
  std::vector<EntryPoint> entries; ///< GLCompute entry points only.
  std::vector<std::string> entryNames;
};

} // namespace fmc::metal

#endif // FMC_LOWERING_METAL_SPIRVENTRYPOINTS_H
