//===- Collective.cpp - plan.all_reduce between GPU launches --------------===//
//
// A track- or tensor-parallel part sums partial results across the ranks
// with plan.all_reduce. On a GPU that is no kernel: the launch list gets a
// plan.collective_launch over the same arena buffers, which the runtime
// hands to the run's collective engine (NCCL) on the program's stream,
// ordered with the kernels before and after it.
//
//===----------------------------------------------------------------------===//

#include "lowering/gpu/families/Families.h"

#include "dialects/plan/IR/PlanOps.h"

namespace fmc::gpu {

llvm::Error lowerAllReduce(mlir::Operation *kernel, LaunchBuilder &builder) {
  auto reduce = llvm::cast<mlir::plan::AllReduceOp>(kernel);
  std::vector<Binding> inputs, outputs;
  for (mlir::Value in : reduce.getInputs())
    inputs.push_back(builder.buffer(in));
  for (mlir::Value out : reduce.getOutputs())
    outputs.push_back(builder.buffer(out));
  builder.collective(std::move(inputs), std::move(outputs));
  return llvm::Error::success();
}

} // namespace fmc::gpu
