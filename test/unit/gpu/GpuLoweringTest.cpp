//===- GpuLoweringTest.cpp - specialization, SPIR-V and PTX lowering ------===//

#include "lowering/cuda/PtxLowering.h"
#include "lowering/gpu/KernelTemplates.h"
#include "lowering/spirv/SpirvLowering.h"
#include "test/unit/gpu/ReductionKernel.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/raw_ostream.h"

#include "gtest/gtest.h"

using namespace mlir;

namespace {

class GpuLoweringTest : public ::testing::Test {
protected:
  void SetUp() override {
    fmc::gpu::loadKernelDialects(context);
    auto loaded = fmc::gpu::KernelTemplates::load(context);
    ASSERT_TRUE(static_cast<bool>(loaded)) << llvm::toString(loaded.takeError());
    templates = std::move(*loaded);
    module = fmc::gpu::createKernelsModule(context);
    kernels = fmc::gpu::kernelsOf(*module);
  }

  /// track_sum (y = (a + b) * scale over rows of `width`): a template of
  /// three bindings and a run record, scalar and float specializations.
  std::string specializeSum(int64_t width, uint64_t bytes) {
    llvm::Expected<std::string> name = templates->specialize(
        "track_sum", {width, 1.0, int64_t(0)}, {bytes, bytes, bytes, 16},
        {256, 1, 1}, kernels);
    EXPECT_TRUE(static_cast<bool>(name)) << llvm::toString(name.takeError());
    return name ? *name : "";
  }

  std::string print(Operation *op) {
    std::string text;
    llvm::raw_string_ostream os(text);
    op->print(os);
    return text;
  }

