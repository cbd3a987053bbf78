//===- GridDependencyTest.cpp - griddepcontrol on sm_90, nothing elsewhere ===//
//
// The grid dependency markers (lowering/gpu/GridDependency.h) through the
// PTX and SPIR-V lowerings: on sm_90 every kernel waits for its predecessor
// (where its marker says, else at its entry) and the launch_dependents
// marker becomes the instruction; sm_80 PTX and SPIR-V carry no trace of
// either; ptxas assembles both PTX.
//
//===----------------------------------------------------------------------===//

#include "lowering/cuda/PtxLowering.h"
#include "lowering/gpu/GridDependency.h"
#include "lowering/gpu/KernelTemplates.h"
#include "lowering/spirv/SpirvLowering.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/raw_ostream.h"

#include "gtest/gtest.h"

using namespace mlir;

namespace {

/// Two kernels: @plain calls no marker; @marked reads its weights, then
/// waits, writes, and lets its successor start.
constexpr const char *kKernels = R"mlir(
module attributes {gpu.container_module} {
  gpu.module @kernels {
    func.func private @fmc_pdl_wait()
    func.func private @fmc_pdl_launch_dependents()
    gpu.func @plain(%out: memref<64xf32>) kernel
        attributes {known_block_size = array<i32: 64, 1, 1>} {
      %i = gpu.thread_id x
      %one = arith.constant 1.0 : f32
      memref.store %one, %out[%i] : memref<64xf32>
      gpu.return
    }
    gpu.func @marked(%w: memref<64xf32>, %out: memref<64xf32>) kernel
        attributes {known_block_size = array<i32: 64, 1, 1>} {
      %i = gpu.thread_id x
      %x = memref.load %w[%i] : memref<64xf32>
      func.call @fmc_pdl_wait() : () -> ()
      memref.store %x, %out[%i] : memref<64xf32>
      func.call @fmc_pdl_launch_dependents() : () -> ()
      gpu.return
    }
  }
}
)mlir";

size_t count(const std::string &text, const std::string &what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos;
       at = text.find(what, at + what.size()))
    ++n;
  return n;
}

/// The text of `ptx`'s kernel `name` (from its .entry to the next one).
std::string entryText(const std::string &ptx, const std::string &name) {
  size_t start = ptx.find(".entry " + name + "(");
  if (start == std::string::npos)
    return "";
  size_t end = ptx.find(".entry ", start + 1);
  return ptx.substr(start, end == std::string::npos ? end : end - start);
}

class GridDependencyTest : public ::testing::Test {
protected:
  void SetUp() override {
    fmc::gpu::loadKernelDialects(context);
    context.loadDialect<func::FuncDialect>();
    module = parseSourceString<ModuleOp>(kKernels, &context);
    ASSERT_TRUE(module);
  }

  std::string ptx(const std::string &chip) {
    fmc::cuda::PtxOptions options;
    options.chip = chip;
    llvm::Expected<std::string> text = fmc::cuda::lowerToPtx(*module, options);
    EXPECT_TRUE(static_cast<bool>(text)) << llvm::toString(text.takeError());
    return text ? *text : "";
  }

  void expectAssembles(const std::string &text, const std::string &chip) {
    std::string ptxas = FMC_PTXAS_PATH;
    if (ptxas.empty())
      GTEST_SKIP() << "no ptxas (CUDA toolkit) on this machine";
    llvm::Expected<std::string> cubin =
        fmc::cuda::assembleCubin(text, chip, ptxas);
    ASSERT_TRUE(static_cast<bool>(cubin)) << llvm::toString(cubin.takeError());
  }

  MLIRContext context;
  OwningOpRef<ModuleOp> module;
};

TEST_F(GridDependencyTest, Sm90KernelsWaitForTheirPredecessor) {
  std::string text = ptx("sm_90");
  // @plain waits at its entry, before its store.
  std::string plain = entryText(text, "plain");
  ASSERT_FALSE(plain.empty()) << text;
  EXPECT_EQ(count(plain, "griddepcontrol.wait;"), 1u) << plain;
  EXPECT_LT(plain.find("griddepcontrol.wait;"), plain.find("st.global"))
      << plain;
  EXPECT_EQ(count(plain, "griddepcontrol.launch_dependents;"), 0u) << plain;
  // @marked waits where its marker is: after its weight load, before its
  // store; nothing is added at its entry.
  std::string marked = entryText(text, "marked");
  ASSERT_FALSE(marked.empty()) << text;
  EXPECT_EQ(count(marked, "griddepcontrol.wait;"), 1u) << marked;
  EXPECT_LT(marked.find("ld.global"), marked.find("griddepcontrol.wait;"))
      << marked;
  EXPECT_LT(marked.find("griddepcontrol.wait;"), marked.find("st.global"))
      << marked;
  EXPECT_EQ(count(marked, "griddepcontrol.launch_dependents;"), 1u) << marked;
  EXPECT_EQ(text.find("fmc_pdl"), std::string::npos) << text;
  expectAssembles(text, "sm_90");
}

