//===- Elementwise.cpp - plan.add and plan.mul on the GPU -----------------===//
//
// One thread per output element of the run's rows; the grid covers
// max_tokens rows and threads past rows * width return.

#include "lowering/gpu/families/Families.h"

#include "dialects/plan/IR/PlanOps.h"

#include "llvm/ADT/TypeSwitch.h"

namespace fmc::gpu {

namespace {
constexpr uint32_t kThreads = 256;

uint32_t groupsFor(int64_t elements) {
  return static_cast<uint32_t>((elements + kThreads - 1) / kThreads);
}
} // namespace

llvm::Error lowerElementwise(mlir::Operation *kernel, LaunchBuilder &b) {
  auto [lhs, rhs, out, templateName] =
      llvm::TypeSwitch<mlir::Operation *,
                       std::tuple<mlir::Value, mlir::Value, mlir::Value,
                                  llvm::StringRef>>(kernel)
          .Case([](mlir::plan::AddOp op) {
            return std::make_tuple(op.getLhs(), op.getRhs(), op.getOutput(),
                                   llvm::StringRef("add"));
          })
          .Case([](mlir::plan::MulOp op) {
            auto rhsType = llvm::cast<mlir::plan::RowsType>(op.getRhs().getType());
            return std::make_tuple(op.getLhs(), op.getRhs(), op.getOutput(),
                                   llvm::StringRef(rhsType.getWidth() == 1
                                                       ? "mul_broadcast"
                                                       : "mul"));
          });
  int64_t width = llvm::cast<mlir::plan::RowsType>(out.getType()).getWidth();
  return b.dispatch(templateName, {width, b.rowsSlot()}, {kThreads, 1, 1},
                    {groupsFor(b.maxTokens() * width), 1, 1},
                    {b.buffer(lhs), b.buffer(rhs), b.buffer(out), b.run()});
}

} // namespace fmc::gpu
