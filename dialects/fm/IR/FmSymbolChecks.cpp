//===- FmSymbolChecks.cpp - checks of the symbols fm ops name -------------===//
//
// verifySymbolUses runs after the whole module has been verified, so these
// checks may look at the parameters and caches an op names, and at the order
// of attention ops in the model.
//
//===----------------------------------------------------------------------===//

#include "dialects/fm/IR/FmOps.h"

#include "mlir/Interfaces/FunctionInterfaces.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace mlir::fm;

namespace {

/// A shape as "[a, b, ?]" for diagnostics.
std::string shapeText(ArrayRef<int64_t> dims) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "[";
  llvm::interleave(
      dims,
      [&](int64_t d) {
        if (ShapedType::isDynamic(d))
          os << "?";
        else
          os << d;
      },
      [&] { os << ", "; });
  os << "]";
  return text;
}

/// Resolves `ref` to an fm.param, or reports which role it was meant for.
FailureOr<ParamOp> lookupParam(Operation *op, SymbolTableCollection &tables,
                               FlatSymbolRefAttr ref, StringRef role) {
  Operation *symbol = tables.lookupNearestSymbolFrom(op, ref);
  auto param = dyn_cast_or_null<ParamOp>(symbol);
  if (!param)
    return op->emitOpError() << role << " " << ref
                             << (symbol ? " is not an fm.param"
                                        : " does not name an fm.param");
  return param;
}

/// Checks a parameter's shape against `expected`, where a dynamic entry
/// matches any size (it comes from an activation of unknown width).
LogicalResult expectShape(Operation *op, ParamOp param, StringRef role,
                          ArrayRef<int64_t> expected) {
  ArrayRef<int64_t> actual = param.getTensorType().getShape();
  bool matches = actual.size() == expected.size() &&
                 llvm::all_of(llvm::zip(actual, expected), [](auto pair) {
                   auto [a, e] = pair;
                   return ShapedType::isDynamic(e) || a == e;
                 });
  if (matches)
    return success();
  return op->emitOpError() << role << " @" << param.getSymName()
                           << " has shape " << shapeText(actual)
                           << ", expected " << shapeText(expected);
}

/// Resolves and shape-checks a parameter in one step.
FailureOr<ParamOp> checkParam(Operation *op, SymbolTableCollection &tables,
                              FlatSymbolRefAttr ref, StringRef role,
                              ArrayRef<int64_t> expected) {
  FailureOr<ParamOp> param = lookupParam(op, tables, ref, role);
  if (failed(param) || failed(expectShape(op, *param, role, expected)))
    return failure();
  return param;
}

int64_t lastDim(Value value) {
  return cast<RankedTensorType>(value.getType()).getShape().back();
}

} // namespace

LogicalResult ParamOp::verifySymbolUses(SymbolTableCollection &tables) {
  if (!isStack())
    return success();
  RankedTensorType type = getTensorType();
  int64_t elements = 0;
  std::optional<StorageType> dtype;
  for (Attribute name : getPartsAttr()) {
    auto ref = cast<FlatSymbolRefAttr>(name);
    FailureOr<ParamOp> part = lookupParam(*this, tables, ref, "part");
    if (failed(part))
      return failure();
    if (part->isStack() || part->getQuant())
      return emitOpError() << "part " << ref
                           << " must be a dense parameter stored in a file";
    RankedTensorType partType = part->getTensorType();
    if (partType.getShape().back() != type.getShape().back())
      return emitOpError() << "part " << ref << " has rows of "
                           << partType.getShape().back()
                           << " elements, the stack rows of "
                           << type.getShape().back();
    StorageType partDtype = part->getSourceAttr().getDtype();
    if (dtype && *dtype != partDtype)
      return emitOpError() << "part " << ref << " is stored as '"
                           << stringifyStorageType(partDtype)
                           << "' but earlier parts as '"
                           << stringifyStorageType(*dtype) << "'";
    dtype = partDtype;
    elements += partType.getNumElements();
  }
  if (elements != type.getNumElements())
    return emitOpError() << "parts hold " << elements << " elements, the "
                         << "stack " << type.getNumElements();
  return success();
}

