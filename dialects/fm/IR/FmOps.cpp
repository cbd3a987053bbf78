//===- FmOps.cpp - fm op verifiers and helpers ----------------------------===//
//
// Checks that need only the op itself. Checks against the parameters and
// caches an op names live in FmSymbolChecks.cpp.
//
//===----------------------------------------------------------------------===//

#include "dialects/fm/IR/FmOps.h"
#include "runtime/GgmlBlocks.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/FunctionInterfaces.h"

#include <cmath>
#include <cstdio>

using namespace mlir;
using namespace mlir::fm;

/// The size of the last (feature) dimension, or ShapedType::kDynamic.
static int64_t featureDim(Type type) {
  auto tensor = cast<RankedTensorType>(type);
  return tensor.getRank() == 0 ? ShapedType::kDynamic : tensor.getShape().back();
}

/// Two activation shapes agree on every dimension but the last (where both
/// are static).
static bool sameRows(RankedTensorType a, RankedTensorType b) {
  if (a.getRank() != b.getRank())
    return false;
  for (int64_t i = 0, e = a.getRank() - 1; i < e; ++i) {
    int64_t x = a.getDimSize(i), y = b.getDimSize(i);
    if (!ShapedType::isDynamic(x) && !ShapedType::isDynamic(y) && x != y)
      return false;
  }
  return true;
}

/// A double as the shortest readable text ("0.125", "1e-05") for diagnostics.
static std::string text(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%g", value);
  return buffer;
}

/// A constant the kernels read as f32 must stay what it says there: a
/// number that does not round to 0 (when it must be positive) or overflow
/// to infinity.
static LogicalResult checkF32Constant(Operation *op, StringRef name,
                                      double value, bool mayBeZero) {
  if (std::isnan(value))
    return op->emitOpError() << name << " must be a number, got nan";
  if (mayBeZero ? value < 0.0 : !(value > 0.0))
    return op->emitOpError()
           << name << (mayBeZero ? " must not be negative" : " must be positive")
           << ", got " << text(value);
  float asF32 = static_cast<float>(value);
  if (std::isinf(asF32) || (asF32 == 0.0f && value != 0.0))
    return op->emitOpError() << name << " " << text(value)
                             << " is " << (asF32 == 0.0f ? "0" : "infinite")
                             << " as the f32 the kernels compute with";
  return success();
}

/// An optional float attribute, when present, must be positive.
static LogicalResult checkPositive(Operation *op, StringRef name,
                                   FloatAttr attr) {
  if (!attr)
    return success();
  return checkF32Constant(op, name, attr.getValueAsDouble(),
                          /*mayBeZero=*/false);
}

/// Attention and RoPE read positions from the program's positions argument
/// (the runtime's, bounded by the context); anything else, the token ids
/// above all, would index the KV cache with values nothing bounds.
static LogicalResult checkPositionsArgument(Operation *op, Value positions) {
  auto arg = dyn_cast<BlockArgument>(positions);
  auto function =
      arg ? dyn_cast_or_null<FunctionOpInterface>(arg.getOwner()->getParentOp())
          : FunctionOpInterface();
  if (!function)
    return op->emitOpError()
           << "positions must be an argument of the function (the program's "
              "positions), not a computed value";
  for (Operation *user : positions.getUsers())
    if (auto embedding = dyn_cast<EmbeddingOp>(user);
        embedding && embedding.getTokens() == positions)
      return op->emitOpError()
             << "positions are the token ids of " << embedding->getName()
             << "; attention and rope need the positions argument";
  return success();
}

//===----------------------------------------------------------------------===//
// ParamOp
//===----------------------------------------------------------------------===//

