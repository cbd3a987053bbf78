//===- Moe.cpp - plan.moe_route, plan.moe_combine and plan.moe on the GPU -===//
//
// kernels/moe.mlir. moe_route is one thread per row; moe_combine one
// dispatch per expert buffer; the fused plan.moe is a chain of dispatches
// over the program's scratch: router matvec, routing, the selected experts'
// gate_up matvecs (decode: grid rows * top_k slots x 2 * inter outputs;
// prefill: the slots grouped by expert first (moe_group), grid experts x
// 2 * inter outputs, each expert's row serving all its slots; or, for
// f16, bf16 and 2-/4-bit stacks that tile, a grouped GEMM on matrix units
// with the GLU fused: ExpertGemm.h), the gated activation, their down
// matvecs (the same choice), the weighted sum in selection order, and
// the shared expert (its matvecs, activation and gate; in prefill its
// projections as one-expert GEMMs where they tile) added last, as
// runtime/cpu/Moe.cpp orders it. Expert weights are read in place from the
// stacked parameter (f32, f16, bf16 or packed 2-/4-bit), never copied.
//
//===----------------------------------------------------------------------===//

#include "lowering/gpu/families/Families.h"

#include "lowering/gpu/families/ExpertGemm.h"
#include "lowering/gpu/families/WeightLayout.h"

#include "dialects/fm/IR/FmAttrs.h"
#include "dialects/plan/IR/PlanOps.h"
#include "lowering/quant/QuantMath.h"
#include "lowering/quant/QuantParam.h"

#include "llvm/ADT/Twine.h"

#include <optional>

namespace fmc::gpu {

namespace {

constexpr uint32_t kElementThreads = 256;
constexpr uint32_t kMatvecThreads = 64;
constexpr uint32_t kGroupThreads = 256;

uint32_t groupsFor(int64_t elements, uint32_t threads) {
  return static_cast<uint32_t>((elements + threads - 1) / threads);
}

/// How moe_matvec reads a weight (its `wtype` .. `row_bytes` arguments):
/// rows of `k` elements, for a stack the experts' rows one after another.
struct MatvecWeight {
  mlir::FlatSymbolRefAttr symbol;
  int64_t k = 0;
  int64_t wtype = 0; ///< 0 f32, 1 f16, 2 packed, 3 bf16.
  int64_t bits = 0, affine = 0, group = 1, groups = 1;
  int64_t scalesHalf = 0, minsHalf = 0, scaleBF16 = 0, rowBytes = 0;

