//===- Norms.cpp - plan.rms_norm and plan.layer_norm on the GPU -----------===//
//
// One 256-thread workgroup per row (RMSNorm: per row and group) reducing
// with subgroup sums (kernels/norm.mlir).

#include "lowering/gpu/families/Families.h"
#include "lowering/gpu/families/WeightLayout.h"

#include "dialects/plan/IR/PlanOps.h"

namespace fmc::gpu {

namespace {
constexpr uint32_t kThreads = 256;
} // namespace

llvm::Error lowerRmsNorm(mlir::Operation *kernel, LaunchBuilder &b) {
  auto op = llvm::cast<mlir::plan::RMSNormOp>(kernel);
  int64_t width = widthOf(op.getInput());
  int64_t group = static_cast<int64_t>(op.getGroupSize());
  if (group <= 0 || width % group != 0)
    return llvm::createStringError("plan.rms_norm: group_size " +
                                   llvm::Twine(group) + " does not divide " +
                                   llvm::Twine(width) + " features");
  llvm::Expected<VectorParam> weight =
      vectorParam(b, op.getWeightAttr(), "weight of plan.rms_norm");
  if (!weight)
    return weight.takeError();
  return b.dispatch(
      "rms_norm",
      {width, group, weight->dtype, op.getEpsAttr().getValueAsDouble(),
       op.getWeightOffsetAttr().getValueAsDouble(), b.rowsSlot()},
      {kThreads, 1, 1},
      gridFor(b.maxTokens() * (width / group)),
      {b.buffer(op.getInput()), weight->binding, b.buffer(op.getOutput()),
       b.run()});
}

llvm::Error lowerLayerNorm(mlir::Operation *kernel, LaunchBuilder &b) {
  auto op = llvm::cast<mlir::plan::LayerNormOp>(kernel);
  int64_t width = widthOf(op.getInput());
  llvm::Expected<VectorParam> weight =
      vectorParam(b, op.getWeightAttr(), "weight of plan.layer_norm");
  if (!weight)
    return weight.takeError();
  llvm::Expected<VectorParam> bias =
      vectorParam(b, op.getBiasAttr(), "bias of plan.layer_norm");
  if (!bias)
    return bias.takeError();
  return b.dispatch("layer_norm",
                    {width, weight->dtype, bias->dtype,
                     op.getEpsAttr().getValueAsDouble(), b.rowsSlot()},
                    {kThreads, 1, 1},
                    gridFor(b.maxTokens()),
                    {b.buffer(op.getInput()), weight->binding, bias->binding,
                     b.buffer(op.getOutput()), b.run()});
}

} // namespace fmc::gpu
