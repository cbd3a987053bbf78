//===- QuantizeWeights.cpp - low-bit encodings for weight parameters ------===//

#include "passes/Passes.h"

#include "dialects/fm/IR/FmOps.h"
#include "lowering/quant/QuantParam.h"

#include "llvm/ADT/MapVector.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Regex.h"

namespace mlir::fm {
#define GEN_PASS_DEF_QUANTIZEWEIGHTS
#include "passes/Passes.h.inc"
} // namespace mlir::fm

using namespace mlir;
using namespace mlir::fm;

namespace {

enum class Role { Linear, Embedding, Output, Other };

struct QuantizeWeightsPass
    : public fm::impl::QuantizeWeightsBase<QuantizeWeightsPass> {
  using QuantizeWeightsBase::QuantizeWeightsBase;

  void runOnOperation() override;

private:
  /// Parses one policy option; an empty one gives no format.
  LogicalResult parsePolicy(StringRef name, const std::string &text,
                            std::optional<fmc::quant::Format> &format);
  LogicalResult quantizeParam(ParamOp param, const fmc::quant::Format &format);
};

LogicalResult
QuantizeWeightsPass::parsePolicy(StringRef name, const std::string &text,
                                 std::optional<fmc::quant::Format> &format) {
  if (text.empty())
    return success();
  fmc::quant::Format f;
  std::string error = fmc::quant::parseFormat(text, f);
  if (!error.empty())
    return getOperation().emitError()
           << "fm-quantize-weights: option '" << name << "': " << error;
  format = f;
  return success();
}

LogicalResult QuantizeWeightsPass::quantizeParam(ParamOp param,
                                                 const fmc::quant::Format &f) {
  RankedTensorType type = param.getTensorType();
  param.setTypeAttr(TypeAttr::get(
      RankedTensorType::get(type.getShape(), type.getElementType(),
                            fmc::quant::quantAttrOf(&getContext(), f))));
  // Measure what the writer will do, from the same source bytes.
  ExternalAttr source = param.getSourceAttr();
  uint64_t bytes = fmc::quant::floatSourceBytes(param);
  // Mapping past the end of a file would fault when read: check its size.
  uint64_t size = 0;
  std::error_code ec = llvm::sys::fs::file_size(source.getFile(), size);
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> file =
      std::make_error_code(std::errc::invalid_argument);
  if (!ec && source.getOffset() <= size && bytes <= size - source.getOffset())
    file = llvm::MemoryBuffer::getFileSlice(source.getFile(), bytes,
                                            source.getOffset(),
                                            /*IsVolatile=*/false);
  if (ec || !file)
    return param.emitOpError()
           << "cannot read " << bytes << " bytes at offset "
           << source.getOffset() << " of '" << source.getFile() << "'"
           << (ec ? ": " + ec.message()
                  : " (" + std::to_string(size) + " bytes long)");
  fmc::quant::Stats stats;
  if (llvm::Error err = fmc::quant::packParameter(param, (*file)->getBuffer(),
                                                  /*out=*/nullptr, stats))
    return param.emitOpError() << llvm::toString(std::move(err));
  ++numQuantized;
  if (stats.lossless()) {
    ++numLossless;
    param->setAttr(fmc::quant::kLosslessAttr, UnitAttr::get(&getContext()));
    param->removeAttr(fmc::quant::kRelativeErrorAttr);
  } else {
    param->removeAttr(fmc::quant::kLosslessAttr);
    param->setAttr(
        fmc::quant::kRelativeErrorAttr,
        FloatAttr::get(Float64Type::get(&getContext()), stats.relativeError()));
  }
  return success();
}

void QuantizeWeightsPass::runOnOperation() {
  ModuleOp module = getOperation();
  std::optional<fmc::quant::Format> linearFormat, embeddingFormat, outputFormat;
  if (failed(parsePolicy("linear", linear, linearFormat)) ||
      failed(parsePolicy("embedding", embedding, embeddingFormat)) ||
      failed(parsePolicy("output", output, outputFormat)))
    return signalPassFailure();
  llvm::Regex pattern(linearPattern);
  std::string regexError;
  if (!linearPattern.empty() && !pattern.isValid(regexError)) {
    module.emitError() << "fm-quantize-weights: option 'linear-pattern': "
                       << regexError;
    return signalPassFailure();
  }

  // Every role each parameter plays, from the ops that name it.
  llvm::MapVector<StringRef, SmallVector<Role, 2>> roles;
  module.walk([&](Operation *op) {
    auto note = [&](FlatSymbolRefAttr ref, Role role) {
      if (ref)
        roles[ref.getValue()].push_back(role);
    };
    if (auto e = dyn_cast<EmbeddingOp>(op)) {
      note(e.getTableAttr(), Role::Embedding);
    } else if (auto l = dyn_cast<LinearOp>(op)) {
      note(l.getWeightAttr(), Role::Linear);
      note(l.getBiasAttr(), Role::Other);
    } else if (auto g = dyn_cast<LogitsOp>(op)) {
      note(g.getWeightAttr(), Role::Output);
    } else if (!isa<ParamOp>(op)) {
      for (NamedAttribute attr : op->getAttrs())
        if (auto ref = dyn_cast<FlatSymbolRefAttr>(attr.getValue()))
          roles[ref.getValue()].push_back(Role::Other);
    }
  });

  for (ParamOp param : llvm::make_early_inc_range(module.getOps<ParamOp>())) {
    auto it = roles.find(param.getSymName());
    if (it == roles.end() || param.getQuant() || param.isStack() ||
        param.getTensorType().getRank() != 2)
      continue;
    StorageType dtype = param.getSourceAttr().getDtype();
    if (dtype != StorageType::f32 && dtype != StorageType::f16 &&
        dtype != StorageType::bf16)
      continue;
    ArrayRef<Role> used = it->second;
    if (llvm::is_contained(used, Role::Other))
      continue; // A norm, bias or MoE operand: kept in float.
    std::optional<fmc::quant::Format> format;
    if (llvm::is_contained(used, Role::Embedding))
      format = embeddingFormat;
    else if (llvm::is_contained(used, Role::Output))
      format = outputFormat;
    else if (linearPattern.empty() || pattern.match(param.getSymName()))
      format = linearFormat;
    if (format && failed(quantizeParam(param, *format)))
      return signalPassFailure();
  }
}

} // namespace