  static llvm::Expected<MatvecWeight> of(LaunchBuilder &b,
                                         mlir::FlatSymbolRefAttr symbol) {
    mlir::fm::ParamOp param = b.param(symbol);
    MatvecWeight w;
    w.symbol = symbol;
    llvm::ArrayRef<int64_t> shape = param.getTensorType().getShape();
    w.k = shape.back();
    int64_t rows = 1;
    for (int64_t d : shape.drop_back())
      rows *= d;
    switch (param.getStorageType()) {
    case mlir::fm::StorageType::f32:
      w.wtype = 0;
      return w;
    case mlir::fm::StorageType::f16:
      w.wtype = 1;
      return w;
    case mlir::fm::StorageType::bf16:
      w.wtype = 3;
      return w;
    case mlir::fm::StorageType::packed: {
      fmc::quant::Format format = fmc::quant::formatOf(param.getQuant());
      uint64_t scales = fmc::quant::scalesOffset(format, rows, w.k);
      if (scales % 2 != 0)
        return llvm::createStringError(
            "parameter '" + symbol.getValue() +
            "' has its packed scales at an odd byte offset; the GPU kernels "
            "read them as 16-bit halves of 32-bit words");
      w.wtype = 2;
      w.bits = format.bits;
      w.affine = format.grid == fmc::quant::Grid::Affine;
      w.group = fmc::quant::effectiveGroupSize(format, w.k);
      w.groups = fmc::quant::groupsPerRow(format, w.k);
      w.scalesHalf = static_cast<int64_t>(scales / 2);
      w.minsHalf =
          static_cast<int64_t>(fmc::quant::minsOffset(format, rows, w.k) / 2);
      w.scaleBF16 = format.scaleType == fmc::quant::ScaleType::BF16;
      w.rowBytes = static_cast<int64_t>(fmc::quant::rowCodeBytes(format, w.k));
      return w;
    }
    default:
      if (mlir::fm::getGgmlBlockFormat(param.getStorageType()))
        return llvm::createStringError(
            "parameter '" + symbol.getValue() + "' is a stack of experts in "
            "ggml blocks ('" +
            mlir::fm::stringifyStorageType(param.getStorageType()) +
            "'); the fused GPU mixture-of-experts kernels read f32, f16, bf16 "
            "and packed 2-/4-bit stacks (ggml experts run expert by expert: "
            "fm-fuse-moe leaves them unstacked)");
      return llvm::createStringError(
          "parameter '" + symbol.getValue() + "' is stored as '" +
          mlir::fm::stringifyStorageType(param.getStorageType()) +
          "'; the GPU mixture-of-experts kernels read f32, f16, bf16 and "
          "packed 2-/4-bit weights");
    }
  }
};


/// The selected experts' slots grouped by expert (moe_group's `lists`), for
/// a grouped matvec; absent: slot-major launches.
struct SlotLists {
  Binding lists;
  int64_t experts = 0;
};

/// y[slot, o] for o < n: `slots` is top_k per row when gathering experts'
/// rows by `indices`, else 1. With `grouped`, one workgroup per (expert,
/// output) runs every slot of the expert's list.
llvm::Error matvec(LaunchBuilder &b, const MatvecWeight &w, Binding x,
                   Binding indices, Binding y, int64_t n, int64_t topK,
                   bool gather, bool slotInput,
                   std::optional<SlotLists> grouped = std::nullopt) {
  // One workgroup per (slot or expert, output): both within every API's
  // grid limit.
  int64_t slots = grouped ? grouped->experts : b.maxTokens() * topK;
  if (slots > kMaxGridDimension || n > kMaxGridDimension)
    return llvm::createStringError(
        "the GPU expert matvec of '" + w.symbol.getValue() + "' needs a " +
        llvm::Twine(slots) + " x " + llvm::Twine(n) +
        " grid; each dimension is limited to " +
        llvm::Twine(kMaxGridDimension));
  return b.dispatch(
      "moe_matvec",
      {w.k, n, topK, int64_t(gather), int64_t(slotInput),
       int64_t(grouped.has_value()), grouped ? grouped->experts : 0, w.wtype,
       w.bits, w.affine, w.group, w.groups, w.scalesHalf, w.minsHalf,
       w.scaleBF16, w.rowBytes, b.rowsSlot(), int64_t(kMatvecThreads)},
      {kMatvecThreads, 1, 1},
      {static_cast<uint32_t>(slots), static_cast<uint32_t>(n), 1},
      // Slot-major: `indices` stands in for the lists (never read).
      {x, b.weight(w.symbol), indices, grouped ? grouped->lists : indices, y,
       b.run()});
}

llvm::Error glu(LaunchBuilder &b, Binding gateUp, Binding hidden,
                int64_t inter, int64_t topK, int64_t act) {
  return b.dispatch(
      "moe_glu", {inter, topK, act, b.rowsSlot()}, {kElementThreads, 1, 1},
      {groupsFor(b.maxTokens() * topK * inter, kElementThreads), 1, 1},
      {gateUp, hidden, b.run()});
}

llvm::Error route(LaunchBuilder &b, Binding logits, Binding weights,
                  Binding indices, int64_t experts, int64_t topK,
                  bool softmax, bool normalize) {
  return b.dispatch("moe_route",
                    {experts, topK, int64_t(softmax), int64_t(normalize),
                     b.rowsSlot()},
                    {kMatvecThreads, 1, 1},
                    {groupsFor(b.maxTokens(), kMatvecThreads), 1, 1},
                    {logits, weights, indices, b.run()});
}

uint64_t floats(int64_t n) { return static_cast<uint64_t>(n) * 4; }

} // namespace

llvm::Error lowerMoeRoute(mlir::Operation *kernel, LaunchBuilder &b) {
  auto op = llvm::cast<mlir::plan::MoeRouteOp>(kernel);
  return route(b, b.buffer(op.getLogits()), b.buffer(op.getWeights()),
               b.buffer(op.getIndices()), widthOf(op.getLogits()),
               op.getTopK(),
               op.getScoring() == mlir::fm::RouterScoring::softmax,
               op.getNormTopkProb());
}

llvm::Error lowerMoeCombine(mlir::Operation *kernel, LaunchBuilder &b) {
  auto op = llvm::cast<mlir::plan::MoeCombineOp>(kernel);
  int64_t width = widthOf(op.getOutput()), topK = widthOf(op.getWeights());
  Binding weights = b.buffer(op.getWeights());
  Binding indices = b.buffer(op.getIndices());
  Binding out = b.buffer(op.getOutput());
  for (auto [e, expert] : llvm::enumerate(op.getExperts()))
    if (llvm::Error error = b.dispatch(
            "moe_combine_expert",
            {width, topK, static_cast<int64_t>(e), int64_t(e == 0),
             b.rowsSlot()},
            {kElementThreads, 1, 1},
            {groupsFor(b.maxTokens() * width, kElementThreads), 1, 1},
            {weights, indices, b.buffer(expert), out, b.run()}))
      return error;
  return llvm::Error::success();
}

llvm::Error lowerMoe(mlir::Operation *kernel, LaunchBuilder &b) {
  auto op = llvm::cast<mlir::plan::MoeOp>(kernel);
  int64_t width = widthOf(op.getOutput());
  int64_t topK = op.getTopK();
  int64_t maxRows = b.maxTokens(), slots = maxRows * topK;
  int64_t act = activationCode(op.getActivation());

  llvm::Expected<MatvecWeight> router = MatvecWeight::of(b, op.getRouterAttr());
  if (!router)
    return router.takeError();
  llvm::Expected<MatvecWeight> gateUp =
      MatvecWeight::of(b, op.getGateUpAttr());
  if (!gateUp)
    return gateUp.takeError();
  llvm::Expected<MatvecWeight> down = MatvecWeight::of(b, op.getDownAttr());
  if (!down)
    return down.takeError();
  int64_t experts = b.param(op.getRouterAttr()).getTensorType().getShape()[0];
  // gate_up [experts, 2 * inter, width], down [experts, width, inter].
  int64_t inter = down->k;

  Binding x = b.buffer(op.getInput()), out = b.buffer(op.getOutput());
  Binding logits = b.scratch(floats(maxRows * experts));
  Binding weights = b.scratch(floats(slots));
  Binding indices = b.scratch(floats(slots));
  Binding hidden = b.scratch(floats(slots * inter));
  Binding expertOut = b.scratch(floats(slots * width));

  if (llvm::Error error = matvec(b, *router, x, indices, logits, experts, 1,
                                 /*gather=*/false, /*slotInput=*/true))
    return error;
  if (llvm::Error error =
          route(b, logits, weights, indices, experts, topK,
                op.getScoring() == mlir::fm::RouterScoring::softmax,
                op.getNormTopkProb()))
    return error;
  // Prefill groups the slots by expert (as runtime/cpu/Moe.cpp groups
  // tokens): each selected expert's rows are then read and decoded once
  // per pass over its slots (4 in the template, 32 or 16 in a GEMM), and
  // the experts no slot picked cost nothing.
  // Decode keeps one workgroup per (slot, output): top_k slots, not every
  // expert, fill its grid.
  std::optional<SlotLists> lists;
  if (maxRows > 1) {
    lists = SlotLists{b.scratch(floats(experts + 1 + slots)), experts};
    if (llvm::Error error = b.dispatch(
            "moe_group", {experts, topK, b.rowsSlot(), int64_t(kGroupThreads)},
            {kGroupThreads, 1, 1}, {static_cast<uint32_t>(experts), 1, 1},
            {indices, lists->lists, b.run()}))
      return error;
  }
  // Grouped, the projections whose weights the matrix units read run as
  // grouped GEMMs (ExpertGemm.h), gate_up with its GLU fused.
  if (lists && expertGemmUnfit(b, op.getGateUpAttr()).empty()) {
    if (llvm::Error error = lowerExpertGemm(
            b, {op.getGateUpAttr(), x, hidden, lists->lists, experts, topK,
                /*slotInput=*/false, act}))
      return error;
  } else {
    Binding gu = b.scratch(floats(slots * 2 * inter));
    if (llvm::Error error = matvec(b, *gateUp, x, indices, gu, 2 * inter,
                                   topK, /*gather=*/true, /*slotInput=*/false,
                                   lists))
      return error;
    if (llvm::Error error = glu(b, gu, hidden, inter, topK, act))
      return error;
  }
  if (lists && expertGemmUnfit(b, op.getDownAttr()).empty()) {
    if (llvm::Error error = lowerExpertGemm(
            b, {op.getDownAttr(), hidden, expertOut, lists->lists, experts,
                topK, /*slotInput=*/true, std::nullopt}))
      return error;
  } else if (llvm::Error error =
                 matvec(b, *down, hidden, indices, expertOut, width, topK,
                        /*gather=*/true, /*slotInput=*/true, lists)) {
    return error;
  }
  if (llvm::Error error = b.dispatch(
          "moe_weighted_sum", {width, topK, b.rowsSlot()},
          {kElementThreads, 1, 1},
          {groupsFor(maxRows * width, kElementThreads), 1, 1},
          {weights, expertOut, out, b.run()}))
    return error;
  if (!op.getSharedGateUpAttr())
    return llvm::Error::success();

  llvm::Expected<MatvecWeight> sharedGateUp =
      MatvecWeight::of(b, op.getSharedGateUpAttr());
  if (!sharedGateUp)
    return sharedGateUp.takeError();
  llvm::Expected<MatvecWeight> sharedDown =
      MatvecWeight::of(b, op.getSharedDownAttr());
  if (!sharedDown)
    return sharedDown.takeError();
  int64_t sharedInter = sharedDown->k;
  Binding sh = b.scratch(floats(maxRows * sharedInter));
  Binding sharedOut = b.scratch(floats(maxRows * width));
  Binding gate = b.scratch(floats(maxRows));
  // Prefill: the shared expert's projections on matrix units too, as one
  // expert over the run's rows.
  bool prefill = maxRows > 1;
  if (prefill && expertGemmUnfit(b, op.getSharedGateUpAttr()).empty()) {
    if (llvm::Error error =
            lowerExpertGemm(b, {op.getSharedGateUpAttr(), x, sh, std::nullopt,
                                1, 1, /*slotInput=*/true, act}))
      return error;
  } else {
    Binding sgu = b.scratch(floats(maxRows * 2 * sharedInter));
    if (llvm::Error error = matvec(b, *sharedGateUp, x, indices, sgu,
                                   2 * sharedInter, 1, false, true))
      return error;
    if (llvm::Error error = glu(b, sgu, sh, sharedInter, 1, act))
      return error;
  }
  if (prefill && expertGemmUnfit(b, op.getSharedDownAttr()).empty()) {
    if (llvm::Error error =
            lowerExpertGemm(b, {op.getSharedDownAttr(), sh, sharedOut,
                                std::nullopt, 1, 1, /*slotInput=*/true,
                                std::nullopt}))
      return error;
  } else if (llvm::Error error = matvec(b, *sharedDown, sh, indices, sharedOut,
                                        width, 1, false, true)) {
    return error;
  }
  bool gated = static_cast<bool>(op.getSharedGateAttr());
  if (gated) {
    llvm::Expected<MatvecWeight> sharedGate =
        MatvecWeight::of(b, op.getSharedGateAttr());
    if (!sharedGate)
      return sharedGate.takeError();
    if (llvm::Error error =
            matvec(b, *sharedGate, x, indices, gate, 1, 1, false, true))
      return error;
  }
  return b.dispatch("moe_add_shared", {width, int64_t(gated), b.rowsSlot()},
                    {kElementThreads, 1, 1},
                    {groupsFor(maxRows * width, kElementThreads), 1, 1},
                    {sharedOut, gate, out, b.run()});
}

} // namespace fmc::gpu