LogicalResult ParamOp::verify() {
  RankedTensorType type = getTensorType();
  if (!type.hasStaticShape())
    return emitOpError() << "parameter shape must be static, got " << type;
  if (llvm::any_of(type.getShape(), [](int64_t d) { return d <= 0; }))
    return emitOpError() << "parameter dimensions must be positive, got "
                         << type;
  if (!isa<FloatType>(type.getElementType()))
    return emitOpError() << "parameter element type must be a float type, got "
                         << type.getElementType();
  if (type.getEncoding() && !getQuant())
    return emitOpError() << "parameter encoding must be #fm.quant, got "
                         << type.getEncoding();
  int sources = int(bool(getSourceAttr())) + int(isStack()) +
                int(getAdapterSlot());
  if (sources != 1)
    return emitOpError() << "a parameter comes from a file, stacks other "
                            "parameters or is an adapter slot, "
                         << (sources ? "only one of them" : "got none");
  if (getDeltaAttr() && !getSourceAttr())
    return emitOpError() << "a LoRA delta is added to a parameter from a file";
  if (getAdapterSlot()) {
    if (type.getRank() != 2 || !type.getElementType().isF16() || getQuant())
      return emitOpError() << "an adapter slot is a dense f16 matrix, got "
                           << type;
    return success();
  }
  if (isStack()) {
    if (getPartsAttr().empty())
      return emitOpError() << "a stack needs at least one part";
    return success();
  }
  StorageType dtype = getSourceAttr().getDtype();
  bool floatSource = dtype == StorageType::f32 || dtype == StorageType::f16 ||
                     dtype == StorageType::bf16;
  if (uint64_t stride = getSourceAttr().getRowStride()) {
    uint64_t rowBytes = type.getShape().back() * getElementBytes(dtype);
    if (stride < rowBytes)
      return emitOpError() << "row_stride " << stride
                           << " is shorter than a row of " << rowBytes
                           << " bytes";
    if (getDeltaAttr())
      return emitOpError() << "a LoRA delta folds into a parameter whose "
                              "rows are contiguous, not strided";
  }
  if (getDeltaAttr()) {
    if (!floatSource || getQuant() || type.getRank() != 2)
      return emitOpError() << "a LoRA delta folds into a dense float matrix "
                              "stored as f32, f16 or bf16";
  }
  if (getQuant() && dtype != StorageType::packed && !floatSource)
    return emitOpError() << "a quantized parameter is stored 'packed' or "
                            "quantized from floats, not from '"
                         << stringifyStorageType(dtype) << "'";
  if (!getQuant() && dtype == StorageType::packed)
    return emitOpError()
           << "'packed' storage needs an #fm.quant encoding on the type";
  if (const fmc::ggml::BlockFormat *blocks = getGgmlBlockFormat(dtype);
      blocks && type.getShape().back() % blocks->elements != 0)
    return emitOpError() << "'" << stringifyStorageType(dtype)
                         << "' stores blocks of " << blocks->elements
                         << " along the last dimension, which is "
                         << type.getShape().back();
  return success();
}

/// The parts of a stack, in order (null entries for names that are not
/// params, which verifySymbolUses reports).
static SmallVector<ParamOp> lookupParts(ParamOp stack) {
  SmallVector<ParamOp> parts;
  for (Attribute part : stack.getPartsAttr())
    parts.push_back(SymbolTable::lookupNearestSymbolFrom<ParamOp>(
        stack, cast<FlatSymbolRefAttr>(part)));
  return parts;
}

StorageType ParamOp::getStorageType() {
  if (getQuant())
    return StorageType::packed;
  if (getAdapterSlot())
    return StorageType::f16;
  if (!isStack())
    return getSourceAttr().getDtype();
  ParamOp first = lookupParts(*this).front();
  return first ? first.getStorageType() : StorageType::f32;
}

uint64_t ParamOp::getStorageBytes() {
  RankedTensorType type = getTensorType();
  uint64_t elements = type.getNumElements();
  StorageType dtype = getStorageType();
  if (const fmc::ggml::BlockFormat *blocks = getGgmlBlockFormat(dtype))
    return elements / blocks->elements * blocks->bytes;
  switch (dtype) {
  case StorageType::packed: {
    QuantAttr quant = getQuant();
    uint64_t k = type.getShape().back();
    uint64_t rows = elements / k;
    uint64_t groups =
        quant.getGroupSize() == 0 ? 1 : llvm::divideCeil(k, quant.getGroupSize());
    uint64_t scaleBytes = quant.getScaleType().getIntOrFloatBitWidth() / 8;
    uint64_t perGroup = quant.getGrid() == QuantGrid::affine ? 2 : 1;
    return rows * llvm::divideCeil(k * quant.getBits(), 8) +
           rows * groups * perGroup * scaleBytes;
  }
  default:
    return elements * getElementBytes(dtype);
  }
}

//===----------------------------------------------------------------------===//
// KVCacheOp
//===----------------------------------------------------------------------===//

LogicalResult KVCacheOp::verify() {
  // I64Attr getters return uint64_t; read them signed so -1 is caught.
  for (auto [name, value] :
       {std::pair<StringRef, int64_t>{"capacity", getCapacity()},
        {"kv_heads", getNumKvHeads()},
        {"head_dim", getHeadDim()}})
    if (value <= 0)
      return emitOpError() << name << " must be positive, got " << value;
  return success();
}

