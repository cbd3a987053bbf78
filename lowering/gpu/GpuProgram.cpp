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
    if (program.getSymName() != "prefill" && program.getSymName() != "decode")
      continue;
    LaunchBuilder launches(planModule, program, **templates, result);
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
  result.entryPoints = entryPointsOf(*result.kernels);
  for (auto [name, list] : {std::pair<StringRef, DispatchList *>{
                                "prefill", &result.prefill},
                            {"decode", &result.decode}}) {
    llvm::Expected<DispatchList> read =
        dispatchListOf(*result.kernels, name, result.entryPoints);
    if (!read)
      return read.takeError();
    *list = std::move(*read);
  }
  return result;
}

static_assert(static_cast<int>(Memory::Arena) ==
                  static_cast<int>(plan::BindingMemory::arena) &&
              static_cast<int>(Memory::Weights) ==
                  static_cast<int>(plan::BindingMemory::weights) &&
              static_cast<int>(Memory::Caches) ==
                  static_cast<int>(plan::BindingMemory::caches) &&
              static_cast<int>(Memory::Scratch) ==
                  static_cast<int>(plan::BindingMemory::scratch) &&
              static_cast<int>(Memory::Run) ==
                  static_cast<int>(plan::BindingMemory::run),
              "gpu::Memory and plan::BindingMemory number alike");

Attribute bindingAttr(MLIRContext *ctx, const Binding &binding) {
  auto memory = static_cast<plan::BindingMemory>(binding.memory);
  FlatSymbolRefAttr symbol =
      binding.symbol.empty() ? nullptr
                             : FlatSymbolRefAttr::get(ctx, binding.symbol);
  return plan::BindingAttr::get(ctx, memory, symbol, binding.offset,
                                binding.bytes);
}

Binding bindingOf(Attribute attr) {
  auto b = cast<plan::BindingAttr>(attr);
  Binding binding;
  binding.memory = static_cast<Memory>(b.getMemory());
  if (b.getSymbol())
    binding.symbol = b.getSymbol().getValue().str();
  binding.offset = b.getOffset();
  binding.bytes = b.getBytes();
  return binding;
}

std::vector<EntryPoint> entryPointsOf(ModuleOp kernels) {
  std::vector<EntryPoint> entries;
  for (auto gpuModule : kernels.getOps<mlir::gpu::GPUModuleOp>())
    for (auto func : gpuModule.getOps<mlir::gpu::GPUFuncOp>()) {
      if (!func.isKernel())
        continue;
      EntryPoint entry;
      entry.name = func.getName().str();
      if (std::optional<ArrayRef<int32_t>> size = func.getKnownBlockSize())
        for (size_t i = 0; i < std::min<size_t>(3, size->size()); ++i)
          entry.workgroupSize[i] = static_cast<uint32_t>((*size)[i]);
      entry.bindings = func.getNumArguments();
      entries.push_back(std::move(entry));
    }
  return entries;
}

llvm::Expected<DispatchList> dispatchListOf(ModuleOp kernels,
                                            StringRef program,
                                            ArrayRef<EntryPoint> entries) {
  DispatchList list;
  auto launches = kernels.lookupSymbol<plan::LaunchListOp>(program);
  if (!launches)
    return list;
  list.scratchBytes = static_cast<uint64_t>(launches.getScratchBytes());
  for (Operation &op : launches.getBody().front()) {
    Dispatch dispatch;
    if (auto collective = dyn_cast<plan::CollectiveLaunchOp>(op)) {
      dispatch.collective = true;
      dispatch.kernel = static_cast<uint32_t>(collective.getSource());
      for (Attribute attr : collective.getBindings())
        dispatch.bindings.push_back(bindingOf(attr));
      list.dispatches.push_back(std::move(dispatch));
      continue;
    }
    auto launch = dyn_cast<plan::LaunchOp>(op);
    if (!launch)
      continue;
    StringRef name = launch.getKernel().getLeafReference().getValue();
    auto it = llvm::find_if(
        entries, [&](const EntryPoint &e) { return e.name == name; });
    if (it == entries.end())
      return llvm::createStringError("launch of @" + name +
                                     ", which is no kernel of the module");
    dispatch.entry = static_cast<uint32_t>(it - entries.begin());
    ArrayRef<int32_t> grid = launch.getGrid();
    for (size_t i = 0; i < 3; ++i)
      dispatch.grid[i] = static_cast<uint32_t>(grid[i]);
    dispatch.kernel = static_cast<uint32_t>(launch.getSource());
    for (Attribute attr : launch.getBindings())
      dispatch.bindings.push_back(bindingOf(attr));
    list.dispatches.push_back(std::move(dispatch));
  }
  return list;
}

} // namespace fmc::gpu
