//===- ArtifactWriter.cpp - plan module to .fmc artifact ------------------===//

#include "lowering/artifact/ArtifactWriter.h"

#include "dialects/fm/IR/ExternalRows.h"
#include "dialects/fm/IR/LoraSlotNames.h"
#include "dialects/fm/IR/TrackPartition.h"
#include "lowering/artifact/LoraMerge.h"
#include "lowering/artifact/StackedParams.h"

#include "dialects/fm/IR/FmOps.h"
#include "dialects/plan/IR/PlanOps.h"
#include "import/Vocabulary.h"
#include "lowering/artifact/TokenizerTable.h"
#include "lowering/quant/QuantParam.h"
#include "runtime/ArtifactChecksum.h"
#include "runtime/ArtifactFormat.h"
#include "runtime/GgmlBlocks.h"
#include "runtime/schema/fmc_generated.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <deque>
#include <limits>

using namespace mlir;
namespace schema = fmc::schema;
namespace fs = llvm::sys::fs;

namespace {

using flatbuffers::Offset;

llvm::Error fail(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

std::string symbolText(Operation *op) {
  return ("@" + SymbolTable::getSymbolName(op).getValue()).str();
}

llvm::Expected<schema::DType> storageDType(fm::ParamOp param) {
  switch (param.getStorageType()) {
  case fm::StorageType::f32:
    return schema::DType::F32;
  case fm::StorageType::f16:
    return schema::DType::F16;
  case fm::StorageType::bf16:
    return schema::DType::BF16;
  case fm::StorageType::i8:
    return schema::DType::I8;
  case fm::StorageType::packed:
    return schema::DType::Packed;
  default:
    if (fm::getGgmlBlockFormat(param.getStorageType()))
      return schema::DType::GgmlBlocks;
    return fail("parameter " + symbolText(param) + " is stored as '" +
                fm::stringifyStorageType(param.getStorageType()) +
                "'; this artifact format holds dense f32, f16, bf16 and i8, "
                "packed and ggml block parameters only");
  }
}

/// ggml's type number of a parameter stored in ggml blocks, else 0.
uint32_t ggmlTypeOf(fm::ParamOp param) {
  const fmc::ggml::BlockFormat *blocks =
      fm::getGgmlBlockFormat(param.getStorageType());
  return blocks ? static_cast<uint32_t>(blocks->type) : 0;
}

schema::DType elementDType(Type type) {
  if (type.isF16())
    return schema::DType::F16;
  if (type.isBF16())
    return schema::DType::BF16;
  if (type.isInteger(32))
    return schema::DType::I32;
  if (type.isInteger(8))
    return schema::DType::I8;
  return schema::DType::F32;
}

uint64_t alignTo(uint64_t value, uint64_t alignment) {
  return (value + alignment - 1) / alignment * alignment;
}

class Writer {
public:
  Writer(ModuleOp module, const fmc::artifact::WriteOptions &options,
         llvm::StringRef path)
      : module(module), options(options), path(path) {}

  llvm::Expected<uint64_t> run();

private:
  llvm::Error collect();
  llvm::Error loadVocabulary();
  llvm::Error build(flatbuffers::FlatBufferBuilder &fbb,
                    uint64_t weightsOffset);
  llvm::Expected<Offset<schema::Program>>
  buildProgram(flatbuffers::FlatBufferBuilder &fbb, plan::ProgramOp program);
  llvm::Expected<Offset<schema::Kernel>>
  buildKernel(flatbuffers::FlatBufferBuilder &fbb, Operation *op,
              const llvm::DenseMap<Value, uint32_t> &buffers);
  Offset<schema::Tokenizer> buildTokenizer(flatbuffers::FlatBufferBuilder &fbb);
  llvm::Expected<Offset<schema::Executable>>
  buildExecutable(flatbuffers::FlatBufferBuilder &fbb,
                  const fmc::gpu::ExecutableImage &image);
  llvm::Expected<Offset<schema::DispatchList>>
  buildDispatchList(flatbuffers::FlatBufferBuilder &fbb,
                    const fmc::gpu::DispatchList &list);
  llvm::Error writeFile(const flatbuffers::FlatBufferBuilder &fbb,
                        uint64_t weightsOffset, uint64_t &fileBytes);
  llvm::Expected<const llvm::MemoryBuffer *> sourceFile(llvm::StringRef file);
  /// The stored bytes of a parameter that comes from a file.
  llvm::Expected<llvm::StringRef> paramFileBytes(fm::ParamOp param);
  /// `bytes` bytes of `source`'s file from its offset, for `param`; the rows
  /// of a strided source gathered into one piece (kept in `gathered`).
  llvm::Expected<llvm::StringRef>
  externalBytes(fm::ParamOp param, fm::ExternalAttr source, uint64_t bytes);

  int32_t tensorRef(FlatSymbolRefAttr ref) const {
    return ref ? static_cast<int32_t>(tensorIndex.lookup(ref.getValue())) : -1;
  }
  int32_t cacheRef(FlatSymbolRefAttr ref) const {
    return ref ? static_cast<int32_t>(cacheIndex.lookup(ref.getValue())) : -1;
  }

  ModuleOp module;
  const fmc::artifact::WriteOptions &options;
  std::string path;

  plan::ProgramOp prefill, decode;
  std::vector<fm::ParamOp> params;
  std::vector<uint64_t> segmentOffsets;
  uint64_t segmentBytes = 0;
  llvm::StringMap<uint32_t> tensorIndex;
  std::vector<fm::KVCacheOp> caches;
  llvm::StringMap<uint32_t> cacheIndex;
  fm::TokenizerOp tokenizerOp;
  std::optional<fmc::import::Vocabulary> vocabulary;
  llvm::StringMap<std::unique_ptr<llvm::MemoryBuffer>> files;
  std::deque<std::string> gathered;
};

llvm::Error Writer::collect() {
  for (plan::ProgramOp program : module.getOps<plan::ProgramOp>()) {
    if (program.getSymName() == "prefill")
      prefill = program;
    else if (program.getSymName() == "decode")
      decode = program;
  }
  if (!prefill || !decode)
    return fail("the module has no plan.program @" +
                llvm::Twine(prefill ? "decode" : "prefill") +
                "; an artifact is written from a plan (run fm-to-plan first)");

  // The parameters and caches the programs use, in module order.
  llvm::StringSet<> used;
  for (plan::ProgramOp program : {prefill, decode})
    program.walk([&](Operation *op) {
      for (NamedAttribute attr : op->getAttrs())
        if (auto ref = dyn_cast<FlatSymbolRefAttr>(attr.getValue()))
          used.insert(ref.getValue());
    });
  for (Operation &op : *module.getBody()) {
    if (auto param = dyn_cast<fm::ParamOp>(op)) {
      if (!used.contains(param.getSymName()))
        continue;
      llvm::Expected<schema::DType> dtype = storageDType(param);
      if (!dtype)
        return dtype.takeError();
      if (llvm::Error err = fmc::quant::checkEncoding(param))
        return err;
      tensorIndex[param.getSymName()] = params.size();
      segmentOffsets.push_back(alignTo(segmentBytes, fmc::kTensorAlignment));
      segmentBytes = segmentOffsets.back() + param.getStorageBytes();
      params.push_back(param);
    } else if (auto cache = dyn_cast<fm::KVCacheOp>(op)) {
      if (!used.contains(cache.getSymName()))
        continue;
      cacheIndex[cache.getSymName()] = caches.size();
      caches.push_back(cache);
    } else if (auto tokenizer = dyn_cast<fm::TokenizerOp>(op)) {
      tokenizerOp = tokenizer;
    }
  }
  // The segment ends on a tensor boundary too: GPU kernels read tensors in
  // whole 32-bit words, the last word of the last tensor included.
  segmentBytes = alignTo(segmentBytes, fmc::kTensorAlignment);
  return llvm::Error::success();
}

llvm::Error Writer::loadVocabulary() {
  if (!tokenizerOp)
    return llvm::Error::success();
  fmc::import::TokenizerRef ref;
  switch (tokenizerOp.getFormat()) {
  case fm::TokenizerFormat::llama2c:
    ref.format = fmc::import::TokenizerRef::Format::Llama2c;
    break;
  case fm::TokenizerFormat::gguf:
    ref.format = fmc::import::TokenizerRef::Format::GGUF;
    break;
  case fm::TokenizerFormat::hf_json:
    ref.format = fmc::import::TokenizerRef::Format::HFJson;
    break;
  }
  ref.file = tokenizerOp.getFile().str();
  llvm::Expected<fmc::import::Vocabulary> vocab =
      fmc::import::readVocabulary(ref);
  if (!vocab)
    return vocab.takeError();
  // The op's ids are what the model was built with; they win over the file's.
  vocab->bosId = tokenizerOp.getBosId();
  vocab->eosId = tokenizerOp.getEosId();
  vocab->addBos = tokenizerOp.getAddBos();
  vocabulary = std::move(*vocab);
  return llvm::Error::success();
}

Offset<schema::Tokenizer>
Writer::buildTokenizer(flatbuffers::FlatBufferBuilder &fbb) {
  // llama2.c vocabularies spell a space as " "; SentencePiece ones as U+2581.
  return fmc::artifact::buildTokenizerTable(
      fbb, *vocabulary,
      tokenizerOp.getFormat() == fm::TokenizerFormat::llama2c);
}

llvm::Expected<Offset<schema::Kernel>>
Writer::buildKernel(flatbuffers::FlatBufferBuilder &fbb, Operation *op,
                    const llvm::DenseMap<Value, uint32_t> &buffers) {
  auto ids = [&](ValueRange values) {
    std::vector<uint32_t> result;
    for (Value v : values)
      result.push_back(buffers.lookup(v));
    return fbb.CreateVector(result);
  };
  auto kernel = [&](schema::KernelSpec type, Offset<void> spec,
                    ValueRange inputs, ValueRange outputs) {
    auto in = ids(inputs);
    auto out = ids(outputs);
    return schema::CreateKernel(fbb, type, spec, in, out);
  };
  auto f32 = [](std::optional<llvm::APFloat> v, float fallback) {
    return v ? static_cast<float>(v->convertToDouble()) : fallback;
  };
  using KS = schema::KernelSpec;
  return llvm::TypeSwitch<Operation *, llvm::Expected<Offset<schema::Kernel>>>(
             op)
      .Case([&](plan::EmbeddingOp k) {
        auto spec = schema::CreateEmbeddingSpec(
            fbb, tensorRef(k.getTableAttr()), f32(k.getScale(), 1.0f));
        return kernel(KS::EmbeddingSpec, spec.Union(), k.getTokens(),
                      k.getOutput());
      })
      .Case([&](plan::RMSNormOp k) {
        auto spec = schema::CreateRmsNormSpec(
            fbb, tensorRef(k.getWeightAttr()),
            static_cast<float>(k.getEps().convertToDouble()), k.getGroupSize(),
            static_cast<float>(k.getWeightOffset().convertToDouble()));
        return kernel(KS::RmsNormSpec, spec.Union(), k.getInput(),
                      k.getOutput());
      })
      .Case([&](plan::LayerNormOp k) {
        auto spec = schema::CreateLayerNormSpec(
            fbb, tensorRef(k.getWeightAttr()), tensorRef(k.getBiasAttr()),
            static_cast<float>(k.getEps().convertToDouble()));
        return kernel(KS::LayerNormSpec, spec.Union(), k.getInput(),
                      k.getOutput());
      })
      .Case([&](plan::LinearOp k) {
        auto spec = schema::CreateLinearSpec(fbb, tensorRef(k.getWeightAttr()),
                                             tensorRef(k.getBiasAttr()));
        return kernel(KS::LinearSpec, spec.Union(), k.getInput(),
                      k.getOutput());
      })
      .Case([&](plan::RopeOp k) {
        // The runtime reads the inverse frequencies, never theta: the
        // unscaled ones as it always computed them, from the f32 theta.
        auto theta = static_cast<float>(k.getTheta().convertToDouble());
        int64_t rotary = k.getRotaryDim();
        std::vector<double> invFreq;
        if (std::optional<ArrayRef<float>> scaled = k.getFrequencies())
          invFreq.assign(scaled->begin(), scaled->end());
        else
          for (int64_t i = 0; i < rotary / 2; ++i)
            invFreq.push_back(std::pow(static_cast<double>(theta),
                                       -2.0 * static_cast<double>(i) /
                                           static_cast<double>(rotary)));
        float attentionFactor =
            k.getAttentionFactor()
                ? static_cast<float>(k.getAttentionFactor()->convertToDouble())
                : 1.0f;
        auto spec = schema::CreateRopeSpec(
            fbb,
            k.getLayout() == fm::RopeLayout::interleaved
                ? schema::RopeLayout::Interleaved
                : schema::RopeLayout::RotateHalf,
            k.getHeadDim(), rotary, theta, fbb.CreateVector(invFreq),
            attentionFactor);
        return kernel(KS::RopeSpec, spec.Union(),
                      ValueRange{k.getInput(), k.getPositions()},
                      k.getOutput());
      })
      .Case([&](plan::AttentionOp k) {
        schema::AttentionKind kind = schema::AttentionKind::Global;
        if (k.getKind() == fm::AttentionKind::local)
          kind = schema::AttentionKind::Local;
        else if (k.getKind() == fm::AttentionKind::chunked)
          kind = schema::AttentionKind::Chunked;
        auto spec = schema::CreateAttentionSpec(
            fbb, kind, cacheRef(k.getReadsAttr()), cacheRef(k.getWritesAttr()),
            k.getNumHeads(), k.getNumKvHeads(), k.getHeadDim(),
            k.getWindow().value_or(0),
            static_cast<float>(k.getScale().convertToDouble()),
            f32(k.getSoftcap(), 0.0f), k.getCausal());
        SmallVector<Value> inputs = {k.getQ()};
        if (k.getK()) {
          inputs.push_back(k.getK());
          inputs.push_back(k.getV());
        }
        inputs.push_back(k.getPositions());
        return kernel(KS::AttentionSpec, spec.Union(), inputs, k.getOutput());
      })
      .Case([&](plan::ActivationOp k) {
        auto spec = schema::CreateActivationSpec(
            fbb, static_cast<schema::Activation>(k.getKind()));
        return kernel(KS::ActivationSpec, spec.Union(), k.getInput(),
                      k.getOutput());
      })
      .Case([&](plan::GluOp k) {
        auto spec = schema::CreateGluSpec(
            fbb, static_cast<schema::Activation>(k.getKind()));
        return kernel(KS::GluSpec, spec.Union(),
                      ValueRange{k.getGate(), k.getUp()}, k.getOutput());
      })
      .Case([&](plan::AddOp k) {
        auto spec = schema::CreateAddSpec(fbb);
        return kernel(KS::AddSpec, spec.Union(),
                      ValueRange{k.getLhs(), k.getRhs()}, k.getOutput());
      })
      .Case([&](plan::MulOp k) {
        auto spec = schema::CreateMulSpec(fbb);
        return kernel(KS::MulSpec, spec.Union(),
                      ValueRange{k.getLhs(), k.getRhs()}, k.getOutput());
      })
      .Case([&](plan::MoeRouteOp k) {
        auto spec = schema::CreateMoeRouteSpec(
            fbb,
            k.getScoring() == fm::RouterScoring::softmax
                ? schema::RouterScoring::Softmax
                : schema::RouterScoring::Sigmoid,
            k.getTopK(), k.getNormTopkProb());
        return kernel(KS::MoeRouteSpec, spec.Union(), k.getLogits(),
                      ValueRange{k.getWeights(), k.getIndices()});
      })
      .Case([&](plan::MoeCombineOp k) {
        auto spec = schema::CreateMoeCombineSpec(fbb);
        SmallVector<Value> inputs = {k.getWeights(), k.getIndices()};
        llvm::append_range(inputs, k.getExperts());
        return kernel(KS::MoeCombineSpec, spec.Union(), inputs, k.getOutput());
      })
      .Case([&](plan::LogitsOp k) {
        auto spec = schema::CreateLogitsSpec(fbb, tensorRef(k.getWeightAttr()),
                                             f32(k.getScale(), 1.0f),
                                             f32(k.getSoftcap(), 0.0f));
        return kernel(KS::LogitsSpec, spec.Union(), k.getInput(),
                      k.getOutput());
      })
      .Case([&](plan::MoeOp k) {
        auto spec = schema::CreateMoeSpec(
            fbb,
            k.getScoring() == fm::RouterScoring::softmax
                ? schema::RouterScoring::Softmax
                : schema::RouterScoring::Sigmoid,
            k.getTopK(), static_cast<schema::Activation>(k.getActivation()),
            k.getNormTopkProb(), tensorRef(k.getRouterAttr()),
            tensorRef(k.getGateUpAttr()), tensorRef(k.getDownAttr()),
            tensorRef(k.getSharedGateUpAttr()),
            tensorRef(k.getSharedDownAttr()), tensorRef(k.getSharedGateAttr()));
        return kernel(KS::MoeSpec, spec.Union(), k.getInput(), k.getOutput());
      })
      .Case([&](plan::TrackCombineOp k) {
        auto spec = schema::CreateTrackCombineSpec(
            fbb, k.getCombine() == fm::TrackCombine::mean
                     ? schema::TrackCombine::Mean
                     : schema::TrackCombine::Sum);
        return kernel(KS::TrackCombineSpec, spec.Union(), k.getTracks(),
                      k.getOutput());
      })
      .Case([&](plan::AllReduceOp k) {
        auto spec = schema::CreateAllReduceSpec(
            fbb, static_cast<int32_t>(k.getRanks()),
            k.getScale().convertToFloat());
        return kernel(KS::AllReduceSpec, spec.Union(), k.getInputs(),
                      k.getOutputs());
      })
      .Case([&](plan::GroupedLinearOp k) {
        auto spec =
            schema::CreateGroupedLinearSpec(fbb, tensorRef(k.getWeightAttr()));
        return kernel(KS::GroupedLinearSpec, spec.Union(), k.getInputs(),
                      k.getOutputs());
      })
      .Case([&](plan::KVAppendOp k) {
        auto spec = schema::CreateKvAppendSpec(fbb, cacheRef(k.getCacheAttr()));
        return kernel(KS::KvAppendSpec, spec.Union(),
                      ValueRange{k.getK(), k.getV(), k.getPositions()},
                      ValueRange{});
      })
      .Case([&](plan::LastRowOp k) {
        auto spec = schema::CreateLastRowSpec(fbb);
        return kernel(KS::LastRowSpec, spec.Union(),
                      ValueRange{k.getInput(), k.getPositions()},
                      ValueRange{k.getOutput(), k.getOutputPositions()});
      })
      .Default([&](Operation *other) -> llvm::Expected<Offset<schema::Kernel>> {
        return fail("the artifact format has no kernel family for '" +
                    other->getName().getStringRef() + "'");
      });
}

llvm::Expected<Offset<schema::Program>>
Writer::buildProgram(flatbuffers::FlatBufferBuilder &fbb,
                     plan::ProgramOp program) {
  llvm::DenseMap<Value, uint32_t> bufferIndex;
  std::vector<Offset<schema::Buffer>> buffers;
  std::vector<Offset<schema::Kernel>> kernels;
  plan::IoOp io;
  for (Operation &op : program.getBody().front()) {
    if (auto buffer = dyn_cast<plan::BufferOp>(op)) {
      auto type = cast<plan::RowsType>(buffer.getType());
      bufferIndex[buffer.getResult()] = buffers.size();
      buffers.push_back(schema::CreateBuffer(
          fbb, fbb.CreateString(buffer.getName().value_or("").str()),
          elementDType(type.getElementType()), type.getWidth(),
          buffer.getOffset()));
    } else if (auto ioOp = dyn_cast<plan::IoOp>(op)) {
      io = ioOp;
    } else {
      // The kernel list holds a dispatch's kernels inline, in order.
      SmallVector<Operation *> ops;
      if (auto dispatch = dyn_cast<plan::DispatchOp>(op))
        for (Operation &inner : dispatch.getBody().front())
          ops.push_back(&inner);
      else
        ops.push_back(&op);
      for (Operation *kernelOp : ops) {
        llvm::Expected<Offset<schema::Kernel>> kernel =
            buildKernel(fbb, kernelOp, bufferIndex);
        if (!kernel)
          return kernel.takeError();
        kernels.push_back(*kernel);
      }
    }
  }
  auto name = fbb.CreateString(program.getSymName().str());
  auto buffersVec = fbb.CreateVector(buffers);
  auto kernelsVec = fbb.CreateVector(kernels);
  return schema::CreateProgram(fbb, name, program.getMaxTokens(),
                               program.getArenaBytes(), buffersVec, kernelsVec,
                               bufferIndex.lookup(io.getTokens()),
                               bufferIndex.lookup(io.getPositions()),
                               bufferIndex.lookup(io.getLogits()));
}

llvm::Error Writer::build(flatbuffers::FlatBufferBuilder &fbb,
                          uint64_t weightsOffset) {
  fbb.Clear();
  fbb.ForceDefaults(true); // Same layout whatever weightsOffset is.

  // Model facts the runtime needs without walking the programs.
  int64_t vocab = 0, hidden = 0;
  decode.walk([&](plan::IoOp io) {
    vocab = cast<plan::RowsType>(io.getLogits().getType()).getWidth();
  });
  decode.walk([&](plan::EmbeddingOp e) {
    if (!hidden)
      hidden = cast<plan::RowsType>(e.getOutput().getType()).getWidth();
  });
  int64_t context = std::numeric_limits<int32_t>::max();
  for (fm::KVCacheOp cache : caches)
    if (cache.getKind() == fm::CacheKind::linear)
      context = std::min<int64_t>(context, cache.getCapacity());
  std::string name = options.modelName;
  if (name.empty())
    name = llvm::sys::path::stem(path).str();
  // The importer's facts about the model (fm.architecture,
  // fm.context_length, ...), as JSON for tools that inspect artifacts.
  llvm::json::Object facts;
  for (NamedAttribute attr : module->getAttrs()) {
    llvm::StringRef key = attr.getName().getValue();
    if (!key.consume_front("fm."))
      continue;
    if (auto text = dyn_cast<StringAttr>(attr.getValue()))
      facts[key] = text.getValue().str();
    else if (auto integer = dyn_cast<IntegerAttr>(attr.getValue()))
      facts[key] = integer.getInt();
    else if (auto real = dyn_cast<FloatAttr>(attr.getValue()))
      facts[key] = real.getValueAsDouble();
    else if (auto flag = dyn_cast<BoolAttr>(attr.getValue()))
      facts[key] = flag.getValue();
  }
  std::string configJson;
  llvm::raw_string_ostream(configJson) << llvm::json::Value(std::move(facts));
  auto configOffset =
      schema::CreateModelConfig(fbb, fbb.CreateString(name), vocab, hidden,
                                context, fbb.CreateString(configJson));

  Offset<schema::Tokenizer> tokenizer;
  if (vocabulary)
    tokenizer = buildTokenizer(fbb);

  std::vector<Offset<schema::Tensor>> tensors;
  for (auto [param, offset] : llvm::zip(params, segmentOffsets)) {
    auto shape = fbb.CreateVector(param.getTensorType().getShape().vec());
    Offset<schema::QuantEncoding> quant;
    if (fm::QuantAttr q = param.getQuant())
      quant = schema::CreateQuantEncoding(
          fbb, static_cast<uint8_t>(q.getBits()),
          q.getGrid() == fm::QuantGrid::affine ? schema::QuantGrid::Affine
                                               : schema::QuantGrid::Balanced,
          q.getGroupSize(), elementDType(q.getScaleType()),
          schema::QuantLayout::RowMajor);
    tensors.push_back(schema::CreateTensor(
        fbb, fbb.CreateString(param.getSymName().str()), *storageDType(param),
        shape, offset, param.getStorageBytes(), quant, ggmlTypeOf(param)));
  }
  // LoRA slots: the pair fm-add-lora-slots declared after each weight.
  std::vector<schema::LoraSlot> loraSlots;
  for (fm::ParamOp weight : params) {
    std::string a = fm::loraSlotName(weight.getSymName(), false),
                b = fm::loraSlotName(weight.getSymName(), true);
    auto slotA = tensorIndex.find(a);
    if (weight.getAdapterSlot() || slotA == tensorIndex.end() ||
        !params[slotA->second].getAdapterSlot())
      continue;
    if (!tensorIndex.count(b))
      return fail("weight " + symbolText(weight) + " has LoRA slot @" + a +
                  " but not @" + b);
    loraSlots.emplace_back(tensorIndex.lookup(weight.getSymName()),
                           slotA->second, tensorIndex.lookup(b));
  }
  std::vector<Offset<schema::KVCache>> kvCaches;
  for (fm::KVCacheOp cache : caches)
    kvCaches.push_back(schema::CreateKVCache(
        fbb, fbb.CreateString(cache.getSymName().str()),
        cache.getKind() == fm::CacheKind::ring ? schema::CacheKind::Ring
                                               : schema::CacheKind::Linear,
        cache.getCapacity(), cache.getNumKvHeads(), cache.getHeadDim(),
        elementDType(cache.getElementType()), cache.getTotalBytes(),
        cache.getScaleBytes()));

  llvm::Expected<Offset<schema::Program>> prefillProgram =
      buildProgram(fbb, prefill);
  if (!prefillProgram)
    return prefillProgram.takeError();
  llvm::Expected<Offset<schema::Program>> decodeProgram =
      buildProgram(fbb, decode);
  if (!decodeProgram)
    return decodeProgram.takeError();

  std::vector<Offset<schema::Executable>> executables;
  for (const std::string &target : options.targets)
    if (target == "cpu")
      executables.push_back(schema::CreateExecutable(
          fbb, fbb.CreateString(target), fbb.CreateString("none"),
          fbb.CreateVector(std::vector<uint8_t>{})));
  for (const fmc::gpu::ExecutableImage &image : options.executables) {
    llvm::Expected<Offset<schema::Executable>> executable =
        buildExecutable(fbb, image);
    if (!executable)
      return executable.takeError();
    executables.push_back(*executable);
  }

  const fmc::artifact::Provenance &provenance = options.provenance;
  Offset<flatbuffers::Vector<Offset<flatbuffers::String>>> command;
  if (!provenance.command.empty())
    command = fbb.CreateVectorOfStrings(provenance.command);
  Offset<flatbuffers::Vector<Offset<schema::CompileOption>>> compileOptions;
  if (!provenance.options.empty()) {
    std::vector<Offset<schema::CompileOption>> entries;
    for (const auto &[option, value] : provenance.options)
      entries.push_back(schema::CreateCompileOption(
          fbb, fbb.CreateString(option), fbb.CreateString(value)));
    compileOptions = fbb.CreateVector(entries);
  }
  Offset<flatbuffers::Vector<Offset<schema::SourceFile>>> sourceFiles;
  if (!provenance.sourceFiles.empty()) {
    std::vector<Offset<schema::SourceFile>> entries;
    for (const fmc::artifact::SourceFile &file : provenance.sourceFiles)
      entries.push_back(schema::CreateSourceFile(
          fbb, fbb.CreateString(file.path), file.bytes,
          fbb.CreateString(file.sha256)));
    sourceFiles = fbb.CreateVector(entries);
  }

  Offset<schema::TrackPartition> trackPartition;
  if (const char *name = fm::partitionAttrOf(module)) {
    auto part = module->getAttrOfType<DenseI64ArrayAttr>(name);
    if (!part || part.size() != 2 || part[1] < 2 || part[0] < 0 ||
        part[0] >= part[1])
      return fail(std::string(name) +
                  " must be [rank, ranks] with 0 <= rank < ranks and ranks "
                  ">= 2");
    trackPartition = schema::CreateTrackPartition(
        fbb, static_cast<int32_t>(part[1]), static_cast<int32_t>(part[0]),
        options.trackPartitionId,
        name == std::string(fm::kTensorPartitionAttr)
            ? schema::PartitionKind::Tensor
            : schema::PartitionKind::Tracks);
  }
  schema::Checksums checksumsPlaceholder(0, 0);
  auto root = schema::CreateArtifact(
      fbb, fmc::kArtifactFormatVersion, fbb.CreateString("fmc-compile"),
      configOffset, tokenizer, fbb.CreateVector(tensors),
      fbb.CreateVector(kvCaches), *prefillProgram, *decodeProgram,
      fbb.CreateVector(executables), weightsOffset, segmentBytes,
      // Placeholders: writeFile() seals the header once the weights are out.
      &checksumsPlaceholder, command, compileOptions, sourceFiles,
      loraSlots.empty() ? 0 : fbb.CreateVectorOfStructs(loraSlots),
      trackPartition);
  schema::FinishSizePrefixedArtifactBuffer(fbb, root);
  return llvm::Error::success();
}

llvm::Expected<Offset<schema::DispatchList>>
Writer::buildDispatchList(flatbuffers::FlatBufferBuilder &fbb,
                          const fmc::gpu::DispatchList &list) {
  std::vector<Offset<schema::Dispatch>> dispatches;
  for (const fmc::gpu::Dispatch &dispatch : list.dispatches) {
    std::vector<schema::Binding> bindings;
    for (const fmc::gpu::Binding &binding : dispatch.bindings) {
      uint32_t index = 0;
      if (binding.memory == fmc::gpu::Memory::Weights) {
        auto it = tensorIndex.find(binding.symbol);
        if (it == tensorIndex.end())
          return fail("a GPU dispatch binds parameter @" + binding.symbol +
                      ", which the artifact does not hold");
        index = it->second;
      } else if (binding.memory == fmc::gpu::Memory::Caches) {
        auto it = cacheIndex.find(binding.symbol);
        if (it == cacheIndex.end())
          return fail("a GPU dispatch binds KV cache @" + binding.symbol +
                      ", which the artifact does not hold");
        index = it->second;
      }
      bindings.emplace_back(binding.offset, binding.bytes, index,
                            static_cast<schema::BindingMemory>(binding.memory));
    }
    std::vector<uint32_t> grid(dispatch.grid.begin(), dispatch.grid.end());
    dispatches.push_back(schema::CreateDispatch(
        fbb, dispatch.entry, fbb.CreateVector(grid),
        fbb.CreateVectorOfStructs(bindings), dispatch.kernel,
        dispatch.collective));
  }
  return schema::CreateDispatchList(fbb, fbb.CreateVector(dispatches),
                                    list.scratchBytes);
}

llvm::Expected<Offset<schema::Executable>>
Writer::buildExecutable(flatbuffers::FlatBufferBuilder &fbb,
                        const fmc::gpu::ExecutableImage &image) {
  std::vector<Offset<schema::EntryPoint>> entries;
  for (const fmc::gpu::EntryPoint &entry : image.entryPoints) {
    std::vector<uint32_t> size(entry.workgroupSize.begin(),
                               entry.workgroupSize.end());
    entries.push_back(schema::CreateEntryPoint(
        fbb, fbb.CreateString(entry.name), fbb.CreateVector(size),
        entry.bindings));
  }
  llvm::Expected<Offset<schema::DispatchList>> prefillList =
      buildDispatchList(fbb, image.prefill);
  if (!prefillList)
    return prefillList.takeError();
  llvm::Expected<Offset<schema::DispatchList>> decodeList =
      buildDispatchList(fbb, image.decode);
  if (!decodeList)
    return decodeList.takeError();
  auto data = fbb.CreateVector(
      reinterpret_cast<const uint8_t *>(image.data.data()), image.data.size());
  return schema::CreateExecutable(
      fbb, fbb.CreateString(image.target), fbb.CreateString(image.format), data,
      fbb.CreateVector(entries), *prefillList, *decodeList,
      fbb.CreateString(image.arch), image.programmaticDependentLaunch);
}

llvm::Expected<const llvm::MemoryBuffer *>
Writer::sourceFile(llvm::StringRef file) {
  auto it = files.find(file);
  if (it != files.end())
    return it->second.get();
  // A FIFO or a device (/dev/zero) would block or read without end.
  llvm::sys::fs::file_status status;
  if (!llvm::sys::fs::status(file, status) &&
      !llvm::sys::fs::is_regular_file(status))
    return fail("cannot read '" + file + "': not a regular file");
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      llvm::MemoryBuffer::getFile(file, /*IsText=*/false,
                                  /*RequiresNullTerminator=*/false);
  if (!buffer)
    return fail("cannot read '" + file + "': " + buffer.getError().message());
  return (files[file] = std::move(*buffer)).get();
}

llvm::Expected<llvm::StringRef> Writer::paramFileBytes(fm::ParamOp param) {
  // A parameter quantized when written is read as its float source.
  return externalBytes(param, param.getSourceAttr(),
                       fmc::quant::isQuantizedWhenWritten(param)
                           ? fmc::quant::floatSourceBytes(param)
                           : param.getStorageBytes());
}

llvm::Expected<llvm::StringRef>
Writer::externalBytes(fm::ParamOp param, fm::ExternalAttr source,
                      uint64_t bytes) {
  llvm::Expected<const llvm::MemoryBuffer *> file =
      sourceFile(source.getFile());
  if (!file)
    return fail("parameter " + symbolText(param) + ": " +
                llvm::toString(file.takeError()));
  uint64_t size = (*file)->getBufferSize();
  fm::ExternalRows rows = fm::externalRowsOf(param, source, bytes);
  uint64_t span = rows.span;
  if (source.getOffset() > size || span > size - source.getOffset())
    return fail("parameter " + symbolText(param) + " needs bytes [" +
                llvm::Twine(source.getOffset()) + ", " +
                llvm::Twine(source.getOffset() + span) + ") of '" +
                source.getFile() + "', which has " + llvm::Twine(size));
  llvm::StringRef all = (*file)->getBuffer().substr(source.getOffset(), span);
  if (!rows.strided())
    return all;
  std::string &joined = gathered.emplace_back(bytes, '\0');
  rows.gather(all.data(), joined.data());
  return llvm::StringRef(joined);
}

llvm::Error Writer::writeFile(const flatbuffers::FlatBufferBuilder &fbb,
                              uint64_t weightsOffset, uint64_t &fileBytes) {
  // Check every parameter's bytes before creating anything.
  // Each parameter's bytes as pieces written one after another: one for a
  // parameter from a file, its parts' for a stack (never copied), or the
  // packed bytes of a parameter quantized when written.
  std::vector<std::vector<llvm::StringRef>> sources;
  std::deque<std::string> packed;
  for (fm::ParamOp param : params) {
    if (param.getAdapterSlot()) {
      sources.push_back({}); // Zeros, written as padding.
      continue;
    }
    if (fmc::quant::isQuantizedStack(param)) {
      // Packed from its parts' float bytes, joined in a temporary buffer
      // (one stack's floats at a time).
      std::string floats;
      floats.reserve(fmc::quant::floatSourceBytes(param));
      for (Attribute ref : param.getPartsAttr()) {
        auto part = SymbolTable::lookupNearestSymbolFrom<fm::ParamOp>(
            param, cast<FlatSymbolRefAttr>(ref));
        if (!part || part.isStack() || !part.getSourceAttr())
          return fail("parameter " + symbolText(param) + ": part " +
                      cast<FlatSymbolRefAttr>(ref).getValue() +
                      " is not a parameter stored in a file");
        llvm::Expected<llvm::StringRef> bytes = paramFileBytes(part);
        if (!bytes)
          return bytes.takeError();
        floats += *bytes;
      }
      std::string &out = packed.emplace_back(param.getStorageBytes(), '\0');
      fmc::quant::Stats stats;
      if (llvm::Error err = fmc::quant::packParameter(
              param, floats, reinterpret_cast<uint8_t *>(out.data()), stats))
        return err;
      sources.push_back({out});
      continue;
    }
    if (param.isStack()) {
      llvm::Expected<std::vector<llvm::StringRef>> pieces =
          fmc::artifact::stackPieces(
              param, [&](fm::ParamOp part) { return paramFileBytes(part); });
      if (!pieces)
        return pieces.takeError();
      sources.push_back(std::move(*pieces));
      continue;
    }
    llvm::Expected<llvm::StringRef> bytes = paramFileBytes(param);
    if (!bytes)
      return bytes.takeError();
    if (fm::LoraDeltaAttr delta = param.getDeltaAttr()) {
      llvm::Expected<llvm::StringRef> a = externalBytes(
          param, delta.getA(), fmc::artifact::loraDeltaBytes(param, false));
      if (!a)
        return a.takeError();
      llvm::Expected<llvm::StringRef> b = externalBytes(
          param, delta.getB(), fmc::artifact::loraDeltaBytes(param, true));
      if (!b)
        return b.takeError();
      llvm::Expected<std::string> merged =
          fmc::artifact::mergeLoraDelta(param, *bytes, *a, *b);
      if (!merged)
        return merged.takeError();
      sources.push_back({packed.emplace_back(std::move(*merged))});
      continue;
    }
    if (fmc::quant::isQuantizedWhenWritten(param)) {
      std::string &out = packed.emplace_back(param.getStorageBytes(), '\0');
      fmc::quant::Stats stats;
      if (llvm::Error err = fmc::quant::packParameter(
              param, *bytes, reinterpret_cast<uint8_t *>(out.data()), stats))
        return err;
      sources.push_back({out});
      continue;
    }
    sources.push_back({*bytes});
  }

  int fd;
  llvm::SmallString<256> temp;
  if (std::error_code ec = fs::createUniqueFile(path + ".tmp-%%%%%%", fd, temp))
    return fail("cannot create a temporary file beside '" + path +
                "': " + ec.message());
  llvm::scope_exit removeTemp([&] { fs::remove(temp); });
  {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    // The buffer starts with its size prefix (FinishSizePrefixed); it is
    // written again, sealed, once the weights' checksum is known.
    std::vector<uint8_t> header(fbb.GetBufferPointer(),
                                fbb.GetBufferPointer() + fbb.GetSize());
    os.write(reinterpret_cast<const char *>(header.data()), header.size());
    uint64_t written = header.size();
    os.write_zeros(weightsOffset - written);
    written = weightsOffset;
    uint64_t done = 0;
    XXH3_state_t weightsSum;
    XXH3_64bits_reset(&weightsSum);
    static const char zeros[4096] = {};
    auto pad = [&](uint64_t bytes) {
      os.write_zeros(bytes);
      for (uint64_t left = bytes; left > 0;) {
        uint64_t n = std::min<uint64_t>(left, sizeof(zeros));
        XXH3_64bits_update(&weightsSum, zeros, n);
        left -= n;
      }
    };
    for (auto [pieces, offset] : llvm::zip(sources, segmentOffsets)) {
      pad(weightsOffset + offset - written);
      written = weightsOffset + offset;
      for (llvm::StringRef data : pieces) {
        os.write(data.data(), data.size());
        XXH3_64bits_update(&weightsSum, data.data(), data.size());
        written += data.size();
        done += data.size();
      }
      if (options.progress)
        options.progress(done, segmentBytes);
    }
    pad(weightsOffset + segmentBytes - written);
    written = weightsOffset + segmentBytes;
    fmc::sealHeader(header.data(), header.size(),
                    XXH3_64bits_digest(&weightsSum));
    os.seek(0);
    os.write(reinterpret_cast<const char *>(header.data()), header.size());
    os.close();
    if (os.has_error())
      return fail("cannot write '" + temp + "': " + os.error().message());
    fileBytes = written;
  }
  if (std::error_code ec = fs::rename(temp, path))
    return fail("cannot rename '" + temp + "' to '" + path +
                "': " + ec.message());
  removeTemp.release();
  return llvm::Error::success();
}

llvm::Expected<uint64_t> Writer::run() {
  for (const std::string &target : options.targets) {
    std::vector<std::string> available = fmc::artifact::availableTargets();
    if (!llvm::is_contained(available, target))
      return fail("target '" + target +
                  "' is not available in this build "
                  "(available: " +
                  llvm::join(available, ", ") + ")");
  }
  if (llvm::Error err = collect())
    return std::move(err);
  if (llvm::Error err = loadVocabulary())
    return std::move(err);
  flatbuffers::FlatBufferBuilder fbb(1 << 16);
  if (llvm::Error err = build(fbb, 0))
    return std::move(err);
  uint64_t weightsOffset = alignTo(fbb.GetSize(), fmc::kWeightSegmentAlignment);
  if (llvm::Error err = build(fbb, weightsOffset))
    return std::move(err);
  if (alignTo(fbb.GetSize(), fmc::kWeightSegmentAlignment) != weightsOffset)
    return fail(
        "internal error: the artifact header changed size between passes");
  uint64_t fileBytes = 0;
  if (llvm::Error err = writeFile(fbb, weightsOffset, fileBytes))
    return std::move(err);
  return fileBytes;
}

} // namespace

std::vector<std::string> fmc::artifact::availableTargets() {
  return {"cpu", "cuda", "vulkan", "metal"};
}

llvm::Expected<uint64_t>
fmc::artifact::writeArtifact(ModuleOp module, llvm::StringRef path,
                             const WriteOptions &options) {
  return Writer(module, options, path).run();
}
