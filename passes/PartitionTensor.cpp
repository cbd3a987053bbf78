//===- PartitionTensor.cpp - one rank's Megatron-style tensor-parallel share ===//
//
// Megatron-LM's split of a transformer layer: the projections that fan out
// (q, k, v; gate and up) are column-parallel, each rank computing its share
// of the heads or hidden units; the projections that fan in (attention's
// output, the feed-forward down projection) are row-parallel, each rank
// reading only its share of their input and producing a partial sum, which
// an fm.all_reduce completes. Everything between stays on the rank: RoPE,
// per-head norms and attention work head by head, gated activations unit
// by unit, and each rank's KV cache holds its own KV heads. Two all-reduces
// a layer, where track parallelism (fm-partition-tracks) needs one a block.
//
// Weights are sliced where they lie: a column-parallel share is a block of
// rows (a plain offset into the file), a row-parallel share a block of
// columns (`row_stride` in #fm.external), so no weight is copied before the
// artifact writer reads it.
//
//===----------------------------------------------------------------------===//

#include "passes/ModelStructure.h"
#include "passes/Passes.h"
#include "passes/RankOptions.h"

#include "dialects/fm/IR/FmOps.h"
#include "dialects/fm/IR/TrackPartition.h"

#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/SetVector.h"

namespace mlir::fm {
#define GEN_PASS_DEF_PARTITIONTENSOR
#include "passes/Passes.h.inc"
} // namespace mlir::fm

using namespace mlir;
using namespace mlir::fm;

