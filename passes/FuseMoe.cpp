//===- FuseMoe.cpp - expert-by-expert MoE into fm.moe ---------------------===//
//
// The importers emit a mixture of experts the way checkpoints spell it: a
// router fm.linear, fm.moe_route, one gate/up/glu/down chain per expert and
// fm.moe_combine. Run that way, every expert computes every token. This pass
// rewrites the chain into one fm.moe whose expert weights are stacked
// parameters (gate and up rows of each expert together), so a kernel can
// run only the selected experts' rows. A shared expert added to the result
// (with or without its sigmoid gate) folds into the same op.
//
// Routing semantics move unchanged (the scoring, top_k, norm_topk_prob and
// the tie rule live in the op's definition). What is not exactly this form
// stays unfused and still runs: experts of unequal shape or activation get a
// warning, experts that read another value than the router's input (Llama
// 4 scales it by the routing weight) or quantized expert weights a remark.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "dialects/fm/IR/FmOps.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::fm {
#define GEN_PASS_DEF_FUSEMOE
#include "passes/Passes.h.inc"
} // namespace mlir::fm

using namespace mlir;
using namespace mlir::fm;

namespace {

/// How a failed match is reported: the patterns stay silent, the pass's
/// first walk reports each unfusable MoE once.
enum class Report { None, Diagnose };

/// One gated FFN `down(act(gate(x)) * up(x))`.
struct GatedFfn {
  Value input;
  Activation activation;
  ParamOp gate, up, down;
};

struct ExpertForm {
  MoeRouteOp route;
  LinearOp router;
  SmallVector<GatedFfn> experts;
};

/// A dense float parameter stored in a file: the parts a stack allows, in
/// the element types every backend's fm.moe kernel reads.
bool isStackablePart(ParamOp param) {
  if (!param || param.isStack() || param.getQuant() || !param.getSourceAttr())
    return false;
  StorageType dtype = param.getSourceAttr().getDtype();
  return dtype == StorageType::f32 || dtype == StorageType::f16 ||
         dtype == StorageType::bf16;
}

ParamOp lookupParam(Operation *from, FlatSymbolRefAttr ref) {
  return SymbolTable::lookupNearestSymbolFrom<ParamOp>(from, ref);
}

/// A bias-free fm.linear defining `value`.
LinearOp plainLinear(Value value) {
  auto linear = value.getDefiningOp<LinearOp>();
  return linear && !linear.getBiasAttr() ? linear : LinearOp();
}

/// Matches `value` as a gated FFN with bias-free projections.
std::optional<GatedFfn> matchGatedFfn(Value value) {
  LinearOp down = plainLinear(value);
  if (!down)
    return std::nullopt;
  auto glu = down.getInput().getDefiningOp<GluOp>();
  if (!glu)
    return std::nullopt;
  LinearOp gate = plainLinear(glu.getGate()), up = plainLinear(glu.getUp());
  if (!gate || !up || gate.getInput() != up.getInput())
    return std::nullopt;
  GatedFfn ffn{gate.getInput(), glu.getKind(),
               lookupParam(gate, gate.getWeightAttr()),
               lookupParam(up, up.getWeightAttr()),
               lookupParam(down, down.getWeightAttr())};
  if (!ffn.gate || !ffn.up || !ffn.down)
    return std::nullopt;
  return ffn;
}

/// Why `ffn`'s weights cannot be stack parts, or an empty string.
std::string unstackableReason(GatedFfn ffn) {
  for (ParamOp p : {ffn.gate, ffn.up, ffn.down})
    if (!isStackablePart(p))
      return ("its weight @" + p.getSymName() +
              " is not a dense f32, f16 or bf16 parameter stored in a file")
          .str();
  StorageType dtype = ffn.gate.getSourceAttr().getDtype();
  Type element = ffn.gate.getTensorType().getElementType();
  for (ParamOp p : {ffn.up, ffn.down})
    if (p.getSourceAttr().getDtype() != dtype ||
        p.getTensorType().getElementType() != element)
      return ("its weights @" + ffn.gate.getSymName() + " and @" +
              p.getSymName() + " are stored differently")
          .str();
  return "";
}

/// Matches the expert-by-expert form ending in `combine`. With
/// Report::Diagnose, a MoE that is recognizably one but cannot be fused
/// gets one warning (unequal experts) or remark (a form fm.moe does not
/// express) saying why it stays unfused.
FailureOr<ExpertForm> matchExpertForm(MoeCombineOp combine, Report report) {
  auto skip = [&](bool warning, const Twine &why) -> FailureOr<ExpertForm> {
    if (report == Report::Diagnose) {
      InFlightDiagnostic diag =
          warning ? combine.emitWarning() : combine.emitRemark();
      diag << "fm-fuse-moe: left unfused: " << why;
    }
    return failure();
  };
  ExpertForm form;
  form.route = combine.getWeights().getDefiningOp<MoeRouteOp>();
  if (!form.route || combine.getWeights() != form.route.getWeights() ||
      combine.getIndices() != form.route.getIndices())
    return skip(false, "its weights and indices do not come from one "
                       "fm.moe_route");
  form.router = plainLinear(form.route.getLogits());
  if (!form.router)
    return skip(false, "its router logits are not a bias-free fm.linear");
  Value input = form.router.getInput();
  if (input.getType() != combine.getResult().getType())
    return skip(false, "the router input and the result differ in type");
  int64_t experts = combine.getExperts().size();
  auto logits = cast<RankedTensorType>(form.route.getLogits().getType());
  if (logits.getShape().back() != experts)
    return skip(false, Twine("the router scores ") +
                           Twine(logits.getShape().back()) +
                           " experts but the combine has " + Twine(experts));

  for (auto [i, value] : llvm::enumerate(combine.getExperts())) {
    std::optional<GatedFfn> ffn = matchGatedFfn(value);
    if (!ffn)
      return skip(false, Twine("expert ") + Twine(i) +
                             " is not a gated FFN (linear, linear, glu, "
                             "linear without biases)");
    form.experts.push_back(*ffn);
  }
  GatedFfn first = form.experts.front();
  // Unequal experts: a real model this pass cannot stack.
  auto shapeOf = [](ParamOp p) { return p.getTensorType().getShape(); };
  for (auto [i, ffn] : llvm::enumerate(form.experts)) {
    if (ffn.activation != first.activation)
      return skip(true, Twine("expert ") + Twine(i) + " uses " +
                            stringifyActivation(ffn.activation) +
                            " but expert 0 uses " +
                            stringifyActivation(first.activation));
    for (auto [role, mine, theirs] :
         {std::tuple<StringRef, ParamOp, ParamOp>{"gate", ffn.gate, first.gate},
          {"up", ffn.up, first.up},
          {"down", ffn.down, first.down}})
      if (shapeOf(mine) != shapeOf(theirs))
        return skip(true, Twine("expert ") + Twine(i) + "'s " + role +
                              " weight @" + mine.getSymName() + " is " +
                              Twine(shapeOf(mine)[0]) + "x" +
                              Twine(shapeOf(mine)[1]) + " but expert 0's is " +
                              Twine(shapeOf(theirs)[0]) + "x" +
                              Twine(shapeOf(theirs)[1]));
  }
  // (fm.glu gives gate and up one type, so their weights share a shape.)
  for (auto [i, ffn] : llvm::enumerate(form.experts))
    if (ffn.input != input)
      return skip(false, Twine("expert ") + Twine(i) +
                             " reads another value than the router's input "
                             "(fm.moe runs experts on the router input)");
  for (auto [i, ffn] : llvm::enumerate(form.experts)) {
    std::string why = unstackableReason(ffn);
    if (!why.empty())
      return skip(false, Twine("expert ") + Twine(i) + ": " + why);
    if (ffn.gate.getSourceAttr().getDtype() !=
            first.gate.getSourceAttr().getDtype() ||
        ffn.gate.getTensorType().getElementType() !=
            first.gate.getTensorType().getElementType())
      return skip(false, Twine("expert ") + Twine(i) +
                             "'s weights are stored unlike expert 0's");
  }
  return form;
}

/// A fresh symbol `base`, or `base.N` when taken.
std::string uniqueName(ModuleOp module, StringRef base) {
  std::string name = base.str();
  for (int n = 1; SymbolTable::lookupSymbolIn(module, name); ++n)
    name = (base + "." + Twine(n)).str();
  return name;
}

/// The name the stacks of these FFNs' weights start with: what their gate
/// and up parameters' names share, up to and including a '.'.
std::string stackPrefix(ArrayRef<GatedFfn> ffns) {
  ParamOp firstGate = ffns.front().gate;
  StringRef first = firstGate.getSymName();
  size_t common = first.size();
  for (GatedFfn ffn : ffns)
    for (StringRef name : {ffn.gate.getSymName(), ffn.up.getSymName()}) {
      size_t i = 0;
      while (i < common && i < name.size() && name[i] == first[i])
        ++i;
      common = i;
    }
  size_t dot = first.take_front(common).rfind('.');
  if (dot == StringRef::npos)
    return (first + ".").str();
  return first.take_front(dot + 1).str();
}

/// The stack `name : shape x element stacks parts`, declared after the last
/// part, or an existing stack of the same parts and type (two MoEs that
/// share experts share their stacks).
ParamOp createStack(PatternRewriter &rewriter, ModuleOp module, StringRef name,
                    ArrayRef<int64_t> shape, ArrayRef<ParamOp> parts) {
  ParamOp last = parts.front();
  for (ParamOp part : parts)
    if (last->isBeforeInBlock(part))
      last = part;
  SmallVector<Attribute> refs;
  for (ParamOp part : parts)
    refs.push_back(FlatSymbolRefAttr::get(part.getSymNameAttr()));
  auto type =
      RankedTensorType::get(shape, last.getTensorType().getElementType());
  ArrayAttr partsAttr = rewriter.getArrayAttr(refs);
  for (ParamOp existing : module.getOps<ParamOp>())
    if (existing.getPartsAttr() == partsAttr &&
        existing.getTensorType() == type)
      return existing;
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPointAfter(last);
  return ParamOp::create(rewriter, last.getLoc(),
                         rewriter.getStringAttr(uniqueName(module, name)),
                         TypeAttr::get(type), /*source=*/nullptr, partsAttr,
                         /*adapter_slot=*/nullptr, /*delta=*/nullptr,
                         /*sym_visibility=*/nullptr);
}

struct FuseExperts : OpRewritePattern<MoeCombineOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MoeCombineOp combine,
                                PatternRewriter &rewriter) const override {
    FailureOr<ExpertForm> form = matchExpertForm(combine, Report::None);
    if (failed(form))
      return rewriter.notifyMatchFailure(combine, "not a fusable MoE");
    auto module = combine->getParentOfType<ModuleOp>();
    ArrayRef<int64_t> gateShape =
        form->experts.front().gate.getTensorType().getShape(); // [inter,
                                                               // hidden]
    int64_t experts = form->experts.size();
    int64_t inter = gateShape[0], hidden = gateShape[1];
    SmallVector<ParamOp> gateUpParts, downParts;
    for (GatedFfn ffn : form->experts) {
      gateUpParts.append({ffn.gate, ffn.up});
      downParts.push_back(ffn.down);
    }
    std::string prefix = stackPrefix(form->experts);
    ParamOp gateUp = createStack(rewriter, module, prefix + "gate_up",
                                 {experts, 2 * inter, hidden}, gateUpParts);
    ParamOp down = createStack(rewriter, module, prefix + "down",
                               {experts, hidden, inter}, downParts);
    MoeRouteOp route = form->route;
    auto moe = MoeOp::create(
        rewriter, combine.getLoc(), combine.getResult().getType(),
        route.getScoringAttr(), form->router.getInput(),
        form->router.getWeightAttr(),
        FlatSymbolRefAttr::get(gateUp.getSymNameAttr()),
        FlatSymbolRefAttr::get(down.getSymNameAttr()), route.getTopKAttr(),
        ActivationAttr::get(getContext(), form->experts.front().activation),
        route.getNormTopkProbAttr(), /*shared_gate_up=*/nullptr,
        /*shared_down=*/nullptr, /*shared_gate=*/nullptr);
    rewriter.replaceOp(combine, moe.getResult());
    return success();
  }
};