LogicalResult EmbeddingOp::verifySymbolUses(SymbolTableCollection &tables) {
  return checkParam(*this, tables, getTableAttr(), "table",
                    {ShapedType::kDynamic, lastDim(getResult())});
}

LogicalResult RMSNormOp::verifySymbolUses(SymbolTableCollection &tables) {
  if (!getWeightAttr())
    return success();
  return checkParam(*this, tables, getWeightAttr(), "weight",
                    {getNormalizedSize()});
}

LogicalResult LayerNormOp::verifySymbolUses(SymbolTableCollection &tables) {
  int64_t features = lastDim(getInput());
  if (getWeightAttr() &&
      failed(checkParam(*this, tables, getWeightAttr(), "weight", {features})))
    return failure();
  if (getBiasAttr() &&
      failed(checkParam(*this, tables, getBiasAttr(), "bias", {features})))
    return failure();
  return success();
}

LogicalResult LinearOp::verifySymbolUses(SymbolTableCollection &tables) {
  int64_t out = lastDim(getResult()), in = lastDim(getInput());
  if (failed(checkParam(*this, tables, getWeightAttr(), "weight", {out, in})))
    return failure();
  if (getBiasAttr() &&
      failed(checkParam(*this, tables, getBiasAttr(), "bias", {out})))
    return failure();
  if (!getLoraAAttr())
    return success();
  FailureOr<ParamOp> a = checkParam(*this, tables, getLoraAAttr(), "lora A",
                                    {ShapedType::kDynamic, in});
  if (failed(a))
    return failure();
  int64_t rank = a->getTensorType().getDimSize(0);
  FailureOr<ParamOp> b =
      checkParam(*this, tables, getLoraBAttr(), "lora B", {out, rank});
  if (failed(b))
    return failure();
  for (ParamOp pair : {*a, *b})
    if (pair.getQuant())
      return emitOpError() << "lora @" << pair.getSymName()
                           << " must be dense, not quantized";
  return success();
}

LogicalResult LogitsOp::verifySymbolUses(SymbolTableCollection &tables) {
  return checkParam(*this, tables, getWeightAttr(), "weight",
                    {lastDim(getResult()), lastDim(getInput())});
}

LogicalResult MoeOp::verifySymbolUses(SymbolTableCollection &tables) {
  int64_t hidden = lastDim(getInput());
  FailureOr<ParamOp> router = checkParam(*this, tables, getRouterAttr(),
                                         "router", {ShapedType::kDynamic, hidden});
  if (failed(router))
    return failure();
  int64_t experts = router->getTensorType().getDimSize(0);
  if (static_cast<int64_t>(getTopK()) > experts)
    return emitOpError() << "top_k (" << getTopK() << ") exceeds the "
                         << experts << " experts";
  FailureOr<ParamOp> gateUp =
      checkParam(*this, tables, getGateUpAttr(), "gate_up",
                 {experts, ShapedType::kDynamic, hidden});
  if (failed(gateUp))
    return failure();
  int64_t gateUpRows = gateUp->getTensorType().getDimSize(1);
  if (gateUpRows % 2 != 0)
    return emitOpError() << "gate_up @" << gateUp->getSymName() << " has "
                         << gateUpRows
                         << " rows per expert; gate and up need an even count";
  if (failed(checkParam(*this, tables, getDownAttr(), "down",
                        {experts, hidden, gateUpRows / 2})))
    return failure();
  if (!getSharedGateUpAttr())
    return success();
  FailureOr<ParamOp> sharedGateUp =
      checkParam(*this, tables, getSharedGateUpAttr(), "shared_gate_up",
                 {ShapedType::kDynamic, hidden});
  if (failed(sharedGateUp))
    return failure();
  int64_t sharedRows = sharedGateUp->getTensorType().getDimSize(0);
  if (sharedRows % 2 != 0)
    return emitOpError() << "shared_gate_up @" << sharedGateUp->getSymName()
                         << " has " << sharedRows
                         << " rows; gate and up need an even count";
  if (failed(checkParam(*this, tables, getSharedDownAttr(), "shared_down",
                        {hidden, sharedRows / 2})))
    return failure();
  if (getSharedGateAttr() &&
      failed(checkParam(*this, tables, getSharedGateAttr(), "shared_gate",
                        {1, hidden})))
    return failure();
  return success();
}

