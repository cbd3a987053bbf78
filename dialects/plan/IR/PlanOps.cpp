//===- PlanOps.cpp - plan kernel verifiers --------------------------------===//
//
// Each kernel checks that its buffers fit its specialization (verify) and
// that the parameters and caches it names have the shapes it will read
// (verifySymbolUses). A plan that passes both never makes a kernel read or
// write outside a buffer, a parameter or a cache.
//
//===----------------------------------------------------------------------===//

#include "dialects/plan/IR/PlanOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallPtrSet.h"

using namespace mlir;
using namespace mlir::plan;

#include "dialects/plan/IR/PlanInterfaces.cpp.inc"

#define GET_OP_CLASSES
#include "dialects/plan/IR/PlanOps.cpp.inc"

SmallVector<Value> mlir::plan::getReadBuffers(KernelOpInterface kernel) {
  SmallVector<Value> written = kernel.getWrittenBuffers();
  SmallVector<Value> read;
  for (Value operand : kernel->getOperands())
    if (!llvm::is_contained(written, operand))
      read.push_back(operand);
  return read;
}

int64_t mlir::plan::getBufferBytes(RowsType type, int64_t maxTokens) {
  int64_t bytes = maxTokens * type.getRowBytes();
  return (bytes + kBufferAlignment - 1) / kBufferAlignment * kBufferAlignment;
}

void BufferOp::getAsmResultNames(OpAsmSetValueNameFn setNameFn) {
  if (std::optional<StringRef> name = getName())
    setNameFn(getResult(), *name);
}

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

namespace {

RowsType rows(Value v) { return cast<RowsType>(v.getType()); }

bool isFloat(RowsType t) { return isa<FloatType>(t.getElementType()); }

bool isIndexRows(RowsType t) {
  return t.getWidth() == 1 && t.getElementType().isInteger(32);
}

LogicalResult expectFloat(Operation *op, StringRef role, Value v) {
  if (!isFloat(rows(v)))
    return op->emitOpError()
           << role << " must hold floats, got " << v.getType();
  return success();
}

LogicalResult expectSameType(Operation *op, StringRef a, Value va, StringRef b,
                             Value vb) {
  if (va.getType() != vb.getType())
    return op->emitOpError() << a << " " << va.getType() << " and " << b << " "
                             << vb.getType() << " must have the same type";
  return success();
}

LogicalResult expectIndexRows(Operation *op, StringRef role, Value v) {
  if (!isIndexRows(rows(v)))
    return op->emitOpError()
           << role << " must be !plan.rows<1, i32>, got " << v.getType();
  return success();
}

std::string shapeText(ArrayRef<int64_t> dims) {
  std::string text = "[";
  llvm::raw_string_ostream os(text);
  llvm::interleaveComma(dims, os);
  os << "]";
  return text;
}

/// Resolves `ref` to an fm.param of shape `expected` with a dense storage
/// type the runtime's kernels read (f32, f16 or bf16).
LogicalResult checkParam(Operation *op, SymbolTableCollection &tables,
                         FlatSymbolRefAttr ref, StringRef role,
                         ArrayRef<int64_t> expected) {
  if (!ref)
    return success();
  auto param = tables.lookupNearestSymbolFrom<fm::ParamOp>(op, ref.getAttr());
  if (!param)
    return op->emitOpError()
           << role << " " << ref << " does not name an fm.param";
  ArrayRef<int64_t> shape = param.getTensorType().getShape();
  if (shape != expected)
    return op->emitOpError()
           << role << " " << ref << " has shape " << shapeText(shape)
           << ", expected " << shapeText(expected);
  return success();
}

LogicalResult checkCache(Operation *op, SymbolTableCollection &tables,
                         FlatSymbolRefAttr ref, StringRef role, int64_t kvHeads,
                         int64_t headDim) {
  if (!ref)
    return success();
  auto cache = tables.lookupNearestSymbolFrom<fm::KVCacheOp>(op, ref.getAttr());
  if (!cache)
    return op->emitOpError()
           << role << " " << ref << " does not name an fm.kv_cache";
  if (static_cast<int64_t>(cache.getNumKvHeads()) != kvHeads ||
      static_cast<int64_t>(cache.getHeadDim()) != headDim)
    return op->emitOpError()
           << role << " " << ref << " holds " << cache.getNumKvHeads()
           << " heads of " << cache.getHeadDim() << ", expected " << kvHeads
           << " heads of " << headDim;
  return success();
}

LogicalResult checkPositive(Operation *op, StringRef name,
                            std::optional<double> value) {
  if (value && !(*value > 0.0))
    return op->emitOpError() << name << " must be positive, got " << *value;
  return success();
}

} // namespace