/// `x + shared(x)` or `x + shared(x) * sigmoid(linear(x))` after an fm.moe
/// without a shared expert, whose result nothing else reads.
struct FoldSharedExpert : OpRewritePattern<AddOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AddOp add,
                                PatternRewriter &rewriter) const override {
    for (auto [moeValue, other] : {std::pair{add.getLhs(), add.getRhs()},
                                   std::pair{add.getRhs(), add.getLhs()}}) {
      auto moe = moeValue.getDefiningOp<MoeOp>();
      if (!moe || moe.getSharedGateUpAttr() || !moeValue.hasOneUse())
        continue;
      if (succeeded(fold(add, moe, other, rewriter)))
        return success();
    }
    return rewriter.notifyMatchFailure(add, "no MoE plus shared expert");
  }

  LogicalResult fold(AddOp add, MoeOp moe, Value shared,
                     PatternRewriter &rewriter) const {
    Value x = moe.getInput();
    ParamOp gateParam;
    // The optional gate: shared * sigmoid(x W_g^T), W_g of one row.
    if (auto mul = shared.getDefiningOp<MulOp>()) {
      auto sigmoid = mul.getRhs().getDefiningOp<ActivationOp>();
      if (!sigmoid || sigmoid.getKind() != Activation::sigmoid)
        return failure();
      LinearOp gate = plainLinear(sigmoid.getInput());
      if (!gate || gate.getInput() != x)
        return failure();
      gateParam = lookupParam(gate, gate.getWeightAttr());
      if (!gateParam || gateParam.getTensorType().getShape()[0] != 1)
        return failure();
      shared = mul.getLhs();
    }
    std::optional<GatedFfn> ffn = matchGatedFfn(shared);
    if (!ffn || ffn->input != x || ffn->activation != moe.getActivation() ||
        !unstackableReason(*ffn).empty() ||
        ffn->gate.getTensorType().getShape() !=
            ffn->up.getTensorType().getShape())
      return failure();
    auto module = moe->getParentOfType<ModuleOp>();
    ArrayRef<int64_t> gateShape = ffn->gate.getTensorType().getShape();
    ParamOp gateUp =
        createStack(rewriter, module, stackPrefix({*ffn}) + "gate_up",
                    {2 * gateShape[0], gateShape[1]}, {ffn->gate, ffn->up});
    rewriter.modifyOpInPlace(moe, [&] {
      moe.setSharedGateUpAttr(FlatSymbolRefAttr::get(gateUp.getSymNameAttr()));
      moe.setSharedDownAttr(FlatSymbolRefAttr::get(ffn->down.getSymNameAttr()));
      if (gateParam)
        moe.setSharedGateAttr(
            FlatSymbolRefAttr::get(gateParam.getSymNameAttr()));
    });
    rewriter.replaceOp(add, moe.getResult());
    return success();
  }
};

struct FuseMoePass : public fm::impl::FuseMoeBase<FuseMoePass> {
  using FuseMoeBase::FuseMoeBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    // Report each MoE that stays unfused once, before the rewrite.
    module.walk([&](MoeCombineOp combine) {
      (void)matchExpertForm(combine, Report::Diagnose);
    });
    int64_t before = countMoes(module);
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseExperts, FoldSharedExpert>(&getContext());
    if (failed(applyPatternsGreedily(module, std::move(patterns))))
      return signalPassFailure();
    numFused = countMoes(module) - before;
    int64_t shared = 0;
    module.walk([&](MoeOp moe) { shared += bool(moe.getSharedGateUpAttr()); });
    numShared = shared;
  }

  static int64_t countMoes(ModuleOp module) {
    int64_t count = 0;
    module.walk([&](MoeOp) { ++count; });
    return count;
  }
};

} // namespace