//===----------------------------------------------------------------------===//
// AttentionOp: the cache it names, and where its writer sits
//===----------------------------------------------------------------------===//

/// Attention ops of the model that write `cache`, in program order, split
/// into those before `self` and those after it.
static void findWriters(AttentionOp self, StringAttr cache,
                        SmallVectorImpl<AttentionOp> &before,
                        SmallVectorImpl<AttentionOp> &after) {
  Operation *scope = self->getParentOfType<FunctionOpInterface>();
  if (!scope)
    return;
  bool seenSelf = false;
  scope->walk<WalkOrder::PreOrder>([&](AttentionOp other) {
    if (other == self) {
      seenSelf = true;
      return;
    }
    FlatSymbolRefAttr writes = other.getWritesAttr();
    if (writes && writes.getAttr() == cache)
      (seenSelf ? after : before).push_back(other);
  });
}

LogicalResult AttentionOp::verifySymbolUses(SymbolTableCollection &tables) {
  FlatSymbolRefAttr reads = getReadsAttr();
  Operation *symbol = tables.lookupNearestSymbolFrom(*this, reads);
  auto cache = dyn_cast_or_null<KVCacheOp>(symbol);
  if (!cache)
    return emitOpError() << "reads " << reads
                         << (symbol ? ", which is not an fm.kv_cache"
                                    : ", which does not name an fm.kv_cache");
  if (FlatSymbolRefAttr writes = getWritesAttr(); writes && writes != reads)
    return emitOpError() << "writes " << writes << " but reads " << reads
                         << "; an attention that writes a cache reads that "
                            "same cache";

  if (cache.getNumKvHeads() != getNumKvHeads() ||
      cache.getHeadDim() != getHeadDim())
    return emitOpError() << "has kv_heads = " << getNumKvHeads()
                         << ", head_dim = " << getHeadDim() << " but cache "
                         << reads << " holds kv_heads = "
                         << cache.getNumKvHeads()
                         << ", head_dim = " << cache.getHeadDim();
  if (cache.getKind() == CacheKind::ring) {
    if (getKind() == AttentionKind::global)
      return emitOpError() << "is global but reads ring cache " << reads
                           << ", which keeps only the last "
                           << cache.getCapacity() << " positions";
    if (*getWindow() > cache.getCapacity())
      return emitOpError() << "has window " << *getWindow()
                           << ", larger than the " << cache.getCapacity()
                           << " positions ring cache " << reads << " keeps";
  }

  SmallVector<AttentionOp> before, after;
  findWriters(*this, reads.getAttr(), before, after);
  if (getWritesAttr()) {
    if (!before.empty()) {
      InFlightDiagnostic diag = emitOpError()
                                << "writes cache " << reads
                                << ", which an earlier attention already "
                                   "writes; give each writer its own cache";
      diag.attachNote(before.front().getLoc()) << "first written here";
      return diag;
    }
    return success();
  }
  if (!before.empty())
    return success();
  InFlightDiagnostic diag = emitOpError() << "reads cache " << reads;
  if (after.empty())
    return diag << ", which no attention writes";
  diag << " before it is written: its writer comes later in the layer order";
  diag.attachNote(after.front().getLoc()) << "written here";
  return diag;
}
