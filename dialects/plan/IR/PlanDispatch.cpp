//===- PlanDispatch.cpp - plan.dispatch and the regions it may hold -------===//
//
// A dispatch's GPU code computes only what leaves the dispatch: buffers its
// kernels pass to each other are never written there. So the verifier
// checks, besides the body's shape, that every buffer read after the
// dispatch is one its generator writes.
//
//===----------------------------------------------------------------------===//

#include "dialects/plan/IR/PlanDispatch.h"

#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallPtrSet.h"

#include <algorithm>

using namespace mlir;
using namespace mlir::plan;

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

fm::ParamOp mlir::plan::lookupParam(Operation *from, FlatSymbolRefAttr symbol) {
  if (!symbol)
    return {};
  return SymbolTable::lookupNearestSymbolFrom<fm::ParamOp>(from,
                                                           symbol.getAttr());
}

std::string mlir::plan::matrixUnitsUnfit(fm::ParamOp weight, int64_t k) {
  if (!weight)
    return "its weight is no parameter";
  fm::QuantAttr quant = weight.getQuant();
  if (!quant) {
    fm::StorageType dtype = weight.getStorageType();
    if (dtype != fm::StorageType::f16 && dtype != fm::StorageType::bf16)
      return "its weight is neither f16, bf16 nor 2- or 4-bit codes";
    if (k % kMatrixUnitsDenseTile != 0)
      return "K (" + std::to_string(k) + ") is not whole tiles of " +
             std::to_string(kMatrixUnitsDenseTile) + " features";
    return "";
  }
  if (quant.getBits() != 2 && quant.getBits() != 4)
    return "its weight is neither f16, bf16 nor 2- or 4-bit codes";
  if (k % 128 != 0)
    return "K (" + std::to_string(k) +
           ") is not whole blocks of 128 features";
  int64_t group = quant.getGroupSize() == 0 ? k : quant.getGroupSize();
  int64_t run = std::min<int64_t>(group, 128);
  if (run % 32 != 0 || (group % 128 != 0 && 128 % group != 0))
    return "its scale groups of " + std::to_string(group) +
           " features do not split into runs of 32 inside blocks of 128";
  return "";
}

int64_t mlir::plan::matrixUnitsWorkgroupBytes(int64_t rows, int64_t parts,
                                              int64_t tokens, unsigned bits,
                                              int64_t workgroupSize) {
  // Rows of 32 words of a K tile (128 int8 or 64 16-bit features), and 4
  // more against bank conflicts.
  constexpr int64_t kTileWords = 32 + 4;
  bool dense = bits == 16;
  int64_t words = tokens * kTileWords * (dense ? 2 : 1) // activations (hi, lo)
                  + rows * parts * kTileWords           // weights
                  + (dense ? 0 : tokens * 128 * bits / 32) // activation sums
                  + tokens                              // block maxima, scales
                  + rows * tokens * parts               // result tiles
                  + 2 * tokens + rows                   // statistics, scratch
                  + 2 * workgroupSize / 8;              // reduction partials
  return 4 * words;
}

int64_t mlir::plan::matrixUnitsTokensPerPass(int64_t rows, int64_t parts,
                                             unsigned bits,
                                             int64_t workgroupSize) {
  for (int64_t tokens : {32, 16})
    if (matrixUnitsWorkgroupBytes(rows, parts, tokens, bits, workgroupSize) <=
        kGuaranteedWorkgroupBytes)
      return tokens;
  return 0;
}

bool mlir::plan::sameWeightFormat(fm::ParamOp a, fm::ParamOp b) {
  if (!a || !b)
    return false;
  if (a.getQuant() || b.getQuant())
    return a.getQuant() == b.getQuant();
  return a.getStorageType() == b.getStorageType();
}

namespace {

/// The one kernel inside `dispatch` that reads `buffer` (besides kernels
/// that wrote it), or null when it has none, several, or a reader outside
/// the dispatch.
Operation *soleReaderInside(DispatchOp dispatch, Value buffer) {
  Operation *reader = nullptr;
  for (OpOperand &use : buffer.getUses()) {
    Operation *user = use.getOwner();
    auto kernel = dyn_cast<KernelOpInterface>(user);
    if (!kernel || llvm::is_contained(kernel.getWrittenBuffers(), buffer))
      continue;
    if (user->getParentOp() != dispatch.getOperation())
      return nullptr;
    if (reader && reader != user)
      return nullptr;
    reader = user;
  }
  return reader;
}

int64_t widthOf(Value buffer) {
  return cast<RowsType>(buffer.getType()).getWidth();
}

/// Emits (when asked) and fails.
struct Reporter {
  mutable DispatchOp dispatch;
  bool emit;
  LogicalResult fail(const Twine &message) const {
    if (emit)
      dispatch.emitOpError() << "is not a matvec region: " << message;
    return failure();
  }
};

} // namespace

