//===- MergeAdapter.h - a PEFT LoRA adapter folded into a model's weights -===//
//
// fmc-compile MODEL --adapter DIR --merge: every adapted module's weight
// gets a #fm.lora_delta (its A, B, rank and alpha/r scale, read from the
// adapter's safetensors when the artifact is written), after checking the
// adapter fits the model: each module a linear layer whose weight is a dense
// float matrix from a file, of A's input and B's output width.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_IMPORT_BUILDER_MERGEADAPTER_H
#define FMC_IMPORT_BUILDER_MERGEADAPTER_H

#include "import/readers/PeftAdapter.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

namespace fmc::import {

llvm::Error mergeAdapter(mlir::ModuleOp module, const PeftAdapter &adapter);

} // namespace fmc::import

#endif // FMC_IMPORT_BUILDER_MERGEADAPTER_H
