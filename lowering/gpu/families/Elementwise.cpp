//===- Elementwise.cpp - plan.add and plan.mul on the GPU -----------------===//
//
// One thread per output element of the run's rows; the grid covers
// max_tokens rows and threads past rows * width return.

#include "lowering/gpu/families/Families.h"

#include "dialects/plan/IR/PlanOps.h"


namespace fmc::gpu {

namespace {
constexpr uint32_t kThreads = 256;

uint32_t groupsFor(int64_t elements) {
  return static_cast<uint32_t>((elements + kThreads - 1) / kThreads);
}
} // namespace

llvm::Error lowerElementwise(mlir::Operation *kernel, LaunchBuilder &b) {
  // Both families are (lhs, rhs, output); a width-1 rhs of plan.mul
  // broadcasts over the row.
  mlir::Value lhs = kernel->getOperand(0), rhs = kernel->getOperand(1),
              out = kernel->getOperand(2);
  llvm::StringRef name = "add";
  if (llvm::isa<mlir::plan::MulOp>(kernel))
    name = llvm::cast<mlir::plan::RowsType>(rhs.getType()).getWidth() == 1
               ? "mul_broadcast"
               : "mul";
  int64_t width = llvm::cast<mlir::plan::RowsType>(out.getType()).getWidth();
  return b.dispatch(name, {width, b.rowsSlot()}, {kThreads, 1, 1},
                    {groupsFor(b.maxTokens() * width), 1, 1},
                    {b.buffer(lhs), b.buffer(rhs), b.buffer(out), b.run()});
}

} // namespace fmc::gpu
