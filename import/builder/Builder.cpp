//===- Builder.cpp - a ModelSource as an fm module ------------------------===//
//
// Validates first, emits second: the architecture file turns the config into
// a ModelSpec (reporting bad or missing fields), the graph emitter turns that
// into ops (reporting missing, mis-shaped and leftover tensors), and only a
// module with no reported problem is verified and returned. The dialect
// verifier is the safety net behind those checks, not the diagnostic users
// see.
//
//===----------------------------------------------------------------------===//

#include "import/builder/Builder.h"

#include "dialects/fm/IR/FmOps.h"
#include "import/builder/Config.h"
#include "import/builder/FirstError.h"
#include "import/builder/GraphEmitter.h"
#include "import/builder/TensorTable.h"
#include "import/builder/archs/Architectures.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"

using namespace mlir;

namespace fmc::import {

ArrayRef<Architecture> architectures() {
  static const Architecture table[] = {
      {"llama", describeLlama},
      {"mistral", describeMistral},
      {"qwen2", describeQwen2},
      {"gemma2", describeGemma2},
      {"gemma3", describeGemma3},
      {"gemma3_text", describeGemma3},
      {"cohere2", describeCohere2},
      {"mixtral", describeMixtral},
      {"qwen2_moe", describeQwen2Moe},
      {"olmoe", describeOlmoe},
      {"llama4", describeLlama4},
      {"llama4_text", describeLlama4},
      {"afm_on_device", describeAfmOnDevice},
      {"afm_server", describeAfmServer},
  };
  return table;
}

ArrayRef<StringRef> supportedArchitectures() {
  static const std::vector<StringRef> names = [] {
    std::vector<StringRef> result;
    for (const Architecture &architecture : architectures())
      result.push_back(architecture.modelType);
    return result;
  }();
  return names;
}

static fm::TokenizerFormat tokenizerFormat(TokenizerRef::Format format) {
  switch (format) {
  case TokenizerRef::Format::Llama2c:
    return fm::TokenizerFormat::llama2c;
  case TokenizerRef::Format::GGUF:
    return fm::TokenizerFormat::gguf;
  case TokenizerRef::Format::HFJson:
    return fm::TokenizerFormat::hf_json;
  }
  return fm::TokenizerFormat::llama2c;
}

llvm::Expected<OwningOpRef<ModuleOp>> buildFmModule(MLIRContext &context,
                                                    const ModelSource &source) {
  context.loadDialect<fm::FmDialect, func::FuncDialect>();
  FirstError errors;
  Config config(source, errors);

  // The architecture.
  std::string modelType = config.string("model_type");
  const Architecture *architecture =
      llvm::find_if(architectures(), [&](const Architecture &candidate) {
        return candidate.modelType == modelType;
      });
  if (!errors.failed() && architecture == architectures().end())
    config.invalid("model_type",
                   "= \"" + modelType +
                       "\" is not a supported architecture (supported: " +
                       llvm::join(supportedArchitectures(), ", ") + ")");
  // Multimodal wrappers (gemma3, llama4) nest the decoder's config and
  // prefix its tensors; fmc imports the text model alone.
  if (!errors.failed() && config.has("text_config"))
    config.invalid("text_config",
                   "is set: this is a multimodal checkpoint; fmc imports "
                   "text-only decoders (a flat config, tensors under model.)");
  if (errors.failed())
    return errors.take();

  TensorTable tensors(source, config.file(), errors);
  ModelSpec spec;
  ArchContext archContext{config, tensors, errors};
  architecture->describe(archContext, spec);
  int64_t bos = config.tokenId("bos_token_id");
  int64_t eos = config.tokenId("eos_token_id");
  // An id past the vocabulary would be embedded (bos) or never sampled
  // (eos): the runtime's checks would reject every prompt.
  for (auto [key, id] : {std::pair{"bos_token_id", bos},
                         std::pair{"eos_token_id", eos}})
    if (spec.vocab.size > 0 && id >= spec.vocab.size)
      config.invalid(key, "= " + Twine(id) + " is outside the vocabulary of " +
                              Twine(spec.vocab.size) + " (" +
                              spec.vocab.field + ")");
  if (errors.failed())
    return errors.take();

  Builder builder(&context);
  OwningOpRef<ModuleOp> module =
      ModuleOp::create(FileLineColLoc::get(&context, source.origin, 0, 0));
  (*module)->setAttr("fm.architecture", builder.getStringAttr(modelType));
  (*module)->setAttr("fm.context_length",
                     builder.getI64IntegerAttr(spec.contextLength));
  if (source.tokenizer) {
    OpBuilder top = OpBuilder::atBlockBegin(module->getBody());
    fm::TokenizerOp::create(
        top, module->getLoc(),
        fm::TokenizerFormatAttr::get(&context,
                                     tokenizerFormat(source.tokenizer->format)),
        top.getStringAttr(source.tokenizer->file), top.getI64IntegerAttr(bos),
        top.getI64IntegerAttr(eos), top.getBoolAttr(bos >= 0));
  }

  GraphEmitter emitter(*module, tensors, errors);
  emitter.emitForward(spec);
  tensors.reportUnused(modelType, spec.ignoredTensors);
  if (errors.failed())
    return errors.take();

  // The safety net: a description that passed every check above but still
  // builds inconsistent IR is a bug in the builder, reported as such.
  std::string firstDiagnostic;
  {
    ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diagnostic) {
      if (firstDiagnostic.empty())
        firstDiagnostic = diagnostic.str();
      return success();
    });
    if (succeeded(verify(*module)))
      return module;
  }
  return llvm::createStringError(
      llvm::inconvertibleErrorCode(),
      config.file() + ": the fm module built for this " + modelType +
          " model does not verify (an importer bug): " + firstDiagnostic);
}

} // namespace fmc::import