int64_t KVCacheOp::getBytesPerPosition() {
  return 2 * getNumKvHeads() * getHeadDim() *
         getElementType().getIntOrFloatBitWidth() / 8;
}

uint64_t KVCacheOp::getScaleBytes() {
  if (!getElementType().isInteger(8))
    return 0;
  return getCapacity() * getNumKvHeads() * 2 * sizeof(float);
}

uint64_t KVCacheOp::getTotalBytes() {
  return getCapacity() * getBytesPerPosition() + getScaleBytes();
}

//===----------------------------------------------------------------------===//
// TokenizerOp
//===----------------------------------------------------------------------===//

LogicalResult TokenizerOp::verify() {
  if (getFile().empty())
    return emitOpError() << "tokenizer file name is empty";
  for (Operation &other : *(*this)->getBlock())
    if (isa<TokenizerOp>(other) && &other != getOperation() &&
        other.isBeforeInBlock(getOperation()))
      return emitOpError() << "a module holds at most one tokenizer";
  return success();
}

//===----------------------------------------------------------------------===//
// EmbeddingOp, RMSNormOp, LinearOp, LogitsOp
//===----------------------------------------------------------------------===//

LogicalResult EmbeddingOp::verify() {
  if (getResult().getType().getRank() != 2)
    return emitOpError() << "result must be [tokens, hidden], got "
                         << getResult().getType();
  if (failed(checkPositive(*this, "scale", getScaleAttr())))
    return failure();
  return success();
}

LogicalResult LayerNormOp::verify() {
  return checkF32Constant(*this, "eps", getEps().convertToDouble(),
                          /*mayBeZero=*/true);
}

LogicalResult RMSNormOp::verify() {
  if (failed(checkF32Constant(*this, "eps", getEps().convertToDouble(),
                              /*mayBeZero=*/true)))
    return failure();
  int64_t features = featureDim(getInput().getType());
  if (std::optional<uint64_t> groupAttr = getGroupSize()) {
    auto group = static_cast<int64_t>(*groupAttr);
    if (group <= 0)
      return emitOpError() << "group_size must be positive, got " << group;
    if (!ShapedType::isDynamic(features) && features % group != 0)
      return emitOpError() << "input has " << features
                           << " features, not a multiple of group_size "
                           << group;
  }
  return success();
}

int64_t RMSNormOp::getNormalizedSize() {
  if (std::optional<uint64_t> group = getGroupSize())
    return *group;
  return featureDim(getInput().getType());
}

LogicalResult LinearOp::verify() {
  auto in = getInput().getType(), out = getResult().getType();
  if (!sameRows(in, out))
    return emitOpError() << "input " << in << " and result " << out
                         << " must have the same rows";
  if (in.getElementType() != out.getElementType())
    return emitOpError() << "input and result element types differ: "
                         << in.getElementType() << " vs "
                         << out.getElementType();
  if (bool(getLoraAAttr()) != bool(getLoraBAttr()))
    return emitOpError() << "a lora update needs both A and B";
  return success();
}

LogicalResult LogitsOp::verify() {
  auto in = getInput().getType(), out = getResult().getType();
  if (!sameRows(in, out))
    return emitOpError() << "input " << in << " and result " << out
                         << " must have the same rows";
  if (failed(checkPositive(*this, "softcap", getSoftcapAttr())))
    return failure();
  if (failed(checkPositive(*this, "scale", getScaleAttr())))
    return failure();
  return success();
}

//===----------------------------------------------------------------------===//
// RopeOp
//===----------------------------------------------------------------------===//

LogicalResult RopeOp::verify() {
  int64_t headDim = getHeadDim();
  if (headDim <= 0 || headDim % 2 != 0)
    return emitOpError() << "head_dim must be positive and even, got "
                         << headDim;
  int64_t features = featureDim(getInput().getType());
  if (!ShapedType::isDynamic(features) && features % headDim != 0)
    return emitOpError() << "input has " << features
                         << " features, not a multiple of head_dim "
                         << headDim;
  if (failed(checkF32Constant(*this, "theta", getTheta().convertToDouble(),
                              /*mayBeZero=*/false)) ||
      failed(checkPositionsArgument(*this, getPositions())))
    return failure();
  double fraction = getRotaryFraction().convertToDouble();
  if (!(fraction > 0.0 && fraction <= 1.0))
    return emitOpError() << "rotary_fraction must be in (0, 1], got "
                         << text(fraction);
  double rotated = fraction * headDim;
  if (rotated != std::floor(rotated) || static_cast<int64_t>(rotated) % 2 != 0)
    return emitOpError() << "rotary_fraction " << text(fraction)
                         << " of head_dim " << headDim << " rotates "
                         << text(rotated) << " features; it must be an even count";
  if (std::optional<ArrayRef<float>> frequencies = getFrequencies()) {
    auto pairs = static_cast<int64_t>(rotated) / 2;
    if (static_cast<int64_t>(frequencies->size()) != pairs)
      return emitOpError() << "frequencies has " << frequencies->size()
                           << " entries; rotating " << pairs * 2
                           << " features needs " << pairs;
    for (auto [i, frequency] : llvm::enumerate(*frequencies))
      if (!(frequency > 0.0f) || std::isinf(frequency))
        return emitOpError() << "frequencies[" << i
                             << "] must be positive and finite, got "
                             << text(frequency);
  }
  if (std::optional<APFloat> factor = getAttentionFactor())
    return checkF32Constant(*this, "attention_factor",
                            factor->convertToDouble(), /*mayBeZero=*/false);
  return success();
}

