//===- StackedParams.h - the bytes of a stacked parameter -----------------===//
//
// MoE fusion (and track batching) declare parameters that `stack` other
// parameters: their bytes are the parts' bytes, in order. The artifact writer
// stores a stack as one tensor, written piece by piece straight from the
// parts' files (a model's stacks are never all in memory at once). A stack
// with a #fm.quant encoding is instead packed by the writer from its parts'
// float bytes, joined in a temporary buffer one stack at a time.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_LOWERING_ARTIFACT_STACKEDPARAMS_H
#define FMC_LOWERING_ARTIFACT_STACKEDPARAMS_H

#include "dialects/fm/IR/FmOps.h"

#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <vector>

namespace fmc::artifact {

/// Reads the stored bytes of a parameter that comes from a file.
using PartBytesFn =
    llvm::function_ref<llvm::Expected<llvm::StringRef>(mlir::fm::ParamOp)>;

/// The bytes of `stack` as pieces to write in order: its parts' bytes (read
/// with `partBytes`). Fails naming the stack (and the part) when a part is
/// missing or unreadable, or the parts' bytes do not add up to the stack's
/// storage size.
llvm::Expected<std::vector<llvm::StringRef>>
stackPieces(mlir::fm::ParamOp stack, PartBytesFn partBytes);

} // namespace fmc::artifact

#endif // FMC_LOWERING_ARTIFACT_STACKEDPARAMS_H
