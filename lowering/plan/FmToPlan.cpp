//===- FmToPlan.cpp - fm model function to dispatch programs --------------===//
//
// One fm op becomes one kernel instance; one activation value becomes one
// plan.buffer. The same function yields both programs: they differ in
// max_tokens (and so in buffer sizes and placement). A parallel-tracks block
// becomes its tracks' kernels and one track_combine (TrackBatching.h: tracks
// with identical layers share grouped kernels). Ops the plan has no kernel
// family for are rejected with the op's location, so a model never
// half-compiles.
//
//===----------------------------------------------------------------------===//

#include "lowering/plan/Passes.h"
#include "lowering/plan/TrackBatching.h"

#include "dialects/fm/IR/FmOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/ADT/TypeSwitch.h"

#include <limits>

namespace mlir::plan {
#define GEN_PASS_DEF_FMTOPLAN
#include "lowering/plan/Passes.h.inc"
} // namespace mlir::plan

using namespace mlir;
using namespace mlir::plan;

namespace {

std::optional<Value> crossingActivation(Operation *cut);

/// Builds one program from the model function.
class ProgramBuilder {
public:
  /// `lastRowCut`, when set, is the op before which only the last row is
  /// kept (plan.last_row).
  ProgramBuilder(ProgramOp program, bool batchTracks = false,
                 Operation *lastRowCut = nullptr)
      : program(program),
        builder(OpBuilder::atBlockEnd(&program.getBody().front())),
        lastRowCut(lastRowCut), batchTracks(batchTracks) {}

  LogicalResult build(func::FuncOp func);

private:
  /// The buffer that holds `value`, created on first use.
  Value bufferFor(Value value, StringRef name);
  FailureOr<Value> lookup(Operation *user, Value value);
  LogicalResult lowerOp(Operation *op);
  /// A parallel-tracks block: each track's ops in turn (its own buffers and
  /// caches), then one plan.track_combine of their outputs.
  LogicalResult lowerTracks(fm::ParallelTracksOp block);
  /// The same for tracks with identical layers: layer by layer across
  /// tracks, each layer's projections one grouped kernel.
  LogicalResult lowerTracksBatched(fm::ParallelTracksOp block);
  /// One plan.all_reduce for op `i` (an fm.all_reduce) of every track.
  LogicalResult lowerAllReduceBatched(ArrayRef<SmallVector<Operation *>> ops,
                                      size_t i);
  /// The block's end: each track's yielded buffer into one
  /// plan.track_combine (both lowerings share it).
  LogicalResult combineTracks(fm::ParallelTracksOp block);
  LogicalResult keepLastRow(Operation *cut, Value positionsArg);
  /// Whether `attention`'s writer appends the run before attending: always
  /// for a linear cache; for a ring cache only in one-token runs (a longer
  /// run's keys would overwrite slots its earlier queries still see).
  bool appendsFirst(fm::AttentionOp attention);