int64_t MatvecSegment::headDim() const {
  // Op handles are cheap values whose accessors are not const.
  RMSNormOp norm = headNorm;
  RopeOp rotary = rope;
  KVAppendOp appendOp = append;
  if (norm)
    return norm.getGroupSize();
  if (rotary)
    return rotary.getHeadDim();
  if (appendOp) {
    auto cache = SymbolTable::lookupNearestSymbolFrom<fm::KVCacheOp>(
        appendOp, appendOp.getCacheAttr().getAttr());
    return cache ? static_cast<int64_t>(cache.getHeadDim()) : 0;
  }
  return 0;
}

bool MatvecRegion::needsHeads() const {
  return llvm::any_of(segments,
                      [](const MatvecSegment &s) { return s.needsHeads(); });
}

int64_t MatvecRegion::headDim() const {
  for (const MatvecSegment &s : segments)
    if (int64_t d = s.headDim())
      return d;
  return 0;
}

int64_t mlir::plan::defaultDecodeAttentionSplits(fm::KVCacheOp cache) {
  constexpr int64_t kMinSplitSlots = 32, kTargetWorkgroups = 512,
                    kMaxSplits = 64;
  auto ceilDiv = [](int64_t a, int64_t b) { return (a + b - 1) / b; };
  int64_t bySlots = ceilDiv(cache.getCapacity(), kMinSplitSlots);
  int64_t byWorkgroups = ceilDiv(
      kTargetWorkgroups,
      std::max<int64_t>(1, static_cast<int64_t>(cache.getNumKvHeads())));
  return std::clamp<int64_t>(std::min(bySlots, byWorkgroups), 1, kMaxSplits);
}

SmallVector<Value> mlir::plan::getLiveOutBuffers(DispatchOp dispatch) {
  SmallVector<Value> result;
  for (KernelOpInterface kernel : dispatch.getKernels())
    for (Value written : kernel.getWrittenBuffers())
      if (llvm::any_of(written.getUsers(), [&](Operation *user) {
            return user->getParentOp() != dispatch.getOperation() &&
                   !isa<BufferOp>(user);
          }))
        result.push_back(written);
  return result;
}

//===----------------------------------------------------------------------===//
// analyzeMatvec
//===----------------------------------------------------------------------===//

