//===- Builder.h - a ModelSource as an fm module --------------------------===//
//
// The importer's IR builder: turns the normalized model description a format
// reader produced (import/ModelSource.h) into an `fm` module in the style of
// test/Models/stories260k.mlir: one fm.param per tensor used (referenced in
// place, never copied), one fm.kv_cache per cache-owning attention layer, the
// tokenizer when the source has one, and `func.func @forward(%tokens, %pos)`
// returning logits. Architecture facts (sliding windows, NoPE layers, KV
// sharing, experts, parallel tracks) become ops and attributes.
//
// The builder never reads tensor bytes: it needs only the config and the
// tensor table, so a multi-billion-parameter model imports in milliseconds.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_IMPORT_BUILDER_BUILDER_H
#define FMC_IMPORT_BUILDER_BUILDER_H

#include "import/ModelSource.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

namespace fmc::import {

/// Builds the fm module of `source`. Loads the fm and func dialects into
/// `context`. On bad input (unknown model_type, a missing or invalid config
/// field, a missing or unexpected tensor, a tensor whose shape disagrees with
/// the config, an unsupported dtype or feature) returns one error whose text
/// starts with the file at fault ("<dir>/config.json: ..." or
/// "<file>.safetensors: ...") and names the field or tensor.
llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>
buildFmModule(mlir::MLIRContext &context, const ModelSource &source);

/// The config `model_type` values buildFmModule accepts.
llvm::ArrayRef<llvm::StringRef> supportedArchitectures();

} // namespace fmc::import

#endif // FMC_IMPORT_BUILDER_BUILDER_H