  ProgramOp program;
  // Appends to the program: each plan.buffer lands just before the kernel
  // that first writes it, which keeps printed plans readable.
  OpBuilder builder;
  Operation *lastRowCut;
  llvm::DenseMap<Value, Value> bufferOf;
  bool batchTracks;
};

/// The rows type of an activation value: f32 rows of its feature width (the
/// kernels compute in f32 whatever the model's activation type); i32 rows
/// for token ids, positions and expert indices.
FailureOr<RowsType> rowsTypeFor(Operation *where, Value value) {
  auto tensor = dyn_cast<RankedTensorType>(value.getType());
  if (!tensor)
    return where->emitOpError()
           << "has a non-tensor value of type " << value.getType();
  MLIRContext *ctx = value.getContext();
  Type element = tensor.getElementType();
  if (tensor.getRank() == 1 && element.isInteger(32))
    return RowsType::get(ctx, 1, element);
  if (tensor.getRank() != 2 || ShapedType::isDynamic(tensor.getDimSize(1)))
    return where->emitOpError()
           << "has a value of type " << tensor
           << "; the plan needs [tokens, features] with static features";
  Type rowElement = element.isInteger(32) ? element : Float32Type::get(ctx);
  return RowsType::get(ctx, tensor.getDimSize(1), rowElement);
}

Value ProgramBuilder::bufferFor(Value value, StringRef name) {
  auto it = bufferOf.find(value);
  if (it != bufferOf.end())
    return it->second;
  Operation *owner =
      value.getDefiningOp() ? value.getDefiningOp() : program.getOperation();
  FailureOr<RowsType> type = rowsTypeFor(owner, value);
  if (failed(type))
    return {};
  auto buffer = BufferOp::create(builder, value.getLoc(), *type,
                                 builder.getI64IntegerAttr(0),
                                 builder.getStringAttr(name));
  bufferOf[value] = buffer.getResult();
  return buffer.getResult();
}

FailureOr<Value> ProgramBuilder::lookup(Operation *user, Value value) {
  auto it = bufferOf.find(value);
  if (it == bufferOf.end())
    return user->emitOpError() << "uses a value the plan has no buffer for";
  return it->second;
}

LogicalResult ProgramBuilder::build(func::FuncOp func) {
  Block &entry = func.getBody().front();
  if (!bufferFor(entry.getArgument(0), "tokens") ||
      !bufferFor(entry.getArgument(1), "positions"))
    return failure();
  Value tokens = bufferOf.lookup(entry.getArgument(0));
  Value positions = bufferOf.lookup(entry.getArgument(1));
  // The runtime bounds the positions argument by the context; the caches
  // are sized for it. Positions from anywhere else could index past them.
  WalkResult positionsChecked = func.walk([&](Operation *op) {
    Value read;
    if (auto attention = dyn_cast<fm::AttentionOp>(op))
      read = attention.getPositions();
    else if (auto rope = dyn_cast<fm::RopeOp>(op))
      read = rope.getPositions();
    if (!read || read == entry.getArgument(1))
      return WalkResult::advance();
    op->emitOpError() << "reads its positions from a value other than "
                         "the program's positions argument (argument 1 of @"
                      << func.getName() << ")";
    return WalkResult::interrupt();
  });
  if (positionsChecked.wasInterrupted())
    return failure();
  for (Operation &op : entry.without_terminator()) {
    if (&op == lastRowCut && failed(keepLastRow(&op, entry.getArgument(1))))
      return failure();
    if (failed(lowerOp(&op)))
      return failure();
  }
  auto ret = dyn_cast<func::ReturnOp>(entry.getTerminator());
  if (!ret || ret.getNumOperands() != 1)
    return func.emitOpError() << "must return exactly the logits";
  FailureOr<Value> logits = lookup(ret, ret.getOperand(0));
  if (failed(logits))
    return failure();
  IoOp::create(builder, ret.getLoc(), tokens, positions, *logits);
  return success();
}

/// Emits plan.last_row before `cut` and maps the one activation that crosses
/// it (and the positions) to their one-row copies, so the ops from `cut` on
/// read those.
LogicalResult ProgramBuilder::keepLastRow(Operation *cut, Value positionsArg) {
  std::optional<Value> crossing = crossingActivation(cut);
  if (!crossing)
    return cut->emitOpError() << "cannot keep the last row here: more than the "
                                 "residual stream is live";
  FailureOr<Value> input = lookup(cut, *crossing);
  if (failed(input))
    return failure();
  Value positions = bufferOf.lookup(positionsArg);
  Location loc = cut->getLoc();
  auto row = BufferOp::create(builder, loc, input->getType(),
                              builder.getI64IntegerAttr(0),
                              builder.getStringAttr("last_row"));
  auto position = BufferOp::create(builder, loc, positions.getType(),
                                   builder.getI64IntegerAttr(0),
                                   builder.getStringAttr("last_position"));
  LastRowOp::create(builder, loc, *input, positions, row, position);
  bufferOf[*crossing] = row;
  bufferOf[positionsArg] = position;
  return success();
}

bool ProgramBuilder::appendsFirst(fm::AttentionOp attention) {
  auto cache = SymbolTable::lookupNearestSymbolFrom<fm::KVCacheOp>(
      attention, attention.getWritesAttr().getAttr());
  return cache && (cache.getKind() == fm::CacheKind::linear ||
                   program.getMaxTokens() == 1);
}

LogicalResult
ProgramBuilder::lowerTracksBatched(fm::ParallelTracksOp block) {
  FailureOr<Value> input = lookup(block, block.getInput());
  if (failed(input))
    return failure();
  SmallVector<SmallVector<Operation *>> ops;
  for (Region &track : block.getTracks()) {
    Block &body = track.front();
    bufferOf[body.getArgument(0)] = *input;
    ops.emplace_back();
    for (Operation &op : body.without_terminator())
      ops.back().push_back(&op);
  }
  for (size_t i = 0; i < ops.front().size(); ++i) {
    if (isa<fm::AllReduceOp>(ops.front()[i])) {
      // The tracks' all-reduces (a tensor-parallel split) as one exchange.
      if (failed(lowerAllReduceBatched(ops, i)))
        return failure();
      continue;
    }
    SmallVector<fm::LinearOp> linears;
    for (auto &track : ops)
      if (auto linear = dyn_cast<fm::LinearOp>(track[i]))
        linears.push_back(linear);
    fm::ParamOp stack = linears.size() == ops.size()
                            ? stackTrackWeights(linears)
                            : fm::ParamOp();
    if (!stack) {
      for (auto &track : ops)
        if (failed(lowerOp(track[i])))
          return failure();
      continue;
    }
    SmallVector<Value> inputs, outputs;
    for (fm::LinearOp linear : linears) {
      FailureOr<Value> in = lookup(linear, linear.getInput());
      if (failed(in))
        return failure();
      inputs.push_back(*in);
      outputs.push_back(bufferFor(linear.getResult(), "grouped_linear"));
      if (!outputs.back())
        return failure();
    }
    GroupedLinearOp::create(builder, linears.front().getLoc(), inputs, outputs,
                            FlatSymbolRefAttr::get(stack.getSymNameAttr()));
  }
  return combineTracks(block);
}

LogicalResult
ProgramBuilder::lowerAllReduceBatched(ArrayRef<SmallVector<Operation *>> ops,
                                      size_t i) {
  SmallVector<Value> inputs, outputs;
  for (auto &track : ops) {
    auto reduce = cast<fm::AllReduceOp>(track[i]);
    FailureOr<Value> in = lookup(reduce, reduce.getInput());
    if (failed(in))
      return failure();
    inputs.push_back(*in);
    outputs.push_back(bufferFor(reduce.getResult(), "all_reduce"));
    if (!outputs.back())
      return failure();
  }
  auto first = cast<fm::AllReduceOp>(ops.front()[i]);
  AllReduceOp::create(builder, first.getLoc(), inputs, outputs,
                      first.getRanksAttr(), builder.getF32FloatAttr(1.0f));
  return success();
}

LogicalResult ProgramBuilder::combineTracks(fm::ParallelTracksOp block) {
  SmallVector<Value> outputs;
  for (Region &track : block.getTracks()) {
    auto yield = cast<fm::YieldOp>(track.front().getTerminator());
    FailureOr<Value> output = lookup(yield, yield.getValues().front());
    if (failed(output))
      return failure();
    outputs.push_back(*output);
  }
  Value result = bufferFor(block.getResult(), "tracks");
  if (!result)
    return failure();
  if (block.getRankCount() == 1) {
    TrackCombineOp::create(builder, block.getLoc(), block.getCombineAttr(),
                           outputs, result);
    return success();
  }
  // Split over ranks: this rank's tracks summed (one track needs no
  // kernel), then summed across ranks and scaled once.
  Value partial = outputs.front();
  if (outputs.size() > 1) {
    partial = BufferOp::create(builder, block.getLoc(), result.getType(),
                               builder.getI64IntegerAttr(0),
                               builder.getStringAttr("tracks_partial"));
    TrackCombineOp::create(
        builder, block.getLoc(),
        fm::TrackCombineAttr::get(builder.getContext(), fm::TrackCombine::sum),
        outputs, partial);
  }
  float scale = block.getCombine() == fm::TrackCombine::mean
                    ? 1.0f / static_cast<float>(block.getTotalTracks())
                    : 1.0f;
  AllReduceOp::create(builder, block.getLoc(), ValueRange{partial},
                      ValueRange{result},
                      builder.getI64IntegerAttr(block.getRankCount()),
                      builder.getF32FloatAttr(scale));
  return success();
}

LogicalResult ProgramBuilder::lowerTracks(fm::ParallelTracksOp block) {
  if (batchTracks && block.getTracks().size() > 1 && tracksAreIdentical(block))
    return lowerTracksBatched(block);
  FailureOr<Value> input = lookup(block, block.getInput());
  if (failed(input))
    return failure();
  for (Region &track : block.getTracks()) {
    Block &body = track.front();
    bufferOf[body.getArgument(0)] = *input;
    for (Operation &op : body.without_terminator())
      if (failed(lowerOp(&op)))
        return failure();
  }
  return combineTracks(block);
}

LogicalResult ProgramBuilder::lowerOp(Operation *op) {
  if (auto block = dyn_cast<fm::ParallelTracksOp>(op))
    return lowerTracks(block);
  Location loc = op->getLoc();
  // Operand buffers, in operand order.
  SmallVector<Value> in;
  for (Value operand : op->getOperands()) {
    FailureOr<Value> buffer = lookup(op, operand);
    if (failed(buffer))
      return failure();
    in.push_back(*buffer);
  }
  auto out = [&](unsigned i = 0) -> Value {
    return bufferFor(op->getResult(i), op->getName().stripDialect());
  };
  for (unsigned i = 0; i < op->getNumResults(); ++i)
    if (!out(i))
      return failure();

  auto f64 = [&](double v) { return builder.getF64FloatAttr(v); };
  return llvm::TypeSwitch<Operation *, LogicalResult>(op)
      .Case([&](fm::EmbeddingOp e) {
        EmbeddingOp::create(builder, loc, e.getTableAttr(), in[0], out(),
                            e.getScaleAttr());
        return success();
      })
      .Case([&](fm::RMSNormOp n) {
        RMSNormOp::create(builder, loc, in[0], n.getWeightAttr(), out(),
                          n.getEpsAttr(),
                          builder.getI64IntegerAttr(n.getNormalizedSize()),
                          n.getWeightOffsetAttr());
        return success();
      })
      .Case([&](fm::LayerNormOp n) {
        LayerNormOp::create(builder, loc, in[0], n.getWeightAttr(),
                            n.getBiasAttr(), out(), n.getEpsAttr());
        return success();
      })
      .Case([&](fm::LinearOp l) -> LogicalResult {
        if (l.getLoraAAttr())
          return l.emitOpError() << "has a LoRA pair; run fm-expand-lora "
                                    "before fm-to-plan";
        LinearOp::create(builder, loc, in[0], l.getWeightAttr(),
                         l.getBiasAttr(), out());
        return success();
      })
      .Case([&](fm::RopeOp r) {
        int64_t rotary = static_cast<int64_t>(
            r.getRotaryFraction().convertToDouble() * r.getHeadDim() + 0.5);
        RopeOp::create(builder, loc, r.getLayoutAttr(), in[0], in[1], out(),
                       r.getHeadDimAttr(), builder.getI64IntegerAttr(rotary),
                       r.getThetaAttr(), r.getFrequenciesAttr(),
                       r.getAttentionFactorAttr());
        return success();
      })
      .Case([&](fm::AttentionOp a) {
        // Operands: q, [k, v,] positions.
        Value k = a.getK() ? in[1] : Value(), v = a.getK() ? in[2] : Value();
        FlatSymbolRefAttr writes = a.getWritesAttr();
        // Appending first is what a linear cache's writer does, and a ring
        // cache's too when a run is one token: the append becomes its own
        // kernel and the attention a reader.
        if (writes && appendsFirst(a)) {
          KVAppendOp::create(builder, loc, k, v, in.back(), writes);
          k = v = Value();
          writes = nullptr;
        }
        AttentionOp::create(
            builder, loc, a.getKindAttr(), in[0], k, v, in.back(), out(),
            a.getReadsAttr(), writes, a.getNumHeadsAttr(),
            a.getNumKvHeadsAttr(), a.getHeadDimAttr(), a.getWindowAttr(),
            f64(a.getEffectiveScale()), a.getSoftcapAttr(), a.getCausalAttr());
        return success();
      })
      .Case([&](fm::ActivationOp a) {
        ActivationOp::create(builder, loc, a.getKindAttr(), in[0], out());
        return success();
      })
      .Case([&](fm::GluOp g) {
        GluOp::create(builder, loc, g.getKindAttr(), in[0], in[1], out());
        return success();
      })
      .Case([&](fm::AddOp) {
        AddOp::create(builder, loc, in[0], in[1], out());
        return success();
      })
      .Case([&](fm::MulOp) {
        MulOp::create(builder, loc, in[0], in[1], out());
        return success();
      })
      .Case([&](fm::MoeRouteOp r) {
        MoeRouteOp::create(builder, loc, r.getScoringAttr(), in[0], out(0),
                           out(1), r.getTopKAttr(), r.getNormTopkProbAttr());
        return success();
      })
      .Case([&](fm::MoeCombineOp) {
        MoeCombineOp::create(builder, loc, in[0], in[1],
                             ArrayRef<Value>(in).drop_front(2), out());
        return success();
      })
      .Case([&](fm::MoeOp m) {
        MoeOp::create(builder, loc, m.getScoringAttr(), in[0], out(),
                      m.getRouterAttr(), m.getGateUpAttr(), m.getDownAttr(),
                      m.getTopKAttr(), m.getActivationAttr(),
                      m.getNormTopkProbAttr(), m.getSharedGateUpAttr(),
                      m.getSharedDownAttr(), m.getSharedGateAttr());
        return success();
      })
      .Case([&](fm::AllReduceOp r) {
        AllReduceOp::create(builder, loc, ValueRange{in[0]},
                            ValueRange{out()}, r.getRanksAttr(),
                            builder.getF32FloatAttr(1.0f));
        return success();
      })
      .Case([&](fm::LogitsOp l) {
        LogitsOp::create(builder, loc, in[0], l.getWeightAttr(), out(),
                         l.getScaleAttr(), l.getSoftcapAttr());
        return success();
      })
      .Default([&](Operation *other) {
        return other->emitOpError()
               << "has no kernel family in the plan yet; lower it or leave "
                  "it out of the model";
      });
}

/// The one value defined before `cut` (an op result, not a function
/// argument) that `cut` or a later op uses, if exactly one is.
std::optional<Value> crossingActivation(Operation *cut) {
  llvm::SmallPtrSet<Operation *, 32> before;
  for (Operation *op = &cut->getBlock()->front(); op != cut;
       op = op->getNextNode())
    before.insert(op);
  std::optional<Value> crossing;
  for (Operation *op = cut; op; op = op->getNextNode())
    for (Value operand : op->getOperands()) {
      Operation *def = operand.getDefiningOp();
      if (!def || !before.contains(def) || crossing == operand)
        continue;
      if (crossing)
        return std::nullopt;
      crossing = operand;
    }
  return crossing;
}

/// Where @prefill can keep only the last position: the first op after the
/// last cache-writing attention before which only the residual stream (and
/// the positions) is live, provided an attention that only reads a cache
/// comes after it. Nothing after it writes a cache, so later prompt
/// positions need none of its rows but the last. Null when there is no such
/// point (a model without KV sharing).
Operation *findLastRowCut(func::FuncOp func) {
  Block &entry = func.getBody().front();
  Operation *lastWriter = nullptr;
  for (Operation &op : entry.without_terminator())
    if (auto attention = dyn_cast<fm::AttentionOp>(op))
      if (attention.getWritesAttr())
        lastWriter = &op;
  if (!lastWriter)
    return nullptr;
  for (Operation *op = lastWriter->getNextNode();
       op && !op->hasTrait<OpTrait::IsTerminator>(); op = op->getNextNode()) {
    if (isa<fm::AttentionOp>(op))
      return nullptr; // A reader comes before any single-value point.
    std::optional<Value> crossing = crossingActivation(op);
    if (!crossing)
      continue;
    auto type = dyn_cast<RankedTensorType>(crossing->getType());
    if (!type || type.getRank() != 2 || !isa<FloatType>(type.getElementType()))
      continue;
    // Worth it only when a layer that reads a cache follows.
    for (Operation *later = op; later; later = later->getNextNode())
      if (isa<fm::AttentionOp>(later))
        return op;
    return nullptr;
  }
  return nullptr;
}

struct FmToPlanPass : public plan::impl::FmToPlanBase<FmToPlanPass> {
  using FmToPlanBase::FmToPlanBase;
  FmToPlanPass(plan::FmToPlanOptions options, fm::OptionNames names)
      : FmToPlanBase(std::move(options)), names(std::move(names)) {}
  void runOnOperation() override;