FailureOr<MatvecRegion> mlir::plan::analyzeMatvec(DispatchOp dispatch,
                                                  bool emitErrors) {
  Reporter report{dispatch, emitErrors};
  MatvecRegion region;
  auto kernels = llvm::to_vector(dispatch.getKernels());
  if (kernels.empty()) {
    (void)report.fail("it holds no kernel");
    return failure();
  }

  // A lone grouped linear: one launch per group.
  if (auto grouped = dyn_cast<GroupedLinearOp>(kernels.front().getOperation())) {
    if (kernels.size() != 1) {
      (void)report.fail("a plan.grouped_linear fuses with nothing");
      return failure();
    }
    region.grouped = grouped;
    region.input = grouped.getInputs().front();
    region.k = widthOf(region.input);
    return region;
  }

  // The products: every plan.linear / plan.logits; they share one input.
  SmallVector<Operation *> products;
  for (KernelOpInterface kernel : kernels)
    if (isa<LinearOp, LogitsOp>(kernel.getOperation()))
      products.push_back(kernel);
  if (products.empty()) {
    (void)report.fail("it holds no plan.linear or plan.logits");
    return failure();
  }
  Value x = products.front()->getOperand(0);
  for (Operation *p : products)
    if (p->getOperand(0) != x) {
      (void)report.fail("its products read different inputs");
      return failure();
    }
  region.input = x;
  region.k = widthOf(x);
  llvm::SmallPtrSet<Operation *, 16> claimed(products.begin(), products.end());

  // The prologue: the norm of whole rows that produced x, read only by the
  // products.
  if (Operation *def = [&]() -> Operation * {
        for (KernelOpInterface kernel : kernels)
          if (llvm::is_contained(kernel.getWrittenBuffers(), x))
            return kernel;
        return nullptr;
      }()) {
    auto rms = dyn_cast<RMSNormOp>(def);
    if (!(rms && rms.getGroupSize() == region.k) && !isa<LayerNormOp>(def)) {
      (void)report.fail("the products' input is computed by '" +
                        def->getName().getStringRef() +
                        "', which is no prologue (a norm of whole rows)");
      return failure();
    }
    if (def != kernels.front().getOperation()) {
      (void)report.fail("the prologue norm must come first");
      return failure();
    }
    for (Operation *user : x.getUsers())
      if (user != def && !isa<BufferOp>(user) && !claimed.contains(user)) {
        (void)report.fail("the prologue's output is read by a kernel that "
                          "is not one of the products");
        return failure();
      }
    region.prologue = def;
    region.input = def->getOperand(0);
    claimed.insert(def);
  }

  // Up projections of gate/up pairs belong to their gate's segment.
  llvm::SmallPtrSet<Operation *, 16> ups;
  auto productWriting = [&](Value buffer) -> LinearOp {
    for (Operation *q : products)
      if (auto l = dyn_cast<LinearOp>(q); l && l.getOutput() == buffer)
        return l;
    return {};
  };
  for (KernelOpInterface kernel : kernels)
    if (auto glu = dyn_cast<GluOp>(kernel.getOperation()))
      if (LinearOp up = productWriting(glu.getUp()))
        ups.insert(up);

  // Each product and the chain of epilogues that consumes its rows.
  for (Operation *p : products) {
    if (ups.contains(p))
      continue;
    MatvecSegment s;
    s.product = p;
    Value y;
    if (auto linear = dyn_cast<LinearOp>(p)) {
      s.weight = linear.getWeightAttr();
      s.bias = linear.getBiasAttr();
      y = linear.getOutput();
    } else {
      auto logits = cast<LogitsOp>(p);
      s.weight = logits.getWeightAttr();
      if (logits.getScale())
        s.scale = logits.getScale()->convertToDouble();
      if (logits.getSoftcap())
        s.softcap = logits.getSoftcap()->convertToDouble();
      y = logits.getOutput();
    }
    s.rows = widthOf(y);

    Operation *next = soleReaderInside(dispatch, y);
    // The GLU of a gate and up pair: the gate's product owns the segment.
    if (auto glu = dyn_cast_or_null<GluOp>(next)) {
      Value up = glu.getUp();
      LinearOp upLinear = productWriting(up);
      if (glu.getGate() != y || !upLinear ||
          soleReaderInside(dispatch, up) != glu.getOperation()) {
        (void)report.fail("a plan.glu must combine two products of the "
                          "dispatch, gate then up, each read only by it");
        return failure();
      }
      s.up = upLinear;
      s.upWeight = upLinear.getWeightAttr();
      s.upBias = upLinear.getBiasAttr();
      s.glu = glu;
      claimed.insert(glu);
      y = glu.getOutput();
      next = soleReaderInside(dispatch, y);
    }
    if (auto add = dyn_cast_or_null<AddOp>(next)) {
      s.residual = add;
      s.residualOther = add.getLhs() == y ? add.getRhs() : add.getLhs();
      if (add.getLhs() == add.getRhs()) {
        (void)report.fail("a residual add must add another buffer");
        return failure();
      }
      claimed.insert(add);
      y = add.getOutput();
      next = soleReaderInside(dispatch, y);
    }
    if (auto norm = dyn_cast_or_null<RMSNormOp>(next)) {
      if (norm.getGroupSize() == widthOf(y)) {
        (void)report.fail("an epilogue norm must be per head (group_size "
                          "smaller than the rows)");
        return failure();
      }
      s.headNorm = norm;
      claimed.insert(norm);
      y = norm.getOutput();
      next = soleReaderInside(dispatch, y);
    }
    if (auto rope = dyn_cast_or_null<RopeOp>(next)) {
      s.rope = rope;
      claimed.insert(rope);
      if (region.positions && region.positions != rope.getPositions()) {
        (void)report.fail("its epilogues read different positions");
        return failure();
      }
      region.positions = rope.getPositions();
      y = rope.getOutput();
      next = soleReaderInside(dispatch, y);
    }
    if (auto append = dyn_cast_or_null<KVAppendOp>(next)) {
      s.append = append;
      s.appendsKeys = append.getK() == y;
      claimed.insert(append);
      if (region.positions && region.positions != append.getPositions()) {
        (void)report.fail("its epilogues read different positions");
        return failure();
      }
      region.positions = append.getPositions();
      // Written rows nobody reads after the dispatch need not be stored.
      bool readAfter = llvm::any_of(y.getUsers(), [&](Operation *user) {
        return user->getParentOp() != dispatch.getOperation() &&
               !isa<BufferOp>(user);
      });
      s.output = readAfter ? y : Value();
    } else {
      if (next) {
        (void)report.fail("'" + next->getName().getStringRef() +
                          "' does not fit the epilogue of a product");
        return failure();
      }
      s.output = y;
    }
    if (s.headNorm && s.rope && s.headNorm.getGroupSize() != s.rope.getHeadDim()) {
      (void)report.fail("qk-norm and RoPE disagree on the head size");
      return failure();
    }
    region.segments.push_back(s);
  }

  // Both halves of an append come from this dispatch.
  for (const MatvecSegment &s : region.segments)
    if (s.append &&
        llvm::count_if(region.segments, [&](const MatvecSegment &o) {
          return o.append == s.append;
        }) != 2) {
      (void)report.fail("a plan.kv_append needs both its keys and its values "
                        "from products of the dispatch");
      return failure();
    }

  for (KernelOpInterface kernel : kernels)
    if (!claimed.contains(kernel) && !ups.contains(kernel)) {
      (void)report.fail("'" + kernel->getName().getStringRef() +
                        "' is neither prologue, product nor epilogue");
      return failure();
    }

  // One decoder for all products.
  fm::ParamOp first = lookupParam(dispatch, region.segments.front().weight);
  for (const MatvecSegment &s : region.segments)
    for (FlatSymbolRefAttr w : {s.weight, s.upWeight})
      if (w && !sameWeightFormat(first, lookupParam(dispatch, w))) {
        (void)report.fail("weights @" +
                          region.segments.front().weight.getValue() + " and @" +
                          w.getValue() + " are stored differently");
        return failure();
      }
  return region;
}

