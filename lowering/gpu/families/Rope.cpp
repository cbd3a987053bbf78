//===- Rope.cpp - plan.rope on the GPU ------------------------------------===//
//
// One thread per feature pair (kernels/rope.mlir); theta enters as its
// natural logarithm so the kernel computes theta^(-2j/rotary) with one exp.

#include "lowering/gpu/families/Families.h"
#include "lowering/gpu/families/WeightLayout.h"

#include "dialects/plan/IR/PlanOps.h"

#include <cmath>

namespace fmc::gpu {

namespace {
constexpr uint32_t kThreads = 256;
} // namespace

llvm::Error lowerRope(mlir::Operation *kernel, LaunchBuilder &b) {
  auto op = llvm::cast<mlir::plan::RopeOp>(kernel);
  int64_t width = widthOf(op.getInput());
  int64_t headDim = static_cast<int64_t>(op.getHeadDim());
  int64_t rotary = static_cast<int64_t>(op.getRotaryDim());
  if (headDim <= 0 || headDim % 2 != 0 || width % headDim != 0 ||
      rotary % 2 != 0 || rotary > headDim || rotary <= 0)
    return llvm::createStringError(
        "plan.rope: head_dim " + llvm::Twine(headDim) + " and rotary_dim " +
        llvm::Twine(rotary) + " do not fit rows of " + llvm::Twine(width) +
        " features in pairs");
  int64_t interleaved = op.getLayout() == mlir::fm::RopeLayout::interleaved;
  double logTheta = std::log(op.getThetaAttr().getValueAsDouble());
  return b.dispatch(
      "rope", {width, headDim, rotary, interleaved, logTheta, b.rowsSlot()},
      {kThreads, 1, 1}, gridFor(groupsFor(b.maxTokens() * width / 2, kThreads)),
      {b.buffer(op.getInput()), b.buffer(op.getPositions()),
       b.buffer(op.getOutput()), b.run()});
}

} // namespace fmc::gpu