  fm::OptionNames names;
};

} // namespace

/// The model function: the module's only func.func.
static FailureOr<func::FuncOp> findModel(ModuleOp module) {
  auto funcs = llvm::to_vector(module.getOps<func::FuncOp>());
  if (funcs.size() != 1)
    return module.emitError()
           << "fm-to-plan expects one model function, found " << funcs.size();
  func::FuncOp func = funcs.front();
  FunctionType type = func.getFunctionType();
  auto isIds = [](Type t) {
    auto tensor = dyn_cast<RankedTensorType>(t);
    return tensor && tensor.getRank() == 1 &&
           tensor.getElementType().isInteger(32);
  };
  if (type.getNumInputs() != 2 || !isIds(type.getInput(0)) ||
      !isIds(type.getInput(1)) || type.getNumResults() != 1)
    return func.emitOpError()
           << "must take (tokens: tensor<?xi32>, positions: tensor<?xi32>) "
              "and return the logits, got "
           << type;
  if (!func.getBody().hasOneBlock())
    return func.emitOpError() << "must be a single block";
  return func;
}

void FmToPlanPass::runOnOperation() {
  ModuleOp module = getOperation();
  FailureOr<func::FuncOp> func = findModel(module);
  if (failed(func))
    return signalPassFailure();

  // The context a generation may reach: linear caches bound it.
  Builder builder(module.getContext());
  if (this->context < 0 ||
      this->context >= std::numeric_limits<int32_t>::max()) {
    module.emitError() << names("context") << " must be in [1, 2^31 - 1), got "
                       << static_cast<int64_t>(this->context);
    return signalPassFailure();
  }
  int64_t context = std::numeric_limits<int32_t>::max();
  for (fm::KVCacheOp cache : module.getOps<fm::KVCacheOp>()) {
    if (cache.getKind() != fm::CacheKind::linear)
      continue;
    if (this->context > 0)
      cache.setCapacityAttr(builder.getI64IntegerAttr(this->context));
    context = std::min(context, static_cast<int64_t>(cache.getCapacity()));
  }
  if (prefillTokens <= 0) {
    module.emitError() << names("prefill-tokens") << " must be positive, got "
                       << static_cast<int64_t>(prefillTokens);
    return signalPassFailure();
  }
  int64_t prefill = std::min<int64_t>(prefillTokens, context);

  // A ring cache holds exactly its window: its writer attends to the run's
  // own keys from its k/v buffers before appending them. A layer that only
  // reads the cache sees it after the writer appended a whole chunk, so a
  // ring cache with readers holds a window behind the chunk's first query
  // plus the chunk.
  SymbolTable symbols(module);
  func->walk([&](fm::AttentionOp attention) {
    auto cache = symbols.lookup<fm::KVCacheOp>(attention.getReads());
    if (!cache || cache.getKind() != fm::CacheKind::ring ||
        !attention.getWindow() || attention.getWritesAttr())
      return;
    int64_t needed = static_cast<int64_t>(*attention.getWindow()) + prefill - 1;
    if (static_cast<int64_t>(cache.getCapacity()) < needed)
      cache.setCapacityAttr(builder.getI64IntegerAttr(needed));
  });

  OpBuilder atEnd = OpBuilder::atBlockEnd(module.getBody());
  for (auto [name, maxTokens] :
       {std::pair<StringRef, int64_t>{"prefill", prefill}, {"decode", 1}}) {
    auto program = ProgramOp::create(atEnd, func->getLoc(), name, maxTokens,
                                     /*arena_bytes=*/0);
    program.getBody().emplaceBlock();
    Operation *cut = name == "prefill" && prefillLastPosition
                         ? findLastRowCut(*func)
                         : nullptr;
    if (failed(ProgramBuilder(program, batchTracks, cut).build(*func)) ||
        failed(assignBuffers(program)))
      return signalPassFailure();
  }
  func->erase();
}

std::unique_ptr<Pass> mlir::plan::createFmToPlan(FmToPlanOptions options,
                                                 fm::OptionNames names) {
  return std::make_unique<FmToPlanPass>(std::move(options), std::move(names));
}
