//===- Activation.cpp - plan.activation and plan.glu on the GPU -----------===//
//
// One thread per element (kernels/activation.mlir); the activation is a
// specialization constant, so each instance keeps only its formula.

#include "lowering/gpu/families/Families.h"
#include "lowering/gpu/families/WeightLayout.h"

#include "dialects/plan/IR/PlanOps.h"

namespace fmc::gpu {

namespace {
constexpr uint32_t kThreads = 256;
} // namespace

/// The templates' `kind` codes; fm's enum values are the same numbers, but
/// the kernels must not change meaning if fm's enum grows.
int64_t activationCode(mlir::fm::Activation kind) {
  switch (kind) {
  case mlir::fm::Activation::silu:
    return 0;
  case mlir::fm::Activation::gelu:
    return 1;
  case mlir::fm::Activation::gelu_tanh:
    return 2;
  case mlir::fm::Activation::sigmoid:
    return 3;
  case mlir::fm::Activation::relu:
    return 4;
  }
  return 0;
}

llvm::Error lowerActivation(mlir::Operation *kernel, LaunchBuilder &b) {
  if (auto glu = llvm::dyn_cast<mlir::plan::GluOp>(kernel)) {
    int64_t width = widthOf(glu.getOutput());
    return b.dispatch(
        "glu", {width, activationCode(glu.getKind()), b.rowsSlot()},
        {kThreads, 1, 1}, gridFor(groupsFor(b.maxTokens() * width, kThreads)),
        {b.buffer(glu.getGate()), b.buffer(glu.getUp()),
         b.buffer(glu.getOutput()), b.run()});
  }
  auto op = llvm::cast<mlir::plan::ActivationOp>(kernel);
  int64_t width = widthOf(op.getOutput());
  return b.dispatch("activation", {width, activationCode(op.getKind()), b.rowsSlot()},
                    {kThreads, 1, 1},
                    gridFor(groupsFor(b.maxTokens() * width, kThreads)),
                    {b.buffer(op.getInput()), b.buffer(op.getOutput()),
                     b.run()});
}

} // namespace fmc::gpu