//===----------------------------------------------------------------------===//
// Verifiers
//===----------------------------------------------------------------------===//

LogicalResult IoOp::verify() {
  if (failed(expectIndexRows(*this, "tokens", getTokens())) ||
      failed(expectIndexRows(*this, "positions", getPositions())) ||
      failed(expectFloat(*this, "logits", getLogits())))
    return failure();
  return success();
}

LogicalResult EmbeddingOp::verify() {
  if (failed(expectIndexRows(*this, "tokens", getTokens())) ||
      failed(expectFloat(*this, "output", getOutput())))
    return failure();
  return checkPositive(*this, "scale",
                       getScale() ? std::optional(getScale()->convertToDouble())
                                  : std::nullopt);
}

LogicalResult EmbeddingOp::verifySymbolUses(SymbolTableCollection &tables) {
  auto param = tables.lookupNearestSymbolFrom<fm::ParamOp>(
      *this, getTableAttr().getAttr());
  if (!param)
    return emitOpError() << "table " << getTableAttr()
                         << " does not name an fm.param";
  ArrayRef<int64_t> shape = param.getTensorType().getShape();
  if (shape.size() != 2 || shape[1] != rows(getOutput()).getWidth())
    return emitOpError() << "table " << getTableAttr() << " has shape "
                         << shapeText(shape) << ", expected [vocab, "
                         << rows(getOutput()).getWidth() << "]";
  return success();
}

LogicalResult RMSNormOp::verify() {
  if (failed(expectFloat(*this, "input", getInput())) ||
      failed(expectSameType(*this, "input", getInput(), "output", getOutput())))
    return failure();
  int64_t width = rows(getInput()).getWidth();
  if (getGroupSize() <= 0 || width % getGroupSize() != 0)
    return emitOpError() << "group_size " << getGroupSize()
                         << " must be positive and divide the width " << width;
  if (getEps().convertToDouble() < 0.0)
    return emitOpError() << "eps must not be negative";
  return success();
}

LogicalResult RMSNormOp::verifySymbolUses(SymbolTableCollection &tables) {
  return checkParam(*this, tables, getWeightAttr(), "weight",
                    {static_cast<int64_t>(getGroupSize())});
}

LogicalResult LayerNormOp::verify() {
  if (failed(expectFloat(*this, "input", getInput())) ||
      failed(expectSameType(*this, "input", getInput(), "output", getOutput())))
    return failure();
  if (getEps().convertToDouble() < 0.0)
    return emitOpError() << "eps must not be negative";
  return success();
}

LogicalResult LayerNormOp::verifySymbolUses(SymbolTableCollection &tables) {
  int64_t width = rows(getInput()).getWidth();
  if (failed(checkParam(*this, tables, getWeightAttr(), "weight", {width})) ||
      failed(checkParam(*this, tables, getBiasAttr(), "bias", {width})))
    return failure();
  return success();
}

LogicalResult LinearOp::verify() {
  if (failed(expectFloat(*this, "input", getInput())) ||
      failed(expectFloat(*this, "output", getOutput())))
    return failure();
  return success();
}

LogicalResult LinearOp::verifySymbolUses(SymbolTableCollection &tables) {
  int64_t in = rows(getInput()).getWidth(), out = rows(getOutput()).getWidth();
  if (failed(checkParam(*this, tables, getWeightAttr(), "weight", {out, in})) ||
      failed(checkParam(*this, tables, getBiasAttr(), "bias", {out})))
    return failure();
  return success();
}

