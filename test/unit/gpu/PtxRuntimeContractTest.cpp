//===- PtxRuntimeContractTest.cpp - lowered PTX against the cuda backend --===//
//
// The contract between lowering/cuda and runtime/cuda, checked without a
// GPU: the PTX the lowering writes for a specialized template passes the
// cuda backend's load-time check (runtime/cuda/LaunchPlan.h
// checkPtxEntryPoints): one `.entry` per kernel taking one 64-bit pointer
// per binding, and a thread count the backend's block size satisfies.
//
//===----------------------------------------------------------------------===//

#include "lowering/cuda/PtxLowering.h"
#include "lowering/gpu/KernelTemplates.h"
#include "runtime/cuda/LaunchPlan.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/MLIRContext.h"

#include "gtest/gtest.h"

namespace {

/// An executable holding `ptx` with one entry point.
std::vector<uint8_t> executable(const std::string &name, uint32_t bindings,
                                std::vector<uint32_t> workgroup) {
  flatbuffers::FlatBufferBuilder b;
  std::vector<flatbuffers::Offset<fmc::schema::EntryPoint>> entries = {
      fmc::schema::CreateEntryPointDirect(b, name.c_str(), &workgroup,
                                          bindings)};
  b.Finish(
      fmc::schema::CreateExecutableDirect(b, "cuda", "ptx", nullptr, &entries));
  return std::vector<uint8_t>(b.GetBufferPointer(),
                              b.GetBufferPointer() + b.GetSize());
}

std::string check(const std::string &ptx, const std::string &name,
                  uint32_t bindings, std::vector<uint32_t> workgroup) {
  std::vector<uint8_t> bytes = executable(name, bindings, workgroup);
  absl::Status s = fmc::cuda::checkPtxEntryPoints(
      ptx, *flatbuffers::GetRoot<fmc::schema::Executable>(bytes.data()));
  return s.ok() ? "ok" : std::string(s.message());
}

TEST(PtxRuntimeContract, LoweredKernelsPassTheBackendsEntryCheck) {
  mlir::MLIRContext context;
  fmc::gpu::loadKernelDialects(context);
  auto templates = fmc::gpu::KernelTemplates::load(context);
  ASSERT_TRUE(static_cast<bool>(templates))
      << llvm::toString(templates.takeError());
  auto module = fmc::gpu::createKernelsModule(context);
  auto kernels = fmc::gpu::kernelsOf(*module);
  // track_sum: y = (a + b) * scale over 64 features, 4 bindings, 256
  // threads.
  llvm::Expected<std::string> name =
      (*templates)
          ->specialize("track_sum", {int64_t(64), 1.0, int64_t(0)},
                       {1024, 1024, 1024, 16}, {256, 1, 1}, kernels);
  ASSERT_TRUE(static_cast<bool>(name)) << llvm::toString(name.takeError());
  for (const char *chip : {"sm_80", "sm_90"}) {
    SCOPED_TRACE(chip);
    fmc::cuda::PtxOptions options;
    options.chip = chip;
    llvm::Expected<std::string> ptx = fmc::cuda::lowerToPtx(*module, options);
    ASSERT_TRUE(static_cast<bool>(ptx)) << llvm::toString(ptx.takeError());
    EXPECT_EQ(check(*ptx, *name, 4, {256, 1, 1}), "ok") << *ptx;
    // The check is not vacuous on this PTX: a binding count or a block
    // size other than the specialization's is caught.
    EXPECT_NE(check(*ptx, *name, 5, {256, 1, 1}), "ok");
    EXPECT_NE(check(*ptx, *name, 4, {512, 1, 1}), "ok");
  }
}

} // namespace