TEST_F(GridDependencyTest, Sm80PtxHasNoTraceOfTheMarkers) {
  std::string text = ptx("sm_80");
  EXPECT_NE(text.find(".entry marked("), std::string::npos) << text;
  EXPECT_EQ(text.find("griddepcontrol"), std::string::npos) << text;
  EXPECT_EQ(text.find("fmc_pdl"), std::string::npos) << text;
  expectAssembles(text, "sm_80");
}

TEST_F(GridDependencyTest, SpirvHasNoTraceOfTheMarkers) {
  llvm::Expected<std::vector<uint32_t>> words =
      fmc::spirv::lowerToSpirv(*module, fmc::spirv::SpirvOptions());
  ASSERT_TRUE(static_cast<bool>(words)) << llvm::toString(words.takeError());
  std::string bytes(reinterpret_cast<const char *>(words->data()),
                    words->size() * 4);
  EXPECT_NE(bytes.find("marked"), std::string::npos);
  EXPECT_EQ(bytes.find("fmc_pdl"), std::string::npos);
}

TEST_F(GridDependencyTest, GeneratorsPlaceMarkersDeclaredOnce) {
  OwningOpRef<ModuleOp> kernels = fmc::gpu::createKernelsModule(context);
  mlir::gpu::GPUModuleOp gpuModule = fmc::gpu::kernelsOf(*kernels);
  OpBuilder builder(&context);
  builder.setInsertionPointToEnd(gpuModule.getBody());
  auto kernel = mlir::gpu::GPUFuncOp::create(
      builder, builder.getUnknownLoc(), "k", builder.getFunctionType({}, {}));
  kernel->setAttr(mlir::gpu::GPUDialect::getKernelFuncAttrName(),
                  builder.getUnitAttr());
  builder.setInsertionPointToStart(&kernel.getBody().front());
  fmc::gpu::emitPdlWait(builder, builder.getUnknownLoc(), gpuModule);
  fmc::gpu::emitPdlLaunchDependents(builder, builder.getUnknownLoc(),
                                    gpuModule);
  fmc::gpu::emitPdlWait(builder, builder.getUnknownLoc(), gpuModule);
  mlir::gpu::ReturnOp::create(builder, builder.getUnknownLoc());
  std::string text;
  llvm::raw_string_ostream os(text);
  kernels->print(os);
  EXPECT_EQ(count(text, "func.func private @fmc_pdl_wait()"), 1u) << text;
  EXPECT_EQ(count(text, "func.func private @fmc_pdl_launch_dependents()"), 1u)
      << text;
  EXPECT_EQ(count(text, "call @fmc_pdl_wait()"), 2u) << text;
  EXPECT_EQ(count(text, "call @fmc_pdl_launch_dependents()"), 1u) << text;

  fmc::gpu::eraseGridDependencyMarkers(gpuModule);
  text.clear();
  kernels->print(os);
  EXPECT_EQ(text.find("fmc_pdl"), std::string::npos) << text;
}

TEST(GridDependencyControl, IsThereFromSm90On) {
  EXPECT_FALSE(fmc::cuda::hasGridDependencyControl("sm_80"));
  EXPECT_FALSE(fmc::cuda::hasGridDependencyControl("sm_89"));
  EXPECT_TRUE(fmc::cuda::hasGridDependencyControl("sm_90"));
  EXPECT_TRUE(fmc::cuda::hasGridDependencyControl("sm_90a"));
  EXPECT_TRUE(fmc::cuda::hasGridDependencyControl("sm_100"));
  EXPECT_FALSE(fmc::cuda::hasGridDependencyControl("compute_90"));
  EXPECT_FALSE(fmc::cuda::hasGridDependencyControl("sm_"));
}

} // namespace