LogicalResult RopeOp::verify() {
  if (failed(expectFloat(*this, "input", getInput())) ||
      failed(
          expectSameType(*this, "input", getInput(), "output", getOutput())) ||
      failed(expectIndexRows(*this, "positions", getPositions())))
    return failure();
  int64_t width = rows(getInput()).getWidth();
  int64_t headDim = getHeadDim(), rotary = getRotaryDim();
  if (headDim <= 0 || headDim % 2 != 0 || width % headDim != 0)
    return emitOpError() << "head_dim " << headDim
                         << " must be positive, even and divide the width "
                         << width;
  if (rotary <= 0 || rotary % 2 != 0 || rotary > headDim)
    return emitOpError() << "rotary_dim " << rotary
                         << " must be positive, even and at most head_dim "
                         << headDim;
  if (std::optional<ArrayRef<float>> frequencies = getFrequencies()) {
    if (static_cast<int64_t>(frequencies->size()) != rotary / 2)
      return emitOpError() << "frequencies has " << frequencies->size()
                           << " entries, not rotary_dim / 2 = " << rotary / 2;
    for (auto [i, frequency] : llvm::enumerate(*frequencies))
      if (!(frequency > 0.0f) || std::isinf(frequency))
        return emitOpError() << "frequencies[" << i
                             << "] must be positive and finite, got "
                             << frequency;
  }
  if (failed(checkPositive(*this, "attention_factor",
                           getAttentionFactor()
                               ? std::optional(
                                     getAttentionFactor()->convertToDouble())
                               : std::nullopt)))
    return failure();
  return checkPositive(*this, "theta", getTheta().convertToDouble());
}

LogicalResult RopeOp::verifySymbolUses(SymbolTableCollection &) {
  return success();
}

LogicalResult AttentionOp::verify() {
  int64_t heads = getNumHeads(), kvHeads = getNumKvHeads(),
          headDim = getHeadDim();
  if (heads <= 0 || kvHeads <= 0 || headDim <= 0 || heads % kvHeads != 0)
    return emitOpError() << "heads (" << heads << ") must be a positive "
                         << "multiple of kv_heads (" << kvHeads
                         << ") and head_dim (" << headDim << ") positive";
  if (failed(expectFloat(*this, "q", getQ())) ||
      failed(expectSameType(*this, "q", getQ(), "output", getOutput())) ||
      failed(expectIndexRows(*this, "positions", getPositions())))
    return failure();
  if (rows(getQ()).getWidth() != heads * headDim)
    return emitOpError() << "q has width " << rows(getQ()).getWidth()
                         << ", expected heads * head_dim = " << heads * headDim;
  if (bool(getK()) != bool(getWritesAttr()) || bool(getV()) != bool(getK()))
    return emitOpError() << "k, v and writes must be given together";
  for (Value kv : {getK(), getV()}) {
    if (!kv)
      continue;
    if (failed(expectFloat(*this, "k and v", kv)))
      return failure();
    if (rows(kv).getWidth() != kvHeads * headDim)
      return emitOpError() << "k and v must have width kv_heads * head_dim = "
                           << kvHeads * headDim << ", got "
                           << rows(kv).getWidth();
  }
  if (getWritesAttr() && getWritesAttr() != getReadsAttr())
    return emitOpError() << "writes " << getWritesAttr() << " but reads "
                         << getReadsAttr()
                         << "; a writing attention reads its own cache";
  if (getKind() == fm::AttentionKind::global) {
    if (getWindow())
      return emitOpError() << "global attention cannot have a window";
  } else if (!getWindow() || *getWindow() <= 0) {
    return emitOpError() << fm::stringifyAttentionKind(getKind())
                         << " attention needs a positive window";
  }
  if (failed(checkPositive(*this, "scale", getScale().convertToDouble())))
    return failure();
  return checkPositive(*this, "softcap",
                       getSoftcap()
                           ? std::optional(getSoftcap()->convertToDouble())
                           : std::nullopt);
}

