//===- GraphEmitter.cpp - a ModelSpec as fm ops
//----------------------------===//

#include "import/builder/GraphEmitter.h"

#include "dialects/fm/IR/FmOps.h"

#include "llvm/ADT/StringExtras.h"

using namespace mlir;
using namespace mlir::fm;

namespace fmc::import {

GraphEmitter::GraphEmitter(ModuleOp module, TensorTable &tensors,
                           FirstError &errors)
    : context(module.getContext()), module(module), tensors(tensors),
      errors(errors), builder(context), declarations(context) {}

RankedTensorType GraphEmitter::activations(int64_t features) {
  return RankedTensorType::get({ShapedType::kDynamic, features},
                               Float32Type::get(context));
}

std::string GraphEmitter::valueName(StringRef role, StringRef tag) {
  // "q" + "3" reads as %q3; a track layer's tag "t1.5" as %q.t1.5.
  std::string name = role.str();
  if (!tag.empty() && !llvm::all_of(tag, llvm::isDigit))
    name += ".";
  return name + tag.str();
}

Location GraphEmitter::named(StringRef role, StringRef tag) {
  return NameLoc::get(StringAttr::get(context, valueName(role, tag)));
}

//===----------------------------------------------------------------------===//
// Module-level declarations
//===----------------------------------------------------------------------===//

/// The fm storage type and element type of a tensor's dtype; false for
/// dtypes fmc does not import.
static bool storageOf(MLIRContext *context, DType dtype, StorageType &storage,
                      Type &element) {
  switch (dtype) {
  case DType::F32:
    storage = StorageType::f32;
    element = Float32Type::get(context);
    return true;
  case DType::F16:
    storage = StorageType::f16;
    element = Float16Type::get(context);
    return true;
  case DType::BF16:
    storage = StorageType::bf16;
    element = BFloat16Type::get(context);
    return true;
  case DType::I8:
    return false;
  default: // A ggml block format: fm's storage type of the same name.
    storage = *symbolizeStorageType(dtypeName(dtype).lower());
    element = Float32Type::get(context);
    return true;
  }
}

FlatSymbolRefAttr GraphEmitter::param(StringRef name, ArrayRef<Dim> shape) {
  auto symbol = FlatSymbolRefAttr::get(context, name);
  if (!params.try_emplace(name, symbol).second)
    return symbol; // Used again (a tied embedding): declared once.
  const TensorRef *tensor = tensors.use(name, shape);
  if (!tensor)
    return symbol;

  StorageType storage;
  Type element;
  if (!storageOf(context, tensor->dtype, storage, element)) {
    errors.report(tensor->file,
                  "tensor '" + name +
                      "' is stored as I8 without scales; fmc imports F32, "
                      "F16, BF16 and ggml block-format tensors");
    return symbol;
  }
  if (int64_t block = dtypeBlockSize(tensor->dtype);
      tensor->shape.back() % block != 0) {
    errors.report(tensor->file, "tensor '" + name + "' is stored as " +
                                    stringifyStorageType(storage) +
                                    " in blocks of " + llvm::Twine(block) +
                                    ", but its rows have " +
                                    llvm::Twine(tensor->shape.back()) +
                                    " elements");
    return symbol;
  }
  auto type = RankedTensorType::get(tensor->shape, element);
  auto source =
      ExternalAttr::get(context, tensor->file, tensor->offset, storage);
  auto op = ParamOp::create(declarations, NameLoc::get(symbol.getAttr()), name,
                            type, source, /*parts=*/ArrayAttr(),
                            /*adapter_slot=*/false, /*delta=*/nullptr,
                            StringAttr());
  if (op.getStorageBytes() != tensor->bytes)
    errors.report(tensor->file, "tensor '" + name + "' occupies " +
                                    llvm::Twine(tensor->bytes) +
                                    " bytes, but shape " +
                                    shapeString(tensor->shape) + " stored as " +
                                    stringifyStorageType(storage) + " needs " +
                                    llvm::Twine(op.getStorageBytes()));
  return symbol;
}

FlatSymbolRefAttr GraphEmitter::declareCache(const AttentionSpec &spec) {
  auto symbol = FlatSymbolRefAttr::get(context, spec.cache);
  if (!caches.try_emplace(spec.cache, symbol).second)
    return symbol;
  // Sliding-window and chunked attention never look further back than
  // their window, so a ring of that many positions holds all they read.
  bool ring = spec.kind != AttentionKind::global;
  KVCacheOp::create(declarations, NameLoc::get(symbol.getAttr()), spec.cache,
                    ring ? CacheKind::ring : CacheKind::linear,
                    ring ? spec.window : contextLength, spec.kvHeads.size,
                    spec.headDim.size, Float32Type::get(context), StringAttr());
  return symbol;
}

//===----------------------------------------------------------------------===//
// Layer pieces
//===----------------------------------------------------------------------===//

Value GraphEmitter::linear(Value x, const ProjSpec &proj, const Dim &out,
                           const Dim &in, StringRef name) {
  FlatSymbolRefAttr weight = param(proj.weight, {out, in});
  FlatSymbolRefAttr bias;
  if (!proj.bias.empty())
    bias = param(proj.bias, {out});
  return LinearOp::create(builder, NameLoc::get(builder.getStringAttr(name)),
                          activations(out.size), x, weight, bias,
                          /*lora_a=*/nullptr, /*lora_b=*/nullptr);
}

Value GraphEmitter::norm(Value x, const NormSpec &spec, StringRef name) {
  Location loc = NameLoc::get(builder.getStringAttr(name));
  FlatSymbolRefAttr weight, bias;
  if (!spec.weight.empty())
    weight = param(spec.weight, {spec.size});
  if (spec.kind == NormSpec::Kind::Layer) {
    if (!spec.bias.empty())
      bias = param(spec.bias, {spec.size});
    return LayerNormOp::create(builder, loc, x.getType(), x, weight, bias,
                               builder.getF64FloatAttr(spec.eps));
  }
  IntegerAttr group;
  if (spec.groupSize)
    group = builder.getI64IntegerAttr(*spec.groupSize);
  return RMSNormOp::create(builder, loc, x.getType(), x, weight,
                           builder.getF64FloatAttr(spec.eps), group,
                           builder.getF64FloatAttr(spec.weightOffset));
}

Value GraphEmitter::rope(Value x, const RopeSpec &spec, int64_t headDim,
                         StringRef name) {
  DenseF32ArrayAttr frequencies;
  FloatAttr attentionFactor;
  if (!spec.scaling.isIdentity()) {
    auto rotary = static_cast<int64_t>(spec.rotaryFraction * headDim + 0.5);
    RopeTable table = ropeTable(spec.scaling, spec.theta, rotary);
    frequencies = builder.getDenseF32ArrayAttr(table.frequencies);
    if (table.attentionFactor != 1.0)
      attentionFactor = builder.getF64FloatAttr(table.attentionFactor);
  }
  return RopeOp::create(builder, NameLoc::get(builder.getStringAttr(name)),
                        x.getType(), RopeLayoutAttr::get(context, spec.layout),
                        x, positions, builder.getI64IntegerAttr(headDim),
                        builder.getF64FloatAttr(spec.theta),
                        builder.getF64FloatAttr(spec.rotaryFraction),
                        frequencies, attentionFactor);
}

Value GraphEmitter::attention(Value x, const AttentionSpec &spec,
                              StringRef tag) {
  Dim qDim{spec.heads.size * spec.headDim.size,
           spec.heads.field + " * " + spec.headDim.field};
  Dim kvDim{spec.kvHeads.size * spec.headDim.size,
            spec.kvHeads.field + " * " + spec.headDim.field};
  int64_t headDim = spec.headDim.size;

  Value q = linear(x, spec.q, qDim, hidden, valueName("q", tag));
  if (spec.qNorm)
    q = norm(q, *spec.qNorm, valueName("qn", tag));
  if (spec.rope)
    q = rope(q, *spec.rope, headDim, valueName("qr", tag));

  Value k, v;
  FlatSymbolRefAttr cache, writes;
  if (spec.readsSharedCache()) {
    // KV sharing: the cache an earlier layer wrote, already normed and
    // rotated; this layer projects only its queries.
    cache = FlatSymbolRefAttr::get(context, spec.cache);
  } else {
    k = linear(x, spec.k, kvDim, hidden, valueName("k", tag));
    v = linear(x, spec.v, kvDim, hidden, valueName("v", tag));
    if (spec.kNorm)
      k = norm(k, *spec.kNorm, valueName("kn", tag));
    if (spec.rope)
      k = rope(k, *spec.rope, headDim, valueName("kr", tag));
    cache = writes = declareCache(spec);
  }

  IntegerAttr window;
  if (spec.kind != AttentionKind::global)
    window = builder.getI64IntegerAttr(spec.window);
  FloatAttr scale, softcap;
  if (spec.scale)
    scale = builder.getF64FloatAttr(*spec.scale);
  if (spec.softcap)
    softcap = builder.getF64FloatAttr(*spec.softcap);
  Value attended = AttentionOp::create(
      builder, named("att", tag), q.getType(),
      AttentionKindAttr::get(context, spec.kind), q, k, v, positions, cache,
      writes, builder.getI64IntegerAttr(spec.heads.size),
      builder.getI64IntegerAttr(spec.kvHeads.size),
      builder.getI64IntegerAttr(headDim), window, scale, softcap,
      /*causal=*/nullptr);
  return linear(attended, spec.o, hidden, qDim, valueName("o", tag));
}

Value GraphEmitter::glu(Value x, const GluSpec &spec, Activation activation,
                        StringRef tag) {
  Value gate = linear(x, {spec.gate, ""}, spec.intermediate, hidden,
                      valueName("g", tag));
  Value up =
      linear(x, {spec.up, ""}, spec.intermediate, hidden, valueName("u", tag));
  Value gated =
      GluOp::create(builder, named("s", tag), gate.getType(),
                    ActivationAttr::get(context, activation), gate, up);
  return linear(gated, {spec.down, ""}, hidden, spec.intermediate,
                valueName("d", tag));
}

Value GraphEmitter::moe(Value x, const MoeSpec &spec, Activation activation,
                        StringRef tag) {
  int64_t topK = spec.topK;
  Value logits = linear(x, {spec.router, ""}, spec.experts, hidden,
                        valueName("router", tag));
  auto weightsType = activations(topK);
  auto indicesType =
      RankedTensorType::get({ShapedType::kDynamic, topK}, builder.getI32Type());
  auto route =
      MoeRouteOp::create(builder, named("route", tag), weightsType, indicesType,
                         spec.scoring, logits, topK, spec.normTopK);
  Value weights = route.getWeights(), indices = route.getIndices();

  Value expertInput = x;
  if (spec.scaleExpertInputs) {
    // Llama 4 scales the selected expert's input by its routing weight. With
    // one expert per token that is x * w (w broadcast over features), and the
    // expert outputs are then summed unweighted: a softmax top-1 route with
    // renormalization selects the same expert (same argmax, same tie rule)
    // with a weight of exactly p / p = 1.
    expertInput =
        MulOp::create(builder, named("xs", tag), x.getType(), x, weights);
    auto unit = MoeRouteOp::create(builder, named("unit", tag), weightsType,
                                   indicesType, RouterScoring::softmax, logits,
                                   topK, /*norm_topk_prob=*/true);
    weights = unit.getWeights();
    indices = unit.getIndices();
  }

  SmallVector<Value> outputs;
  for (auto [index, expert] : llvm::enumerate(spec.expertFfns))
    outputs.push_back(glu(expertInput, expert, activation,
                          (tag + ".e" + llvm::Twine(index)).str()));
  Value combined = MoeCombineOp::create(builder, named("moe", tag), x.getType(),
                                        weights, indices, outputs);
  if (!spec.shared)
    return combined;

  Value shared = glu(x, *spec.shared, activation, (tag + ".shared").str());
  if (!spec.sharedGate.empty()) {
    Value gateLogit = linear(x, {spec.sharedGate, ""}, Dim{1, "one gate"},
                             hidden, valueName("sgl", tag));
    Value gate = ActivationOp::create(
        builder, named("sg", tag), gateLogit.getType(),
        ActivationAttr::get(context, Activation::sigmoid), gateLogit);
    shared = MulOp::create(builder, named("sgx", tag), shared.getType(), shared,
                           gate);
  }
  return AddOp::create(builder, named("ffo", tag), combined.getType(), combined,
                       shared);
}

Value GraphEmitter::ffn(Value x, const FfnSpec &spec, StringRef tag) {
  if (spec.moe)
    return moe(x, *spec.moe, spec.activation, tag);
  return glu(x, *spec.dense, spec.activation, tag);
}

Value GraphEmitter::layer(Value h, const LayerSpec &spec) {
  StringRef tag = spec.tag;
  // Layer i of a stack maps %h<i> to %h<i+1>, as in a hand-written module.
  Location output = llvm::all_of(tag, llvm::isDigit)
                        ? named("h", std::to_string(std::stoll(tag.str()) + 1))
                        : named("h", tag);
  Value normed = norm(h, spec.inputNorm, valueName("an", tag));
  Value attended = attention(normed, spec.attention, tag);
  if (spec.postAttentionNorm)
    attended = norm(attended, *spec.postAttentionNorm, valueName("pan", tag));

  if (!spec.ffnNorm) {
    // Parallel block: attention and FFN both read the normed input.
    Value fed = ffn(normed, spec.ffn, tag);
    Value mid =
        AddOp::create(builder, named("r", tag), h.getType(), h, attended);
    return AddOp::create(builder, output, h.getType(), mid, fed);
  }
  Value mid = AddOp::create(builder, named("r", tag), h.getType(), h, attended);
  Value fed =
      ffn(norm(mid, *spec.ffnNorm, valueName("fn", tag)), spec.ffn, tag);
  if (spec.postFfnNorm)
    fed = norm(fed, *spec.postFfnNorm, valueName("pfn", tag));
  return AddOp::create(builder, output, h.getType(), mid, fed);
}

Value GraphEmitter::trackBlock(Value h, const TrackBlockSpec &spec,
                               size_t index) {
  int64_t depth = spec.tracks.empty() ? 0 : spec.tracks.front().size();
  std::string blockTag = "b" + std::to_string(index);
  auto block =
      ParallelTracksOp::create(builder, named("tb", blockTag), h.getType(),
                               spec.combine, depth, /*ranks=*/IntegerAttr(), h,
                               spec.tracks.size());
  OpBuilder::InsertionGuard guard(builder);
  for (auto [track, layers] : llvm::enumerate(spec.tracks)) {
    // Track t of block b receives the block input as %in.b<b>.t<t>.
    Block *body = builder.createBlock(
        &block.getTracks()[track], {}, {h.getType()},
        {named("in", blockTag + ".t" + std::to_string(track))});
    Value x = body->getArgument(0);
    for (const LayerSpec &layerSpec : layers)
      x = layer(x, layerSpec);
    YieldOp::create(builder, block.getLoc(), ValueRange{x});
  }
  return block.getResult();
}

//===----------------------------------------------------------------------===//
// The model
//===----------------------------------------------------------------------===//

void GraphEmitter::emitForward(const ModelSpec &spec) {
  hidden = spec.hidden;
  contextLength = spec.contextLength;

  auto idsType =
      RankedTensorType::get({ShapedType::kDynamic}, builder.getI32Type());
  auto logitsType = activations(spec.vocab.size);
  builder.setInsertionPointToEnd(module.getBody());
  auto forward = func::FuncOp::create(
      builder, NameLoc::get(builder.getStringAttr("forward")), "forward",
      builder.getFunctionType({idsType, idsType}, {logitsType}));
  declarations.setInsertionPoint(forward);
  Block *body =
      builder.createBlock(&forward.getBody(), {}, {idsType, idsType},
                          {NameLoc::get(builder.getStringAttr("tokens")),
                           NameLoc::get(builder.getStringAttr("pos"))});
  Value tokens = body->getArgument(0);
  positions = body->getArgument(1);

  FloatAttr embeddingScale;
  if (spec.embeddingScale)
    embeddingScale = builder.getF64FloatAttr(*spec.embeddingScale);
  Value h = EmbeddingOp::create(
      builder, named("h", "0"), activations(hidden.size),
      param(spec.embedding, {spec.vocab, hidden}), tokens, embeddingScale);
  for (const LayerSpec &layerSpec : spec.layers)
    h = layer(h, layerSpec);
  for (auto [index, block] : llvm::enumerate(spec.trackBlocks))
    h = trackBlock(h, block, index);

  Value normed = norm(h, spec.finalNorm, "final_norm");
  FloatAttr scale, softcap;
  if (spec.logitScale)
    scale = builder.getF64FloatAttr(*spec.logitScale);
  if (spec.logitSoftcap)
    softcap = builder.getF64FloatAttr(*spec.logitSoftcap);
  Value logits = LogitsOp::create(
      builder, named("logits", ""), logitsType, normed,
      param(spec.outputWeight, {spec.vocab, hidden}), scale, softcap);
  func::ReturnOp::create(builder, forward.getLoc(), logits);

  // Caches after parameters, as in a hand-written module.
  SmallVector<KVCacheOp> declared(module.getOps<KVCacheOp>());
  for (KVCacheOp cache : declared)
    cache->moveBefore(forward);
}

} // namespace fmc::import