  MLIRContext context;
  std::unique_ptr<fmc::gpu::KernelTemplates> templates;
  OwningOpRef<ModuleOp> module;
  mlir::gpu::GPUModuleOp kernels;
};

TEST_F(GpuLoweringTest, SpecializationMakesShapesConstantAndBindingsStatic) {
  EXPECT_EQ(specializeSum(64, 4 * 64 * 4), "track_sum_0");
  std::string text = print(kernels);
  // Spec arguments are gone, bindings are static memrefs of their bytes,
  // the width is a constant, the workgroup size is recorded.
  EXPECT_NE(text.find("gpu.func @track_sum_0(%arg0: memref<256xf32>, %arg1: "
                      "memref<256xf32>, %arg2: memref<256xf32>, %arg3: "
                      "memref<4xi32>)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("arith.constant 64 : index"), std::string::npos) << text;
  EXPECT_NE(text.find("known_block_size = array<i32: 256, 1, 1>"),
            std::string::npos)
      << text;
}

TEST_F(GpuLoweringTest, IdenticalSpecializationsShareOneKernel) {
  EXPECT_EQ(specializeSum(64, 1024), "track_sum_0");
  EXPECT_EQ(specializeSum(64, 1024), "track_sum_0");
  EXPECT_EQ(specializeSum(32, 1024), "track_sum_1");
}

TEST_F(GpuLoweringTest, WrongArgumentCountsAreReported) {
  llvm::Expected<std::string> name = templates->specialize(
      "track_sum", {int64_t(64)}, {16, 16, 16, 16}, {256, 1, 1}, kernels);
  ASSERT_FALSE(static_cast<bool>(name));
  EXPECT_EQ(llvm::toString(name.takeError()),
            "kernel template @track_sum takes 4 bindings and 3 "
            "specialization values; the lowering gave 4 and 1");
  llvm::Expected<std::string> missing =
      templates->specialize("no_such", {}, {}, {1, 1, 1}, kernels);
  ASSERT_FALSE(static_cast<bool>(missing));
  EXPECT_EQ(llvm::toString(missing.takeError()),
            "no GPU kernel template @no_such");
}

TEST_F(GpuLoweringTest, SpirvIsValidWithOneEntryPointPerKernel) {
  specializeSum(64, 1024);
  specializeSum(32, 1024);
  llvm::Expected<std::vector<uint32_t>> words =
      fmc::spirv::lowerToSpirv(*module, fmc::spirv::SpirvOptions());
  ASSERT_TRUE(static_cast<bool>(words)) << llvm::toString(words.takeError());
  ASSERT_GT(words->size(), 5u);
  EXPECT_EQ((*words)[0], 0x07230203u); // SPIR-V magic
  std::string bytes(reinterpret_cast<const char *>(words->data()),
                    words->size() * 4);
  EXPECT_NE(bytes.find("track_sum_0"), std::string::npos);
  EXPECT_NE(bytes.find("track_sum_1"), std::string::npos);
}

TEST_F(GpuLoweringTest, InvalidSpirvIsRejected) {
  std::vector<uint32_t> words = {0x07230203u, 0x00010300u, 0, 1, 0};
  llvm::Error err = fmc::spirv::validateSpirv(words);
  ASSERT_TRUE(static_cast<bool>(err));
  EXPECT_NE(llvm::toString(std::move(err)).find("fails validation"),
            std::string::npos);
}

TEST_F(GpuLoweringTest, PtxHasOneEntryPerKernelAndAssembles) {
  specializeSum(64, 1024);
  fmc::cuda::PtxOptions options;
  options.chip = "sm_90";
  llvm::Expected<std::string> ptx = fmc::cuda::lowerToPtx(*module, options);
  ASSERT_TRUE(static_cast<bool>(ptx)) << llvm::toString(ptx.takeError());
  EXPECT_NE(ptx->find(".target sm_90"), std::string::npos) << *ptx;
  EXPECT_NE(ptx->find(".entry track_sum_0("), std::string::npos) << *ptx;
  std::string ptxas = FMC_PTXAS_PATH;
  if (ptxas.empty())
    GTEST_SKIP() << "no ptxas (CUDA toolkit) on this machine";
  llvm::Expected<std::string> cubin =
      fmc::cuda::assembleCubin(*ptx, "sm_90", ptxas);
  ASSERT_TRUE(static_cast<bool>(cubin)) << llvm::toString(cubin.takeError());
  EXPECT_EQ(cubin->substr(0, 4), "\x7f"
                                 "ELF");
}

TEST_F(GpuLoweringTest, BrokenPtxIsReportedWithPtxasLog) {
  std::string ptxas = FMC_PTXAS_PATH;
  if (ptxas.empty())
    GTEST_SKIP() << "no ptxas (CUDA toolkit) on this machine";
  llvm::Expected<std::string> cubin =
      fmc::cuda::assembleCubin(".version 8.0\n.target sm_90\nbogus", "sm_90",
                               ptxas);
  ASSERT_FALSE(static_cast<bool>(cubin));
  EXPECT_NE(llvm::toString(cubin.takeError()).find("ptxas -arch=sm_90 failed"),
            std::string::npos);
}


TEST_F(GpuLoweringTest, MathSubgroupsAndWorkgroupMemoryLowerForBothTargets) {
  OwningOpRef<ModuleOp> kernel =
      parseSourceString<ModuleOp>(fmc::test::kReductionKernel, &context);
  ASSERT_TRUE(kernel);
  llvm::Expected<std::vector<uint32_t>> words =
      fmc::spirv::lowerToSpirv(*kernel, fmc::spirv::SpirvOptions());
  ASSERT_TRUE(static_cast<bool>(words)) << llvm::toString(words.takeError());

  fmc::cuda::PtxOptions options;
  options.chip = "sm_80";
  llvm::Expected<std::string> ptx = fmc::cuda::lowerToPtx(*kernel, options);
  ASSERT_TRUE(static_cast<bool>(ptx)) << llvm::toString(ptx.takeError());
  // Warp shuffles for the reduction, shared memory, no libdevice calls.
  EXPECT_NE(ptx->find("shfl.sync.bfly"), std::string::npos) << *ptx;
  EXPECT_NE(ptx->find(".shared"), std::string::npos) << *ptx;
  EXPECT_EQ(ptx->find("__nv_"), std::string::npos) << *ptx;
  std::string ptxas = FMC_PTXAS_PATH;
  if (ptxas.empty())
    GTEST_SKIP() << "no ptxas (CUDA toolkit) on this machine";
  llvm::Expected<std::string> cubin =
      fmc::cuda::assembleCubin(*ptx, "sm_80", ptxas);
  ASSERT_TRUE(static_cast<bool>(cubin)) << llvm::toString(cubin.takeError());
}

} // namespace
