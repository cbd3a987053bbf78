//===- Linear.cpp - plan.linear, plan.logits, plan.grouped_linear ---------===//
//
// Matrix-vector products with the weights decoded in registers
// (kernels/linear.mlir): `tpr` threads per output feature stride over the
// row's i32 words and reduce with subgroup sums; the run's rows are looped
// inside the kernel. A grouped linear is one dispatch per group over its
// slice of the stacked weight (rows g * n ...).

#include "lowering/gpu/families/Families.h"
#include "lowering/gpu/families/WeightLayout.h"

#include "dialects/plan/IR/PlanOps.h"

namespace fmc::gpu {

namespace {
constexpr int64_t kThreads = 256;

/// Threads per output feature: enough to give every thread about one unit
/// (word or element) of a row, at least 64 (a multiple of every subgroup
/// width fmc targets: 8 on lavapipe, 32 on NVIDIA and Apple, 64 on AMD).
int64_t threadsPerRow(int64_t units) {
  int64_t tpr = 64;
  while (tpr < kThreads && 8 * tpr <= units)
    tpr *= 2;
  return tpr;
}

struct Product {
  mlir::Value input, output;
  mlir::FlatSymbolRefAttr weight, bias;
  int64_t rowBase = 0;
  double scale = 1.0, softcap = 0.0;
  llvm::StringRef family;
};

llvm::Error dispatchProduct(LaunchBuilder &b, const Product &p) {
  std::string role = ("weight of " + p.family).str();
  llvm::Expected<WeightLayout> w = weightLayout(b, p.weight, role);
  if (!w)
    return w.takeError();
  int64_t k = widthOf(p.input), n = widthOf(p.output);
  if (w->k != k || w->rows < p.rowBase + n)
    return llvm::createStringError(
        p.family + ": weight @" + p.weight.getValue() + " is [" +
        llvm::Twine(w->rows) + ", " + llvm::Twine(w->k) + "], the product " +
        "needs rows " + llvm::Twine(p.rowBase) + " to " +
        llvm::Twine(p.rowBase + n) + " of " + llvm::Twine(k) + " elements");
  llvm::Expected<VectorParam> bias =
      vectorParam(b, p.bias, ("bias of " + p.family).str());
  if (!bias)
    return bias.takeError();
  std::vector<Binding> bindings = {b.buffer(p.input), b.weight(p.weight),
                                   bias->binding, b.buffer(p.output), b.run()};
  if (!w->packed) {
    // 16-bit weights in rows of an even length are read two per word.
    bool pairs = w->dtype != F32 && k % 2 == 0;
    int64_t mode = w->dtype == F32 ? 0 : pairs ? w->dtype : w->dtype + 2;
    int64_t units = pairs ? k / 2 : k;
    int64_t tpr = threadsPerRow(units);
    bool four = b.maxTokens() > 1 && mode <= 2;
    return b.dispatch(
        four ? "linear_dense4" : "linear_dense",
        {k, n, p.rowBase, mode, units, bias->dtype, p.scale, p.softcap, tpr,
         b.rowsSlot()},
        {kThreads, 1, 1}, gridFor(groupsFor(n, kThreads / tpr)),
        std::move(bindings));
  }
  const quant::Format &f = w->format;
  bool aligned = w->wordAligned();
  int64_t units = aligned ? static_cast<int64_t>(w->rowBytes / 4) : k;
  int64_t tpr = threadsPerRow(units);
  std::vector<SpecValue> spec = {
      k, n, p.rowBase, static_cast<int64_t>(f.bits),
      static_cast<int64_t>(f.grid == quant::Grid::Affine),
      static_cast<int64_t>(f.scaleType == quant::ScaleType::BF16), w->group,
      w->groups, static_cast<int64_t>(w->rowBytes),
      static_cast<int64_t>(w->scalesAt), static_cast<int64_t>(w->minsAt)};
  bool four = b.maxTokens() > 1 && aligned;
  if (!four) // @linear_packed4 has no `aligned` argument.
    spec.push_back(static_cast<int64_t>(aligned));
  spec.insert(spec.end(), {units, bias->dtype, p.scale, p.softcap, tpr,
                           b.rowsSlot()});
  return b.dispatch(four ? "linear_packed4" : "linear_packed", spec,
                    {kThreads, 1, 1}, gridFor(groupsFor(n, kThreads / tpr)),
                    std::move(bindings));
}
} // namespace

llvm::Error lowerLinear(mlir::Operation *kernel, LaunchBuilder &b) {
  if (auto op = llvm::dyn_cast<mlir::plan::LinearOp>(kernel)) {
    Product p;
    p.input = op.getInput();
    p.output = op.getOutput();
    p.weight = op.getWeightAttr();
    p.bias = op.getBiasAttr();
    p.family = "plan.linear";
    return dispatchProduct(b, p);
  }
  if (auto op = llvm::dyn_cast<mlir::plan::LogitsOp>(kernel)) {
    Product p;
    p.input = op.getInput();
    p.output = op.getOutput();
    p.weight = op.getWeightAttr();
    if (op.getScaleAttr())
      p.scale = op.getScaleAttr().getValueAsDouble();
    if (op.getSoftcapAttr())
      p.softcap = op.getSoftcapAttr().getValueAsDouble();
    p.family = "plan.logits";
    return dispatchProduct(b, p);
  }
  auto op = llvm::cast<mlir::plan::GroupedLinearOp>(kernel);
  if (op.getInputs().size() != op.getOutputs().size())
    return llvm::createStringError(
        "plan.grouped_linear: " + llvm::Twine(op.getInputs().size()) +
        " inputs but " + llvm::Twine(op.getOutputs().size()) + " outputs");
  for (auto [g, io] :
       llvm::enumerate(llvm::zip(op.getInputs(), op.getOutputs()))) {
    Product p;
    p.input = std::get<0>(io);
    p.output = std::get<1>(io);
    p.weight = op.getWeightAttr();
    p.rowBase = static_cast<int64_t>(g) * widthOf(p.output);
    p.family = "plan.grouped_linear";
    if (llvm::Error err = dispatchProduct(b, p))
      return err;
  }
  return llvm::Error::success();
}

} // namespace fmc::gpu
