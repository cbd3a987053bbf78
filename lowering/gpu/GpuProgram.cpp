//===- GpuProgram.cpp - a plan's programs as GPU dispatch lists -----------===//

#include "lowering/gpu/GpuProgram.h"

#include "dialects/plan/IR/PlanOps.h"
#include "lowering/gpu/KernelTemplates.h"
#include "lowering/gpu/LaunchBuilder.h"
#include "lowering/plan/Passes.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/PassManager.h"


using namespace mlir;

namespace fmc::gpu {

/// Gives every kernel of a program that has no dispatches yet (a plan
/// written by hand or by fm-to-plan alone) a dispatch of its own: the plan
/// then lowers kernel by kernel, with its buffers where they are.
static llvm::Error formDispatches(ModuleOp planModule) {
  bool unformed = false;
  for (plan::ProgramOp program : planModule.getOps<plan::ProgramOp>())
    unformed |= !llvm::any_of(program.getBody().front(), [](Operation &op) {
      return isa<plan::DispatchOp>(op);
    });
  if (!unformed)
    return llvm::Error::success();
  std::string diagnostics;
  llvm::raw_string_ostream os(diagnostics);
  ScopedDiagnosticHandler handler(planModule.getContext(), [&](Diagnostic &d) {
    os << d << "\n";
    return success();
  });
  // Not verified here: the families report what they cannot lower, in
  // their terms (a hand-written plan may leave buffers unwritten).
  PassManager pm(planModule.getContext());
  pm.enableVerifier(false);
  plan::FormDispatchesOptions options;
  options.fuse = false;
  pm.addPass(plan::createFormDispatches(options));
  if (failed(pm.run(planModule)))
    return llvm::createStringError("forming the plan's dispatches failed:\n" +
                                   diagnostics);
  return llvm::Error::success();
}

llvm::Expected<GpuProgram> buildGpuProgram(ModuleOp planModule) {
  MLIRContext &context = *planModule.getContext();
  if (llvm::Error err = formDispatches(planModule))
    return std::move(err);
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
