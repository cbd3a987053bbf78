//===- MetalTargetTest.cpp - the Metal target on the GPU core's SPIR-V ----===//
//
// translateSpirvToMsl on what the GPU core really produces: kernel
// templates specialized per instance (lowering/gpu) and lowered to SPIR-V
// (lowering/spirv), as fmc-compile --target=metal runs them.
//
//===----------------------------------------------------------------------===//

#include "lowering/gpu/GpuProgram.h"
#include "lowering/gpu/KernelTemplates.h"
#include "lowering/metal/MslTranslation.h"
#include "lowering/spirv/SpirvLowering.h"
#include "test/unit/gpu/ReductionKernel.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

namespace {

class MetalTargetTest : public ::testing::Test {
protected:
  void SetUp() override {
    fmc::gpu::loadKernelDialects(context);
    auto loaded = fmc::gpu::KernelTemplates::load(context);
    ASSERT_TRUE(static_cast<bool>(loaded)) << llvm::toString(loaded.takeError());
    templates = std::move(*loaded);
    module = fmc::gpu::createKernelsModule(context);
    kernels = fmc::gpu::kernelsOf(*module);
  }

  /// Specializes track_sum (y = (a + b) * scale) for `width` f32 columns
  /// of `rows` rows, after a last_row kernel when `slot` is 1.
  fmc::gpu::EntryPoint specialize(double scale, int64_t width, uint64_t rows,
                                  int64_t slot, uint32_t workgroup) {
    uint64_t bytes = width * rows * 4;
    llvm::Expected<std::string> kernel = templates->specialize(
        "track_sum", {width, scale, slot}, {bytes, bytes, bytes, 16},
        {workgroup, 1, 1}, kernels);
    EXPECT_TRUE(static_cast<bool>(kernel))
        << llvm::toString(kernel.takeError());
    fmc::gpu::EntryPoint ep;
    ep.name = kernel ? *kernel : "";
    ep.workgroupSize = {workgroup, 1, 1};
    ep.bindings = 4;
    return ep;
  }

  llvm::Expected<std::string> translate(mlir::ModuleOp kernelsModule,
                                        std::vector<fmc::gpu::EntryPoint> eps) {
    llvm::Expected<std::vector<uint32_t>> words =
        fmc::spirv::lowerToSpirv(kernelsModule, fmc::spirv::SpirvOptions());
    if (!words)
      return words.takeError();
    return fmc::metal::translateSpirvToMsl(*words, eps);
  }

  mlir::MLIRContext context;
  std::unique_ptr<fmc::gpu::KernelTemplates> templates;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  mlir::gpu::GPUModuleOp kernels;
};

TEST_F(MetalTargetTest, SpecializedKernelsBecomeOneMslSource) {
  std::vector<fmc::gpu::EntryPoint> eps = {
      specialize(1.0, 64, 4, 0, 256), specialize(0.5, 64, 4, 1, 128),
      specialize(0.25, 32, 4, 0, 64)};
  llvm::Expected<std::string> msl = translate(*module, eps);
  ASSERT_TRUE(static_cast<bool>(msl)) << llvm::toString(msl.takeError());
  for (const fmc::gpu::EntryPoint &ep : eps) {
    SCOPED_TRACE(ep.name);
    size_t at = msl->find("kernel void " + ep.name + "(");
    ASSERT_NE(at, std::string::npos) << *msl;
    std::string signature = msl->substr(at, msl->find('\n', at) - at);
    // Bindings 0..3 are buffers 0..3; the run record is the last.
    for (int i = 0; i < 4; ++i)
      EXPECT_NE(signature.find("[[buffer(" + std::to_string(i) + ")]]"),
                std::string::npos)
          << signature;
    EXPECT_NE(signature.find("[[thread_position_in_threadgroup]]"),
              std::string::npos)
        << signature;
    uint32_t threads = ep.workgroupSize[0];
    EXPECT_NE(msl->rfind("[[max_total_threads_per_threadgroup(" +
                             std::to_string(threads) + ")]] ",
                         at),
              std::string::npos);
  }
  // One preamble for all.
  EXPECT_EQ(msl->find("#include <metal_stdlib>"),
            msl->rfind("#include <metal_stdlib>"));
}

TEST_F(MetalTargetTest, AWorkgroupSizeTheKernelWasNotBuiltForIsAnError) {
  std::vector<fmc::gpu::EntryPoint> eps = {specialize(1.0, 64, 4, 0, 256)};
  eps[0].workgroupSize = {128, 1, 1};
  llvm::Expected<std::string> msl = translate(*module, eps);
  ASSERT_FALSE(static_cast<bool>(msl));
  EXPECT_EQ(llvm::toString(msl.takeError()),
            "MSL: entry point '" + eps[0].name +
                "' has LocalSize 256x1x1 in SPIR-V but its dispatches use "
                "workgroups of 128x1x1");
}


TEST_F(MetalTargetTest, ReductionsUseSimdgroupsAndThreadgroupMemory) {
  mlir::OwningOpRef<mlir::ModuleOp> kernel =
      mlir::parseSourceString<mlir::ModuleOp>(fmc::test::kReductionKernel,
                                              &context);
  ASSERT_TRUE(kernel);
  fmc::gpu::EntryPoint ep;
  ep.name = "reduce";
  ep.workgroupSize = {64, 1, 1};
  ep.bindings = 2;
  llvm::Expected<std::string> msl = translate(*kernel, {ep});
  ASSERT_TRUE(static_cast<bool>(msl)) << llvm::toString(msl.takeError());
  EXPECT_NE(msl->find("[[max_total_threads_per_threadgroup(64)]] kernel void "
                      "reduce("),
            std::string::npos)
      << *msl;
  EXPECT_NE(msl->find("simd_sum("), std::string::npos) << *msl;
  // The subgroup size: the SIMD width, as kernels read it.
  EXPECT_NE(msl->find("uint gl_SubgroupSize [[thread_execution_width]]"),
            std::string::npos)
      << *msl;
  EXPECT_NE(msl->find("threadgroup_barrier(mem_flags::mem_threadgroup)"),
            std::string::npos)
      << *msl;
  EXPECT_NE(msl->find("exp("), std::string::npos) << *msl;
  size_t body = msl->find("kernel void reduce(");
  EXPECT_NE(msl->find("threadgroup ", msl->find('{', body)), std::string::npos)
      << *msl;
}

} // namespace