//===----------------------------------------------------------------------===//
// LaunchOp
//===----------------------------------------------------------------------===//

LogicalResult LaunchOp::verify() {
  ArrayRef<int32_t> grid = getGrid();
  if (grid.size() != 3 || llvm::any_of(grid, [](int32_t v) { return v < 1; }))
    return emitOpError() << "grid must be three positive sizes";
  return success();
}

LogicalResult CollectiveLaunchOp::verify() {
  ArrayRef<Attribute> bindings = getBindings().getValue();
  if (bindings.empty() || bindings.size() % 2 != 0)
    return emitOpError() << "binds " << bindings.size()
                         << " buffers; an all-reduce binds its inputs, then "
                            "as many outputs";
  size_t half = bindings.size() / 2;
  for (size_t i = 0; i < bindings.size(); ++i) {
    auto binding = cast<BindingAttr>(bindings[i]);
    if (binding.getMemory() != BindingMemory::arena)
      return emitOpError() << "binding " << i
                           << " is not in the arena: collectives exchange "
                              "activations only";
    if (binding.getBytes() % 4 != 0)
      return emitOpError() << "binding " << i << " holds " << binding.getBytes()
                           << " bytes, not whole f32 values";
    if (i >= half &&
        binding.getBytes() != cast<BindingAttr>(bindings[i - half]).getBytes())
      return emitOpError() << "output " << i - half << " holds "
                           << binding.getBytes() << " bytes, its input "
                           << cast<BindingAttr>(bindings[i - half]).getBytes();
  }
  return success();
}

LogicalResult LaunchOp::verifySymbolUses(SymbolTableCollection &tables) {
  auto function = dyn_cast_or_null<FunctionOpInterface>(
      tables.lookupNearestSymbolFrom(*this, getKernel()));
  if (!function)
    return emitOpError() << "launches " << getKernel()
                         << ", which is not a kernel function";
  if (function.getNumArguments() != getBindings().size())
    return emitOpError() << "binds " << getBindings().size()
                         << " buffers to " << getKernel() << ", which takes "
                         << function.getNumArguments();
  return success();
}

//===----------------------------------------------------------------------===//
// DispatchOp
//===----------------------------------------------------------------------===//

LogicalResult DispatchOp::verifyRegions() {
  Block &body = getBody().front();
  if (body.empty())
    return emitOpError() << "holds no kernel";
  for (Operation &op : body)
    if (!isa<KernelOpInterface>(op))
      return op.emitOpError() << "is not a kernel; a plan.dispatch holds "
                                 "kernels only";
  return getConfig().verifyRegion(getOperation());
}