LogicalResult AttentionOp::verifySymbolUses(SymbolTableCollection &tables) {
  if (failed(checkCache(*this, tables, getReadsAttr(), "reads", getNumKvHeads(),
                        getHeadDim())) ||
      failed(checkCache(*this, tables, getWritesAttr(), "writes",
                        getNumKvHeads(), getHeadDim())))
    return failure();
  return success();
}

LogicalResult KVAppendOp::verify() {
  if (failed(expectFloat(*this, "k", getK())) ||
      failed(expectSameType(*this, "k", getK(), "v", getV())) ||
      failed(expectIndexRows(*this, "positions", getPositions())))
    return failure();
  return success();
}

LogicalResult KVAppendOp::verifySymbolUses(SymbolTableCollection &tables) {
  auto cache =
      tables.lookupNearestSymbolFrom<fm::KVCacheOp>(*this, getCacheAttr());
  if (!cache)
    return emitOpError() << "cache " << getCacheAttr()
                         << " does not name an fm.kv_cache";
  int64_t width = static_cast<int64_t>(cache.getNumKvHeads()) *
                  static_cast<int64_t>(cache.getHeadDim());
  if (rows(getK()).getWidth() != width)
    return emitOpError() << "k and v have width " << rows(getK()).getWidth()
                         << ", but cache " << getCacheAttr() << " holds "
                         << cache.getNumKvHeads() << " heads of "
                         << cache.getHeadDim();
  return success();
}

LogicalResult ActivationOp::verify() {
  if (failed(expectFloat(*this, "input", getInput())))
    return failure();
  return expectSameType(*this, "input", getInput(), "output", getOutput());
}

LogicalResult ActivationOp::verifySymbolUses(SymbolTableCollection &) {
  return success();
}

LogicalResult GluOp::verify() {
  if (failed(expectFloat(*this, "gate", getGate())) ||
      failed(expectSameType(*this, "gate", getGate(), "up", getUp())))
    return failure();
  return expectSameType(*this, "gate", getGate(), "output", getOutput());
}

LogicalResult GluOp::verifySymbolUses(SymbolTableCollection &) {
  return success();
}

LogicalResult AddOp::verify() {
  if (failed(expectFloat(*this, "lhs", getLhs())) ||
      failed(expectSameType(*this, "lhs", getLhs(), "rhs", getRhs())))
    return failure();
  return expectSameType(*this, "lhs", getLhs(), "output", getOutput());
}

LogicalResult AddOp::verifySymbolUses(SymbolTableCollection &) {
  return success();
}

LogicalResult MulOp::verify() {
  if (failed(expectFloat(*this, "lhs", getLhs())) ||
      failed(expectSameType(*this, "lhs", getLhs(), "output", getOutput())))
    return failure();
  RowsType lhs = rows(getLhs()), rhs = rows(getRhs());
  if (rhs.getElementType() != lhs.getElementType() ||
      (rhs.getWidth() != lhs.getWidth() && rhs.getWidth() != 1))
    return emitOpError() << "rhs " << rhs << " must be " << lhs
                         << " or have width 1";
  return success();
}

LogicalResult MulOp::verifySymbolUses(SymbolTableCollection &) {
  return success();
}

LogicalResult MoeRouteOp::verify() {
  int64_t topK = getTopK(), experts = rows(getLogits()).getWidth();
  if (failed(expectFloat(*this, "logits", getLogits())))
    return failure();
  if (topK <= 0 || topK > experts)
    return emitOpError() << "top_k " << topK << " must be in [1, " << experts
                         << "]";
  if (!rows(getWeights()).getElementType().isF32() ||
      rows(getWeights()).getWidth() != topK)
    return emitOpError() << "weights must be !plan.rows<" << topK
                         << ", f32>, got " << getWeights().getType();
  if (!rows(getIndices()).getElementType().isInteger(32) ||
      rows(getIndices()).getWidth() != topK)
    return emitOpError() << "indices must be !plan.rows<" << topK
                         << ", i32>, got " << getIndices().getType();
  return success();
}

LogicalResult MoeRouteOp::verifySymbolUses(SymbolTableCollection &) {
  return success();
}

