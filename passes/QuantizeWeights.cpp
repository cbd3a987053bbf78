//===- QuantizeWeights.cpp - low-bit encodings for weight parameters ------===//

#include "passes/Passes.h"

#include "dialects/fm/IR/ExternalRows.h"
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

/// Expert: fm.moe's expert projections (gate_up, down and the shared
/// expert's), quantized with the linear policy; stacks are quantized only
/// when every use is one of these (the MoE kernel reads packed stacks).
/// Router: an fm.linear whose result only feeds fm.moe_route, or fm.moe's
/// router: kept in float in both forms, so fused and unfused experts see
/// the same routing. A linear of one output (the shared expert's gate)
/// is kept in float for the same reason.
enum class Role { Linear, Embedding, Output, Other, Expert };

struct QuantizeWeightsPass
    : public fm::impl::QuantizeWeightsBase<QuantizeWeightsPass> {
  using QuantizeWeightsBase::QuantizeWeightsBase;
  QuantizeWeightsPass(QuantizeWeightsOptions options, OptionNames names)
      : QuantizeWeightsBase(std::move(options)), names(std::move(names)) {}

  void runOnOperation() override;

private:
  /// Parses one policy option; an empty one gives no format.
  LogicalResult parsePolicy(StringRef name, const std::string &text,
                            std::optional<fmc::quant::Format> &format);
  LogicalResult quantizeParam(ParamOp param, const fmc::quant::Format &format);
  /// The float bytes of a file parameter's source (mapped) into `holder`.
  /// `stack` names the stack `param` is a part of (for the message).
  LogicalResult readSource(ParamOp param, uint64_t bytes,
                           std::unique_ptr<llvm::MemoryBuffer> &holder,
                           ParamOp stack = nullptr);

  OptionNames names;
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
           << "fm-quantize-weights: option '" << names(name) << "': " << error;
  format = f;
  return success();
}

LogicalResult
QuantizeWeightsPass::readSource(ParamOp param, uint64_t bytes,
                                std::unique_ptr<llvm::MemoryBuffer> &holder,
                                ParamOp stack) {
  ExternalAttr source = param.getSourceAttr();
  // Mapping past the end of a file would fault when read: check its size.
  uint64_t size = 0;
  std::error_code ec = llvm::sys::fs::file_size(source.getFile(), size);
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> file =
      std::make_error_code(std::errc::invalid_argument);
  // A strided source (a tensor-parallel block of columns) spans from its
  // first row's start to its last row's end; its rows are gathered below.
  ExternalRows rows = externalRowsOf(param, source, bytes);
  uint64_t span = rows.span;
  if (!ec && source.getOffset() <= size && span <= size - source.getOffset())
    file = llvm::MemoryBuffer::getFileSlice(source.getFile(), span,
                                            source.getOffset(),
                                            /*IsVolatile=*/false);
  if (file && rows.strided()) {
    std::unique_ptr<llvm::WritableMemoryBuffer> joined =
        llvm::WritableMemoryBuffer::getNewUninitMemBuffer(bytes);
    rows.gather((*file)->getBufferStart(), joined->getBufferStart());
    file = std::unique_ptr<llvm::MemoryBuffer>(std::move(joined));
  }
  if (ec || !file)
    return param.emitOpError()
           << "cannot read " << span << " bytes at offset "
           << source.getOffset() << " of '" << source.getFile() << "'"
           << (ec ? ": " + ec.message()
                  : " (" + std::to_string(size) + " bytes long)")
           << (stack ? " for the quantized stack @" + stack.getSymName().str()
                     : std::string());
  holder = std::move(*file);
  return success();
}

LogicalResult QuantizeWeightsPass::quantizeParam(ParamOp param,
                                                 const fmc::quant::Format &f) {
  RankedTensorType type = param.getTensorType();
  param.setTypeAttr(TypeAttr::get(
      RankedTensorType::get(type.getShape(), type.getElementType(),
                            fmc::quant::quantAttrOf(&getContext(), f))));
  // Measure what the writer will do, from the same source bytes: a file
  // parameter's, or a stack's parts' concatenated.
  std::unique_ptr<llvm::MemoryBuffer> file;
  std::string joined;
  StringRef floats;
  if (param.isStack()) {
    for (Attribute ref : param.getPartsAttr()) {
      auto part = SymbolTable::lookupNearestSymbolFrom<ParamOp>(
          param, cast<FlatSymbolRefAttr>(ref));
      if (failed(readSource(part, fmc::quant::floatSourceBytes(part), file,
                            param)))
        return failure();
      joined += file->getBuffer();
    }
    floats = joined;
  } else {
    if (failed(readSource(param, fmc::quant::floatSourceBytes(param), file)))
      return failure();
    floats = file->getBuffer();
  }
  fmc::quant::Stats stats;
  if (llvm::Error err = fmc::quant::packParameter(param, floats,
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
    module.emitError() << "fm-quantize-weights: option '"
                       << names("linear-pattern") << "': " << regexError;
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
      bool router =
          !l->use_empty() && llvm::all_of(l->getUsers(), [](Operation *user) {
            return isa<MoeRouteOp>(user);
          });
      // A single output (the shared expert's sigmoid gate, unfused) stays
      // float like fm.moe's shared_gate: the fused and unfused forms keep
      // the same weights in float.
      bool oneOutput = l.getResult().getType().getShape().back() == 1;
      note(l.getWeightAttr(), router || oneOutput ? Role::Other : Role::Linear);
      note(l.getBiasAttr(), Role::Other);
    } else if (auto g = dyn_cast<LogitsOp>(op)) {
      note(g.getWeightAttr(), Role::Output);
    } else if (auto m = dyn_cast<MoeOp>(op)) {
      note(m.getRouterAttr(), Role::Other);
      note(m.getGateUpAttr(), Role::Expert);
      note(m.getDownAttr(), Role::Expert);
      note(m.getSharedGateUpAttr(), Role::Expert);
      note(m.getSharedDownAttr(), Role::Expert);
      note(m.getSharedGateAttr(), Role::Other);
    } else if (!isa<ParamOp>(op)) {
      for (NamedAttribute attr : op->getAttrs())
        if (auto ref = dyn_cast<FlatSymbolRefAttr>(attr.getValue()))
          roles[ref.getValue()].push_back(Role::Other);
    }
  });

  for (ParamOp param : llvm::make_early_inc_range(module.getOps<ParamOp>())) {
    auto it = roles.find(param.getSymName());
    if (it == roles.end() || param.getQuant())
      continue;
    ArrayRef<Role> used = it->second;
    bool onlyExperts =
        llvm::all_of(used, [](Role r) { return r == Role::Expert; });
    // A stack is quantized only as fm.moe's experts ([experts, rows, k]
    // or the shared expert's [rows, k]); other stacks stay as they are.
    int64_t rank = param.getTensorType().getRank();
    if (param.isStack() ? !onlyExperts || rank < 2 || rank > 3 : rank != 2)
      continue;
    StorageType dtype = fmc::quant::floatSourceType(param);
    if (dtype != StorageType::f32 && dtype != StorageType::f16 &&
        dtype != StorageType::bf16)
      continue;
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

std::unique_ptr<Pass>
mlir::fm::createQuantizeWeights(QuantizeWeightsOptions options,
                                OptionNames names) {
  return std::make_unique<QuantizeWeightsPass>(std::move(options),
                                               std::move(names));
}
