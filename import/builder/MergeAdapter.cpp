//===- MergeAdapter.cpp - a PEFT LoRA adapter folded into a model ---------===//

#include "import/builder/MergeAdapter.h"

#include "dialects/fm/IR/FmOps.h"

#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/StringSet.h"

using namespace mlir;
using namespace mlir::fm;

namespace fmc::import {

namespace {

llvm::Error fail(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

std::optional<StorageType> storageOf(DType dtype) {
  switch (dtype) {
  case DType::F32:
    return StorageType::f32;
  case DType::F16:
    return StorageType::f16;
  case DType::BF16:
    return StorageType::bf16;
  default:
    return std::nullopt;
  }
}

} // namespace

llvm::Error mergeAdapter(ModuleOp module, const PeftAdapter &adapter) {
  SymbolTable symbols(module);
  llvm::StringSet<> linearWeights;
  module.walk([&](LinearOp linear) { linearWeights.insert(linear.getWeight()); });
  MLIRContext *context = module.getContext();
  for (const LoraModule &lora : adapter.modules) {
    std::string name = lora.module + ".weight";
    auto weight = symbols.lookup<ParamOp>(name);
    if (!weight || !linearWeights.contains(name))
      return fail("adapter module '" + lora.module +
                  "' is not a linear layer of the model (the adapter was "
                  "trained for another model)");
    std::optional<StorageType> dtype =
        weight.getSourceAttr() ? std::optional(weight.getSourceAttr().getDtype())
                               : std::nullopt;
    if (weight.getQuant() || weight.getDeltaAttr() || !dtype ||
        (*dtype != StorageType::f32 && *dtype != StorageType::f16 &&
         *dtype != StorageType::bf16))
      return fail("adapter module '" + lora.module +
                  "': --merge folds adapters into f32, f16 or bf16 weights; "
                  "its weight is stored as " +
                  (dtype ? stringifyStorageType(*dtype) : "a stack") +
                  " (apply it at run time instead: --lora-rank on the base, "
                  "then --adapter DIR --base)");
    ArrayRef<int64_t> shape = weight.getTensorType().getShape();
    if (lora.a.shape[1] != shape[1] || lora.b.shape[0] != shape[0])
      return fail("adapter module '" + lora.module + "' maps " +
                  llvm::Twine(lora.a.shape[1]) + " -> " +
                  llvm::Twine(lora.b.shape[0]) + " features, its linear " +
                  llvm::Twine(shape[1]) + " -> " + llvm::Twine(shape[0]) +
                  " (the adapter was trained for another model)");
    auto external = [&](const TensorRef &t) {
      return ExternalAttr::get(context, t.file, t.offset, *storageOf(t.dtype));
    };
    weight.setDeltaAttr(LoraDeltaAttr::get(context, external(lora.a),
                                           external(lora.b), lora.rank,
                                           llvm::APFloat(lora.scale)));
  }
  return llvm::Error::success();
}

} // namespace fmc::import