//===----------------------------------------------------------------------===//
// AttentionOp
//===----------------------------------------------------------------------===//

LogicalResult AttentionOp::verify() {
  int64_t heads = getNumHeads(), kvHeads = getNumKvHeads(),
          headDim = getHeadDim();
  if (heads <= 0 || kvHeads <= 0 || headDim <= 0)
    return emitOpError() << "heads, kv_heads and head_dim must be positive, "
                            "got "
                         << heads << ", " << kvHeads << ", " << headDim;
  if (heads % kvHeads != 0)
    return emitOpError() << "heads (" << heads
                         << ") must be a multiple of kv_heads (" << kvHeads
                         << ")";
  RankedTensorType qType = getQ().getType();
  int64_t qFeatures = featureDim(qType);
  if (!ShapedType::isDynamic(qFeatures) && qFeatures != heads * headDim)
    return emitOpError() << "q has " << qFeatures << " features, expected heads"
                         << " * head_dim = " << heads * headDim;
  if (getResult().getType() != qType)
    return emitOpError() << "result type " << getResult().getType()
                         << " must match q's " << qType;

  if (bool(getK()) != bool(getV()))
    return emitOpError() << "k and v must be given together";
  if (bool(getK()) != bool(getWrites()))
    return emitOpError()
           << (getK() ? "k and v are given but no cache is written"
                      : "writes a cache but has no k and v to write");
  for (Value kv : {getK(), getV()}) {
    if (!kv)
      continue;
    auto kvType = cast<RankedTensorType>(kv.getType());
    int64_t kvFeatures = featureDim(kvType);
    if (!ShapedType::isDynamic(kvFeatures) && kvFeatures != kvHeads * headDim)
      return emitOpError() << (kv == getK() ? "k" : "v") << " has "
                           << kvFeatures
                           << " features, expected kv_heads * head_dim = "
                           << kvHeads * headDim;
    if (!sameRows(kvType, qType))
      return emitOpError() << "k and v must have the same rows as q";
  }

  if (getKind() != AttentionKind::global) {
    if (!getWindow())
      return emitOpError() << stringifyAttentionKind(getKind())
                           << " attention needs a window";
    if (static_cast<int64_t>(*getWindow()) <= 0)
      return emitOpError() << "window must be positive, got "
                           << static_cast<int64_t>(*getWindow());
  } else if (getWindow()) {
    return emitOpError() << "global attention cannot have a window (got "
                         << *getWindow() << "); make it local";
  }
  if (failed(checkPositive(*this, "scale", getScaleAttr())))
    return failure();
  if (failed(checkPositive(*this, "softcap", getSoftcapAttr())))
    return failure();
  return checkPositionsArgument(*this, getPositions());
}

double AttentionOp::getEffectiveScale() {
  if (FloatAttr scale = getScaleAttr())
    return scale.getValueAsDouble();
  return 1.0 / std::sqrt(static_cast<double>(getHeadDim()));
}

void AttentionOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  effects.emplace_back(MemoryEffects::Read::get(), getReadsAttr(),
                       KVCacheResource::get());
  if (FlatSymbolRefAttr writes = getWritesAttr())
    effects.emplace_back(MemoryEffects::Write::get(), writes,
                         KVCacheResource::get());
}

//===----------------------------------------------------------------------===//
// MulOp
//===----------------------------------------------------------------------===//

LogicalResult MulOp::verify() {
  auto lhs = getLhs().getType(), rhs = getRhs().getType();
  if (lhs == rhs)
    return success();
  if (rhs.getRank() == lhs.getRank() && sameRows(lhs, rhs) &&
      rhs.getShape().back() == 1 &&
      rhs.getElementType() == lhs.getElementType())
    return success();
  return emitOpError() << "rhs " << rhs << " must be " << lhs
                       << " or have a last dimension of 1";
}

