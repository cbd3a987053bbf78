//===- SpirvLowering.cpp - the kernels module to one SPIR-V module --------===//

#include "lowering/spirv/SpirvLowering.h"

#include "lowering/gpu/GridDependency.h"
#include "lowering/spirv/ZeroTripLoopGuard.h"
#include "lowering/gpu/generator/Intrinsics.h"

#include "mlir/Conversion/GPUToSPIRV/GPUToSPIRVPass.h"
#include "mlir/Conversion/MathToSPIRV/MathToSPIRVPass.h"
#include "mlir/Conversion/MemRefToSPIRV/MemRefToSPIRVPass.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SPIRV/IR/SPIRVDialect.h"
#include "mlir/Dialect/SPIRV/IR/SPIRVOps.h"
#include "mlir/Dialect/SPIRV/IR/TargetAndABI.h"
#include "mlir/Dialect/SPIRV/Transforms/Passes.h"
#include "mlir/AsmParser/AsmParser.h"
#include "mlir/IR/Builders.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/SPIRV/Serialization.h"
#include "mlir/Transforms/Passes.h"

#include "spirv-tools/libspirv.hpp"

#include <string>

using namespace mlir;

namespace fmc::spirv {

namespace {

llvm::Error fail(const llvm::Twine &message) {
  return llvm::createStringError(message);
}

/// SPIR-V entry functions cannot carry workgroup attributions: each becomes
/// a workgroup-memory allocation (storage class Workgroup) at the entry.
void workgroupAttributionsToAllocs(mlir::gpu::GPUFuncOp func) {
  unsigned count = func.getNumWorkgroupAttributions();
  if (count == 0)
    return;
  Block &entry = func.getBody().front();
  OpBuilder builder = OpBuilder::atBlockBegin(&entry);
  unsigned first = func.getNumArguments();
  for (unsigned i = 0; i < count; ++i) {
    BlockArgument arg = entry.getArgument(first + i);
    auto type = cast<MemRefType>(arg.getType());
    // Numeric space 3 is what the Vulkan storage-class mapping calls
    // Workgroup.
    auto allocType = MemRefType::get(type.getShape(), type.getElementType(),
                                     MemRefLayoutAttrInterface(),
                                     builder.getI64IntegerAttr(3));
    Value alloc = memref::AllocOp::create(builder, func.getLoc(), allocType);
    arg.replaceAllUsesWith(alloc);
  }
  entry.eraseArguments(first, count);
  func->setAttr(mlir::gpu::GPUFuncOp::getNumWorkgroupAttributionsAttrName(),
                builder.getI64IntegerAttr(0));
}

} // namespace

llvm::Expected<std::vector<uint32_t>> lowerToSpirv(ModuleOp kernels,
                                                   const SpirvOptions &options) {
  MLIRContext &context = *kernels.getContext();
  context.loadDialect<mlir::spirv::SPIRVDialect>();
  OwningOpRef<ModuleOp> module(cast<ModuleOp>(kernels->clone()));
  // Only the gpu.module is code; the launch lists beside it name its kernels
  // by symbol and would dangle once the kernels become a binary.
  for (Operation &op : llvm::make_early_inc_range(module->getOps()))
    if (!isa<mlir::gpu::GPUModuleOp>(op))
      op.erase();

  std::string env =
      "#spirv.target_env<#spirv.vce<v1.3, [Shader, Float16, Int16, Int64, "
      "StorageBuffer16BitAccess, GroupNonUniform, GroupNonUniformArithmetic, "
      "GroupNonUniformShuffle, GroupNonUniformBallot], "
      "[SPV_KHR_16bit_storage, SPV_KHR_storage_buffer_storage_class]>, "
      "#spirv.resource_limits<subgroup_size = " +
      std::to_string(options.subgroupSize) + ">>";
  Attribute targetEnv = parseAttribute(env, &context);
  for (auto gpuModule : module->getOps<mlir::gpu::GPUModuleOp>()) {
    if (failed(fmc::gpu::resolveIntrinsicsPortably(gpuModule)))
      return fail("SPIR-V lowering: resolving intrinsics failed");
    // Vulkan and Metal have no programmatic dependent launch: the markers
    // of where a kernel waits for its predecessor mean nothing here.
    fmc::gpu::eraseGridDependencyMarkers(gpuModule);
    gpuModule->setAttr(mlir::spirv::getTargetEnvAttrName(), targetEnv);
    for (auto func : gpuModule.getOps<mlir::gpu::GPUFuncOp>()) {
      workgroupAttributionsToAllocs(func);
      SmallVector<int32_t, 3> workgroup = {1, 1, 1};
      if (std::optional<llvm::ArrayRef<int32_t>> size = func.getKnownBlockSize())
        workgroup.assign(size->begin(), size->end());
      func->setAttr(mlir::spirv::getEntryPointABIAttrName(),
                    mlir::spirv::getEntryPointABIAttr(&context, workgroup));
    }
  }

  PassManager pm(&context);
  pm.addPass(createZeroTripLoopGuardPass());
  pm.addPass(createMapMemRefStorageClassPass());
  // convert-gpu-to-spirv leaves math functions alone: GLSL extended
  // instructions first.
  pm.nest<mlir::gpu::GPUModuleOp>().addPass(createConvertMathToSPIRVPass());
  pm.addPass(createConvertGPUToSPIRVPass());
  OpPassManager &spirvModule = pm.nest<mlir::spirv::ModuleOp>();
  spirvModule.addPass(mlir::spirv::createSPIRVLowerABIAttributesPass());
  spirvModule.addPass(mlir::spirv::createSPIRVUpdateVCEPass());

  std::string diagnostics;
  {
    llvm::raw_string_ostream os(diagnostics);
    ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diag) {
      os << diag << "\n";
      for (Diagnostic &note : diag.getNotes())
        os << "  note: " << note << "\n";
      return success();
    });
    if (failed(pm.run(*module)))
      return fail("SPIR-V lowering failed:\n" + diagnostics);
  }

  auto spirvModules = module->getOps<mlir::spirv::ModuleOp>();
  if (spirvModules.empty())
    return fail("SPIR-V lowering produced no spirv.module");
  SmallVector<uint32_t> binary;
  if (failed(mlir::spirv::serialize(*spirvModules.begin(), binary)))
    return fail("SPIR-V serialization failed");
  std::vector<uint32_t> words(binary.begin(), binary.end());
  if (llvm::Error err = validateSpirv(words))
    return err;
  return words;
}

llvm::Error validateSpirv(const std::vector<uint32_t> &words) {
  spvtools::SpirvTools tools(SPV_ENV_VULKAN_1_1);
  std::string messages;
  tools.SetMessageConsumer([&](spv_message_level_t, const char *,
                               const spv_position_t &position,
                               const char *message) {
    messages += "  word " + std::to_string(position.index) + ": " + message +
                "\n";
  });
  if (!tools.Validate(words))
    return fail("generated SPIR-V fails validation:\n" + messages);
  return llvm::Error::success();
}

} // namespace fmc::spirv