LogicalResult MoeCombineOp::verify() {
  int64_t topK = rows(getWeights()).getWidth();
  if (!rows(getWeights()).getElementType().isF32())
    return emitOpError() << "weights must hold f32, got "
                         << getWeights().getType();
  if (!rows(getIndices()).getElementType().isInteger(32) ||
      rows(getIndices()).getWidth() != topK)
    return emitOpError() << "indices must be !plan.rows<" << topK
                         << ", i32>, got " << getIndices().getType();
  if (getExperts().empty() || static_cast<int64_t>(getExperts().size()) < topK)
    return emitOpError() << "selects " << topK << " experts per token but has "
                         << getExperts().size();
  if (failed(expectFloat(*this, "output", getOutput())))
    return failure();
  for (auto [i, expert] : llvm::enumerate(getExperts()))
    if (expert.getType() != getOutput().getType())
      return emitOpError() << "expert " << i << " has type " << expert.getType()
                           << ", expected " << getOutput().getType();
  return success();
}

LogicalResult MoeCombineOp::verifySymbolUses(SymbolTableCollection &) {
  return success();
}

LogicalResult LogitsOp::verify() {
  if (failed(expectFloat(*this, "input", getInput())) ||
      failed(expectFloat(*this, "output", getOutput())))
    return failure();
  if (failed(checkPositive(*this, "scale",
                           getScale()
                               ? std::optional(getScale()->convertToDouble())
                               : std::nullopt)))
    return failure();
  return checkPositive(*this, "softcap",
                       getSoftcap()
                           ? std::optional(getSoftcap()->convertToDouble())
                           : std::nullopt);
}

LogicalResult LogitsOp::verifySymbolUses(SymbolTableCollection &tables) {
  int64_t in = rows(getInput()).getWidth(), out = rows(getOutput()).getWidth();
  return checkParam(*this, tables, getWeightAttr(), "weight", {out, in});
}

LogicalResult LastRowOp::verify() {
  if (failed(expectFloat(*this, "input", getInput())) ||
      failed(
          expectSameType(*this, "input", getInput(), "output", getOutput())) ||
      failed(expectIndexRows(*this, "positions", getPositions())) ||
      failed(expectIndexRows(*this, "output_positions", getOutputPositions())))
    return failure();
  // Buffers that hold every row of the run: whatever kernels before this one
  // wrote, and what the runtime fills. Kernels are the program's, in order,
  // inside dispatches or not.
  auto program = (*this)->getParentOfType<ProgramOp>();
  SmallVector<KernelOpInterface> kernels;
  program->walk([&](KernelOpInterface k) { kernels.push_back(k); });
  auto self = llvm::find(kernels, cast<KernelOpInterface>(getOperation()));
  llvm::SmallPtrSet<Value, 16> allRows;
  for (auto it = kernels.begin(); it != self; ++it)
    for (Value written : it->getWrittenBuffers())
      allRows.insert(written);
  if (auto io = dyn_cast<IoOp>(program.getBody().front().getTerminator())) {
    allRows.insert(io.getTokens());
    allRows.insert(io.getPositions());
  }
  for (auto it = std::next(self); it != kernels.end(); ++it) {
    Operation *op = *it;
    if (isa<LastRowOp>(op))
      return op->emitOpError() << "follows another plan.last_row; a program "
                                  "keeps its last row once";
    if (auto attention = dyn_cast<AttentionOp>(op))
      if (attention.getWritesAttr())
        return op->emitOpError()
               << "writes KV cache " << attention.getWritesAttr()
               << " after plan.last_row, which would cache the last "
                  "position only";
    if (auto append = dyn_cast<KVAppendOp>(op))
      return op->emitOpError()
             << "writes KV cache " << append.getCacheAttr()
             << " after plan.last_row, which would cache the last "
                "position only";
    for (Value read : getReadBuffers(*it))
      if (allRows.contains(read))
        return op->emitOpError()
               << "reads a buffer of every row of the run after "
                  "plan.last_row kept only the last";
  }
  return success();
}

LogicalResult LastRowOp::verifySymbolUses(SymbolTableCollection &) {
  return success();
}