namespace {

/// Which way a projection's weight is split.
enum class Split {
  /// Rows (output features): each rank computes a block of the outputs.
  Columns,
  /// Columns (input features): each rank reads a block of the input and
  /// yields a partial sum of every output.
  Rows,
};

struct PartitionTensorPass
    : public fm::impl::PartitionTensorBase<PartitionTensorPass> {
  using PartitionTensorBase::PartitionTensorBase;
  PartitionTensorPass(PartitionTensorOptions options, OptionNames names)
      : PartitionTensorBase(std::move(options)), names(std::move(names)) {}

  void runOnOperation() override;

private:
  LogicalResult collectAttention(AttentionOp attention);
  LogicalResult collectFeedForward(Operation *activation);
  /// The projection that produces `value` through per-head ops (RoPE, a
  /// per-head norm), to be split by columns; fails naming `what`.
  LogicalResult addFanOut(Operation *user, Value value, StringRef what,
                          int64_t headDim);
  /// The one projection that reads `value`, to be split by rows.
  LogicalResult addFanIn(Operation *user, Value value, StringRef what);
  /// This rank's share of `param` split `split`-wise, created once.
  FailureOr<FlatSymbolRefAttr> sliceParam(Operation *user,
                                          FlatSymbolRefAttr ref, Split split);
  LogicalResult splitLinear(LinearOp linear, Split split);
  void insertAllReduce(LinearOp fanIn);
  /// Result types recomputed from the sliced weights, in program order.
  void retypeResults(ModuleOp module);

  int64_t ranks = 1, rank = 0;
  llvm::SetVector<Operation *> fanOut, fanIn;
  llvm::SetVector<Operation *> attentions;
  llvm::SetVector<Operation *> caches;
  llvm::DenseMap<std::pair<Attribute, int>, FlatSymbolRefAttr> slices;
  llvm::DenseSet<Operation *> reduced;
  OptionNames names;
};

void PartitionTensorPass::runOnOperation() {
  ModuleOp module = getOperation();
  ranks = this->ranksOption;
  rank = this->rankOption;
  if (failed(checkRankOptions(module, ranks, rank, names)))
    return signalPassFailure();
  if (ranks == 1)
    return;
  WalkResult walk = module.walk([&](Operation *op) {
    if (auto moe = dyn_cast<MoeOp>(op)) {
      moe.emitOpError() << "is a fused MoE block, which " << names("ranks")
                        << " does not split: partition the model before "
                           "fm-fuse-moe";
      return WalkResult::interrupt();
    }
    if (auto linear = dyn_cast<LinearOp>(op); linear && linear.getLoraAAttr()) {
      linear.emitOpError() << "has a LoRA pair, which " << names("ranks")
                           << " does not split";
      return WalkResult::interrupt();
    }
    if (auto attention = dyn_cast<AttentionOp>(op))
      return failed(collectAttention(attention)) ? WalkResult::interrupt()
                                                 : WalkResult::advance();
    if (isa<GluOp, ActivationOp>(op))
      return failed(collectFeedForward(op)) ? WalkResult::interrupt()
                                            : WalkResult::advance();
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return signalPassFailure();
  if (attentions.empty()) {
    module.emitError() << names("ranks")
                       << " splits attention heads, and this model has no "
                          "fm.attention";
    return signalPassFailure();
  }
  for (Operation *op : fanOut)
    if (failed(splitLinear(cast<LinearOp>(op), Split::Columns)))
      return signalPassFailure();
  for (Operation *op : fanIn)
    if (failed(splitLinear(cast<LinearOp>(op), Split::Rows)))
      return signalPassFailure();
  for (Operation *op : attentions) {
    auto attention = cast<AttentionOp>(op);
    Builder b(attention);
    attention.setNumHeadsAttr(
        b.getI64IntegerAttr(attention.getNumHeads() / ranks));
    attention.setNumKvHeadsAttr(
        b.getI64IntegerAttr(attention.getNumKvHeads() / ranks));
  }
  for (Operation *op : caches) {
    auto cache = cast<KVCacheOp>(op);
    cache.setNumKvHeadsAttr(
        Builder(cache).getI64IntegerAttr(cache.getNumKvHeads() / ranks));
  }
  retypeResults(module);
  for (Operation *op : fanIn)
    insertAllReduce(cast<LinearOp>(op));
  DroppedDeclarations dropped = dropUnusedDeclarations(module, false);
  numParamBytesDropped += dropped.paramBytes;
  module->setAttr(kTensorPartitionAttr,
                  DenseI64ArrayAttr::get(module.getContext(), {rank, ranks}));
}

LogicalResult PartitionTensorPass::collectAttention(AttentionOp attention) {
  int64_t heads = attention.getNumHeads(), kvHeads = attention.getNumKvHeads();
  if (heads % ranks != 0 || kvHeads % ranks != 0)
    return attention.emitOpError()
           << "has " << heads << " heads and " << kvHeads << " KV heads, which "
           << names("ranks") << " = " << ranks
           << " does not divide: each rank needs whole heads";
  int64_t headDim = attention.getHeadDim();
  if (failed(addFanOut(attention, attention.getQ(), "query", headDim)))
    return failure();
  if (attention.getK() &&
      (failed(addFanOut(attention, attention.getK(), "key", headDim)) ||
       failed(addFanOut(attention, attention.getV(), "value", headDim))))
    return failure();
  if (failed(addFanIn(attention, attention.getResult(), "attention output")))
    return failure();
  attentions.insert(attention);
  for (FlatSymbolRefAttr ref :
       {attention.getReadsAttr(), attention.getWritesAttr()}) {
    if (!ref)
      continue;
    auto cache =
        SymbolTable::lookupNearestSymbolFrom<KVCacheOp>(attention, ref);
    if (!cache)
      return attention.emitOpError() << "names no KV cache " << ref;
    if (static_cast<int64_t>(cache.getNumKvHeads()) != kvHeads)
      return attention.emitOpError()
             << "has " << kvHeads << " KV heads, its cache " << ref << " "
             << cache.getNumKvHeads();
    caches.insert(cache);
  }
  return success();
}

LogicalResult PartitionTensorPass::collectFeedForward(Operation *activation) {
  // A feed-forward network: projections into the activation, one out. An
  // activation elsewhere (none of the models fmc imports has one) stays
  // whole on every rank.
  Value result = activation->getResult(0);
  bool fromProjections = llvm::all_of(activation->getOperands(), [](Value v) {
    return isa_and_nonnull<LinearOp>(v.getDefiningOp());
  });
  if (!fromProjections || !result.hasOneUse() ||
      !isa<LinearOp>(*result.getUsers().begin()))
    return success();
  int64_t width = cast<RankedTensorType>(result.getType()).getShape().back();
  if (width % ranks != 0)
    return activation->emitOpError()
           << "has " << width << " hidden units, which " << names("ranks")
           << " = " << ranks << " does not divide";
  for (Value operand : activation->getOperands())
    if (failed(addFanOut(activation, operand, "feed-forward input",
                         /*headDim=*/0)))
      return failure();
  return addFanIn(activation, result, "feed-forward output");
}

LogicalResult PartitionTensorPass::addFanOut(Operation *user, Value value,
                                             StringRef what, int64_t headDim) {
  Value at = value;
  while (Operation *def = at.getDefiningOp()) {
    if (auto linear = dyn_cast<LinearOp>(def)) {
      if (!linear.getResult().hasOneUse())
        return linear.emitOpError()
               << "feeds the " << what << " of " << user->getName()
               << " and other ops; " << names("ranks")
               << " splits a projection that has one reader";
      fanOut.insert(linear);
      return success();
    }
    auto norm = dyn_cast<RMSNormOp>(def);
    bool perHead = isa<RopeOp>(def) ||
                   (norm && headDim && norm.getNormalizedSize() == headDim);
    if (!perHead || !at.hasOneUse())
      break;
    at = def->getOperand(0);
  }
  return user->emitOpError()
         << "reads a " << what << " that is not a projection (through RoPE "
         << "or a per-head norm), which " << names("ranks") << " cannot split";
}

LogicalResult PartitionTensorPass::addFanIn(Operation *user, Value value,
                                            StringRef what) {
  if (value.hasOneUse())
    if (auto linear = dyn_cast<LinearOp>(*value.getUsers().begin())) {
      fanIn.insert(linear);
      return success();
    }
  return user->emitOpError() << "gives its " << what
                             << " to other ops than one projection, which "
                             << names("ranks") << " cannot split";
}

LogicalResult PartitionTensorPass::splitLinear(LinearOp linear, Split split) {
  FailureOr<FlatSymbolRefAttr> weight =
      sliceParam(linear, linear.getWeightAttr(), split);
  if (failed(weight))
    return failure();
  linear.setWeightAttr(*weight);
  if (FlatSymbolRefAttr bias = linear.getBiasAttr()) {
    if (split == Split::Columns) {
      FailureOr<FlatSymbolRefAttr> share = sliceParam(linear, bias, split);
      if (failed(share))
        return failure();
      linear.setBiasAttr(*share);
    } else if (rank != 0) {
      // Added once to the sum: rank 0's partial carries it.
      linear.removeBiasAttr();
    }
  }
  return success();
}

FailureOr<FlatSymbolRefAttr>
PartitionTensorPass::sliceParam(Operation *user, FlatSymbolRefAttr ref,
                                Split split) {
  auto key = std::make_pair(Attribute(ref), static_cast<int>(split));
  if (FlatSymbolRefAttr done = slices.lookup(key))
    return done;
  auto param = SymbolTable::lookupNearestSymbolFrom<ParamOp>(user, ref);
  if (!param)
    return user->emitOpError() << "names no parameter " << ref;
  ExternalAttr source = param.getSourceAttr();
  auto refuse = [&](StringRef why) {
    return user->emitOpError() << "reads " << ref << ", which "
                               << names("ranks") << " cannot split: " << why;
  };
  if (!source || param.getDeltaAttr())
    return refuse("only a parameter read whole from a file is sliced");
  StorageType dtype = source.getDtype();
  if (dtype != StorageType::f32 && dtype != StorageType::f16 &&
      dtype != StorageType::bf16)
    return refuse(("it is stored as '" + stringifyStorageType(dtype) +
                   "'; tensor parallelism slices f32, f16 and bf16 weights")
                      .str());
  if (source.getRowStride())
    return refuse("it is already a slice");
  RankedTensorType type = param.getTensorType();
  SmallVector<int64_t> shape(type.getShape());
  uint64_t elementBytes = getElementBytes(dtype);
  uint64_t offset = source.getOffset(), stride = 0;
  if (split == Split::Columns) {
    if (shape[0] % ranks != 0)
      return refuse(("its " + Twine(shape[0]) + " rows do not divide by " +
                     Twine(ranks))
                        .str());
    shape[0] /= ranks;
    offset += rank * static_cast<uint64_t>(type.getNumElements() / ranks) *
              elementBytes;
  } else {
    int64_t columns = shape.back();
    if (type.getRank() != 2 || columns % ranks != 0)
      return refuse("its columns do not divide by " + std::to_string(ranks));
    shape.back() = columns / ranks;
    if (QuantAttr quant = param.getQuant();
        quant && (quant.getGroupSize() == 0 ||
                  shape.back() % quant.getGroupSize() != 0))
      return refuse(("each rank's " + Twine(shape.back()) +
                     " columns must be whole quantization groups of " +
                     Twine(quant.getGroupSize()))
                        .str());
    offset += rank * shape.back() * elementBytes;
    stride = columns * elementBytes;
  }
  ModuleOp module = param->getParentOfType<ModuleOp>();
  std::string name = (param.getSymName() + ".rank" + Twine(rank)).str();
  for (int n = 1; SymbolTable::lookupSymbolIn(module, name); ++n)
    name = (param.getSymName() + ".rank" + Twine(rank) + "." + Twine(n)).str();
  OpBuilder builder(param);
  builder.setInsertionPointAfter(param);
  auto slice = ParamOp::create(
      builder, param.getLoc(), builder.getStringAttr(name),
      TypeAttr::get(RankedTensorType::get(shape, type.getElementType(),
                                          type.getEncoding())),
      ExternalAttr::get(param.getContext(), source.getFile(), offset, dtype,
                        stride),
      /*parts=*/nullptr, /*adapter_slot=*/nullptr, /*delta=*/nullptr,
      param.getSymVisibilityAttr());
  auto result = FlatSymbolRefAttr::get(slice.getSymNameAttr());
  slices[key] = result;
  return result;
}

void PartitionTensorPass::retypeResults(ModuleOp module) {
  auto withWidth = [](Type type, int64_t width) {
    auto tensor = cast<RankedTensorType>(type);
    SmallVector<int64_t> shape(tensor.getShape());
    shape.back() = width;
    return RankedTensorType::get(shape, tensor.getElementType());
  };
  // Pre-order: an op's operands are retyped before it is.
  module.walk<WalkOrder::PreOrder>([&](Operation *op) {
    if (auto linear = dyn_cast<LinearOp>(op)) {
      auto weight = SymbolTable::lookupNearestSymbolFrom<ParamOp>(
          linear, linear.getWeightAttr());
      if (weight)
        linear.getResult().setType(withWidth(
            linear.getResult().getType(), weight.getTensorType().getDimSize(0)));
    } else if (auto attention = dyn_cast<AttentionOp>(op)) {
      attention.getResult().setType(
          withWidth(attention.getResult().getType(),
                    attention.getNumHeads() * attention.getHeadDim()));
    } else if (isa<RopeOp, RMSNormOp, GluOp, ActivationOp>(op)) {
      op->getResult(0).setType(op->getOperand(0).getType());
    }
  });
}

void PartitionTensorPass::insertAllReduce(LinearOp fanIn) {
  // Experts' partial outputs are combined before the sum: the weighted sum
  // of partial sums is the partial sum of the weighted sum, and one
  // all-reduce a layer is what Megatron-style MoE needs.
  Operation *partial = fanIn;
  Value result = fanIn.getResult();
  if (result.hasOneUse())
    if (auto combine = dyn_cast<MoeCombineOp>(*result.getUsers().begin()))
      partial = combine;
  if (!reduced.insert(partial).second)
    return;
  OpBuilder builder(partial->getContext());
  builder.setInsertionPointAfter(partial);
  Value value = partial->getResult(0);
  auto sum = AllReduceOp::create(builder, partial->getLoc(), value.getType(),
                                 value, builder.getI64IntegerAttr(ranks));
  value.replaceAllUsesExcept(sum.getResult(), sum);
  ++numAllReduces;
}

} // namespace

std::unique_ptr<Pass>
mlir::fm::createPartitionTensor(PartitionTensorOptions options,
                                OptionNames names) {
  return std::make_unique<PartitionTensorPass>(std::move(options),
                                               std::move(names));
}
