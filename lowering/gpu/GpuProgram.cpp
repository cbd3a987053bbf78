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
  std::optional<llvm::Error> failure;

  for (plan::ProgramOp program : planModule.getOps<plan::ProgramOp>()) {
    DispatchList *list = program.getSymName() == "prefill" ? &result.prefill
                         : program.getSymName() == "decode"
                             ? &result.decode
                             : nullptr;
    if (!list)
      continue;
    LaunchBuilder launches(planModule, program, **templates, result, *list);
    // Kernels are numbered as the artifact lists them: in program order,
    // dispatch bodies inline.
    uint32_t index = 0;
    WalkResult walk = program.walk([&](plan::KernelOpInterface kernel) {
      launches.setKernel(index++);
      if (llvm::Error err = lowerKernel(kernel, launches)) {
        failure = llvm::createStringError(
            "GPU lowering of kernel " + llvm::Twine(index - 1) + " (" +
            kernel->getName().getStringRef() + ") of @" +
            program.getSymName() + ": " + llvm::toString(std::move(err)));
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      return std::move(*failure);
  }
  return result;
}

} // namespace fmc::gpu
