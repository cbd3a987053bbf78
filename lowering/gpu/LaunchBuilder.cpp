//===- LaunchBuilder.cpp - what a kernel family's GPU lowering sees -------===//

#include "lowering/gpu/LaunchBuilder.h"

#include "dialects/plan/IR/PlanOps.h"
#include "lowering/gpu/KernelTemplates.h"

#include "mlir/IR/SymbolTable.h"

#include <algorithm>

using namespace mlir;

namespace fmc::gpu {

namespace {
constexpr uint64_t kScratchAlignment = 256;
constexpr uint64_t kRunRecordBytes = 16;
} // namespace

LaunchBuilder::LaunchBuilder(ModuleOp planModule, Operation *program,
                             KernelTemplates &templates, GpuProgram &output)
    : planModule(planModule), templates(templates), output(output) {
  auto planProgram = cast<plan::ProgramOp>(program);
  maxRows = planProgram.getMaxTokens();
  ModuleOp kernels = *output.kernels;
  launchList = kernels.lookupSymbol<plan::LaunchListOp>(
      planProgram.getSymNameAttr());
  if (!launchList) {
    OpBuilder builder = OpBuilder::atBlockEnd(kernels.getBody());
    launchList = plan::LaunchListOp::create(
        builder, planProgram.getLoc(), planProgram.getSymNameAttr(),
        builder.getI64IntegerAttr(0));
    launchList.getBody().emplaceBlock();
  }
}

Binding LaunchBuilder::buffer(Value rows) const {
  auto buffer = rows.getDefiningOp<plan::BufferOp>();
  auto type = cast<plan::RowsType>(rows.getType());
  Binding binding;
  binding.memory = Memory::Arena;
  binding.offset = buffer ? buffer.getOffset() : 0;
  binding.bytes = static_cast<uint64_t>(maxRows) * type.getRowBytes();
  return binding;
}

fm::ParamOp LaunchBuilder::param(FlatSymbolRefAttr symbol) const {
  return SymbolTable::lookupNearestSymbolFrom<fm::ParamOp>(planModule, symbol);
}

Binding LaunchBuilder::weight(FlatSymbolRefAttr symbol) const {
  Binding binding;
  binding.memory = Memory::Weights;
  binding.symbol = symbol.getValue().str();
  // Whole 32-bit words: the artifact pads tensors to 64 bytes.
  if (fm::ParamOp op = param(symbol))
    binding.bytes = (op.getStorageBytes() + 3) / 4 * 4;
  return binding;
}

fm::KVCacheOp LaunchBuilder::cacheOp(FlatSymbolRefAttr symbol) const {
  return SymbolTable::lookupNearestSymbolFrom<fm::KVCacheOp>(planModule,
                                                             symbol);
}

Binding LaunchBuilder::cache(FlatSymbolRefAttr symbol) const {
  Binding binding;
  binding.memory = Memory::Caches;
  binding.symbol = symbol.getValue().str();
  if (fm::KVCacheOp op = cacheOp(symbol))
    binding.bytes = op.getTotalBytes();
  return binding;
}

Binding LaunchBuilder::scratch(uint64_t bytes) {
  Binding binding;
  binding.memory = Memory::Scratch;
  binding.offset = kernelScratch;
  binding.bytes = bytes;
  kernelScratch +=
      (bytes + kScratchAlignment - 1) / kScratchAlignment * kScratchAlignment;
  if (kernelScratch > launchList.getScratchBytes())
    launchList.setScratchBytes(kernelScratch);
  return binding;
}

Binding LaunchBuilder::run() const {
  Binding binding;
  binding.memory = Memory::Run;
  binding.bytes = kRunRecordBytes;
  return binding;
}

llvm::Error LaunchBuilder::checkGrid(llvm::StringRef name,
                                     std::array<uint32_t, 3> grid) const {
  for (uint32_t size : grid)
    if (size == 0)
      return llvm::createStringError("dispatch of @" + name +
                                     " over an empty grid");
  return llvm::Error::success();
}

llvm::Error LaunchBuilder::dispatch(llvm::StringRef name,
                                    llvm::ArrayRef<SpecValue> spec,
                                    std::array<uint32_t, 3> workgroup,
                                    std::array<uint32_t, 3> grid,
                                    std::vector<Binding> bindings) {
  if (llvm::Error err = checkGrid(name, grid))
    return err;
  SmallVector<uint64_t> bytes;
  for (const Binding &binding : bindings)
    bytes.push_back(binding.bytes);
  mlir::gpu::GPUModuleOp kernels = kernelsOf(*output.kernels);
  llvm::Expected<std::string> function =
      templates.specialize(name, spec, bytes, workgroup, kernels);
  if (!function)
    return function.takeError();
  record(*function, workgroup, grid, std::move(bindings));
  return llvm::Error::success();
}

llvm::Error LaunchBuilder::dispatchGenerated(llvm::StringRef name,
                                             KernelGenerator build,
                                             std::array<uint32_t, 3> workgroup,
                                             std::array<uint32_t, 3> grid,
                                             std::vector<Binding> bindings) {
  if (llvm::Error err = checkGrid(name, grid))
    return err;
  mlir::gpu::GPUModuleOp kernels = kernelsOf(*output.kernels);
  ImplicitLocOpBuilder builder(kernels.getLoc(), kernels.getContext());
  builder.setInsertionPointToEnd(kernels.getBody());
  mlir::gpu::GPUFuncOp func = build(builder);
  llvm::Expected<std::string> function =
      templates.insert(name, func, kernels);
  if (!function)
    return function.takeError();
  record(*function, workgroup, grid, std::move(bindings));
  return llvm::Error::success();
}

void LaunchBuilder::record(const std::string &function,
                           std::array<uint32_t, 3> workgroup,
                           std::array<uint32_t, 3> grid,
                           std::vector<Binding> bindings) {
  // The launch is IR (plan.launch in the program's plan.launch_list); the
  // dispatch lists are read back from it (dispatchListOf).
  MLIRContext *ctx = planModule.getContext();
  SmallVector<Attribute> attrs;
  for (const Binding &binding : bindings)
    attrs.push_back(bindingAttr(ctx, binding));
  OpBuilder builder = OpBuilder::atBlockEnd(&launchList.getBody().front());
  plan::LaunchOp::create(
      builder, launchList.getLoc(),
      SymbolRefAttr::get(ctx, "kernels",
                         {FlatSymbolRefAttr::get(ctx, function)}),
      builder.getDenseI32ArrayAttr({static_cast<int32_t>(grid[0]),
                                    static_cast<int32_t>(grid[1]),
                                    static_cast<int32_t>(grid[2])}),
      builder.getI32IntegerAttr(static_cast<int32_t>(kernelIndex)),
      builder.getArrayAttr(attrs));
  (void)workgroup; // The kernel function records it (known_block_size).
}

void LaunchBuilder::collective(std::vector<Binding> inputs,
                               std::vector<Binding> outputs) {
  MLIRContext *ctx = planModule.getContext();
  SmallVector<Attribute> attrs;
  for (const std::vector<Binding> *side : {&inputs, &outputs})
    for (const Binding &binding : *side)
      attrs.push_back(bindingAttr(ctx, binding));
  OpBuilder builder = OpBuilder::atBlockEnd(&launchList.getBody().front());
  plan::CollectiveLaunchOp::create(
      builder, launchList.getLoc(),
      builder.getI32IntegerAttr(static_cast<int32_t>(kernelIndex)),
      builder.getArrayAttr(attrs));
}

} // namespace fmc::gpu
