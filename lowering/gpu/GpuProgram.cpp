//===- GpuProgram.cpp - a plan's programs as GPU dispatch lists -----------===//

#include "lowering/gpu/GpuProgram.h"

#include "dialects/plan/IR/PlanOps.h"
#include "lowering/gpu/KernelTemplates.h"
#include "lowering/gpu/LaunchBuilder.h"


using namespace mlir;

namespace fmc::gpu {

llvm::Expected<GpuProgram> buildGpuProgram(ModuleOp planModule) {
  MLIRContext &context = *planModule.getContext();
  llvm::Expected<std::unique_ptr<KernelTemplates>> templates =
      KernelTemplates::load(context);
  if (!templates)
    return templates.takeError();

  GpuProgram result;
  result.kernels = createKernelsModule(context);

  for (plan::ProgramOp program : planModule.getOps<plan::ProgramOp>()) {
    DispatchList *list = program.getSymName() == "prefill" ? &result.prefill
                         : program.getSymName() == "decode"
                             ? &result.decode
                             : nullptr;
    if (!list)
      continue;
    LaunchBuilder launches(planModule, program, **templates, result, *list);
    // Kernels are numbered as the artifact lists them: in program order,
    // dispatch bodies inline; a dispatch's launches name its first kernel.
    uint32_t index = 0;
    for (Operation &op : program.getBody().front()) {
      if (isa<plan::KernelOpInterface>(op))
        return llvm::createStringError(
            "GPU lowering of @" + program.getSymName() + ": kernel '" +
            op.getName().getStringRef() +
            "' is in no plan.dispatch (run plan-form-dispatches first)");
      auto dispatch = dyn_cast<plan::DispatchOp>(op);
      if (!dispatch)
        continue;
      launches.setKernel(index);
      Operation *first = *dispatch.getKernels().begin();
      if (llvm::Error err = lowerDispatch(dispatch, launches))
        return llvm::createStringError(
            "GPU lowering of kernel " + llvm::Twine(index) + " (" +
            first->getName().getStringRef() + ") of @" + program.getSymName() +
            ": " + llvm::toString(std::move(err)));
      index += llvm::range_size(dispatch.getKernels());
    }
  }
  return result;
}

} // namespace fmc::gpu