//===----------------------------------------------------------------------===//
// Mixture of experts
//===----------------------------------------------------------------------===//

LogicalResult MoeRouteOp::verify() {
  int64_t topK = getTopK();
  int64_t experts = featureDim(getLogits().getType());
  if (topK <= 0)
    return emitOpError() << "top_k must be positive, got " << topK;
  if (!ShapedType::isDynamic(experts) && topK > experts)
    return emitOpError() << "top_k (" << topK << ") exceeds the " << experts
                         << " experts";
  auto weights = getWeights().getType();
  auto indices = getIndices().getType();
  if (!sameRows(getLogits().getType(), weights) ||
      featureDim(weights) != topK)
    return emitOpError() << "weights must be [tokens, " << topK << "], got "
                         << weights;
  if (indices.getShape() != weights.getShape())
    return emitOpError() << "indices " << indices
                         << " must have the shape of weights " << weights;
  return success();
}

LogicalResult MoeCombineOp::verify() {
  auto weights = getWeights().getType();
  if (getIndices().getType().getShape() != weights.getShape())
    return emitOpError() << "indices " << getIndices().getType()
                         << " must have the shape of weights " << weights;
  if (getExperts().empty())
    return emitOpError() << "needs at least one expert";
  int64_t topK = featureDim(weights);
  if (!ShapedType::isDynamic(topK) &&
      topK > static_cast<int64_t>(getExperts().size()))
    return emitOpError() << "selects " << topK << " experts per token but has "
                         << getExperts().size();
  for (auto [i, expert] : llvm::enumerate(getExperts()))
    if (expert.getType() != getResult().getType())
      return emitOpError() << "expert " << i << " has type "
                           << expert.getType() << ", expected "
                           << getResult().getType();
  if (!sameRows(weights, getResult().getType()))
    return emitOpError() << "weights and result must have the same rows";
  return success();
}

LogicalResult MoeOp::verify() {
  if (static_cast<int64_t>(getTopK()) <= 0)
    return emitOpError() << "top_k must be positive, got "
                         << static_cast<int64_t>(getTopK());
  if (bool(getSharedGateUpAttr()) != bool(getSharedDownAttr()))
    return emitOpError()
           << "a shared expert needs both shared_gate_up and shared_down";
  if (getSharedGateAttr() && !getSharedGateUpAttr())
    return emitOpError() << "shared_gate is given without a shared expert";
  return success();
}

//===----------------------------------------------------------------------===//
// ParallelTracksOp
//===----------------------------------------------------------------------===//

LogicalResult ParallelTracksOp::verifyRegions() {
  if (getTracks().empty())
    return emitOpError() << "needs at least one track";
  if (static_cast<int64_t>(getDepth()) <= 0)
    return emitOpError() << "depth must be positive, got "
                         << static_cast<int64_t>(getDepth());
  if (getRanks() && *getRanks() < 2)
    return emitOpError() << "ranks must be at least 2 when given, got "
                         << *getRanks();
  Type type = getInput().getType();
  for (auto [index, track] : llvm::enumerate(getTracks())) {
    Block &body = track.front();
    if (body.getNumArguments() != 1 || body.getArgument(0).getType() != type)
      return emitOpError() << "track " << index
                           << " must take one argument of type " << type;
    auto yield = dyn_cast<YieldOp>(body.getTerminator());
    if (!yield || yield.getValues().size() != 1 ||
        yield.getValues().front().getType() != type)
      return emitOpError() << "track " << index << " must yield one " << type;
  }
  // Every track holds `depth` layers, each with exactly one attention.
  for (auto [index, track] : llvm::enumerate(getTracks())) {
    int64_t layers = 0;
    track.walk([&](AttentionOp) { ++layers; });
    if (layers != static_cast<int64_t>(getDepth()))
      return emitOpError() << "track " << index << " has " << layers
                           << " attention layers, expected depth "
                           << getDepth();
  }
  return success();
}

#define GET_OP_CLASSES
#include "dialects/fm/IR/FmOps.cpp.inc"

//===----------------------------------------------------------------------===//
// AllReduceOp
//===----------------------------------------------------------------------===//

LogicalResult AllReduceOp::verify() {
  // I64Attr getters return uint64_t; read it signed so -1 is caught.
  int64_t ranks = getRanks();
  if (ranks < 2)
    return emitOpError() << "sums over 2 or more ranks, got " << ranks;
  return success();
}
