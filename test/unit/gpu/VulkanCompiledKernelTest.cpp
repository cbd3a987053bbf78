//===- VulkanCompiledKernelTest.cpp - compiled SPIR-V on the vulkan backend
//===//
//
// The compiler's half and the runtime's half of the vulkan target together,
// before every kernel family exists: the `track_sum` template (scale 1, an
// add) specialized for two
// shapes, lowered to SPIR-V by lowering/spirv, run by the vulkan backend
// over the tiny artifact (test/unit/runtime/TinyGpuArtifact.h) with
// weights as operands and the logits buffer as output. Skips, saying why,
// on a machine without a Vulkan device.
//
//===----------------------------------------------------------------------===//

#include "lowering/gpu/KernelTemplates.h"
#include "lowering/spirv/SpirvLowering.h"
#include "runtime/Artifact.h"
#include "runtime/Session.h"
#include "test/unit/runtime/TinyGpuArtifact.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/MLIRContext.h"

#include "gtest/gtest.h"

#include <cstring>
#include <map>

namespace {

using M = fmc::schema::BindingMemory;

TEST(VulkanCompiledKernels, TrackSumFromTheTemplatesRunsOnTheDevice) {
  mlir::MLIRContext context;
  fmc::gpu::loadKernelDialects(context);
  auto templates = fmc::gpu::KernelTemplates::load(context);
  ASSERT_TRUE(static_cast<bool>(templates))
      << llvm::toString(templates.takeError());
  auto module = fmc::gpu::createKernelsModule(context);
  auto kernels = fmc::gpu::kernelsOf(*module);

  // out[i] = (lhs[i] + rhs[i]) * 1 for i < run[0] * 8: decode (1 row) and
  // prefill (4 rows) shapes.
  std::vector<std::string> names;
  for (uint64_t rows : {1, 4}) {
    uint64_t bytes = rows * fmc::test::kTinyVocab * 4;
    llvm::Expected<std::string> name =
        (*templates)
            ->specialize("track_sum", {fmc::test::kTinyVocab, 1.0, int64_t(0)},
                         {bytes, bytes, bytes, 16}, {64, 1, 1}, kernels);
    ASSERT_TRUE(static_cast<bool>(name)) << llvm::toString(name.takeError());
    names.push_back(*name);
  }
  llvm::Expected<std::vector<uint32_t>> words =
      fmc::spirv::lowerToSpirv(*module, fmc::spirv::SpirvOptions());
  ASSERT_TRUE(static_cast<bool>(words)) << llvm::toString(words.takeError());
  std::vector<uint8_t> spirv(words->size() * 4);
  std::memcpy(spirv.data(), words->data(), spirv.size());

  // logits = table rows + identity rows (tensor 1 + tensor 0).
  fmc::test::TinyExecutable exe;
  exe.target = "vulkan";
  exe.format = "spirv";
  exe.data = spirv;
  exe.entries = {{names[0], {64, 1, 1}, 4}, {names[1], {64, 1, 1}, 4}};
  exe.hasLists = true;
  auto list = [](uint32_t entry, int64_t rows) {
    uint64_t bytes = rows * fmc::test::kTinyVocab * 4;
    fmc::test::TinyDispatchList l;
    l.dispatches.push_back(
        {entry,
         {1, 1, 1},
         {{M::Weights, 1, 0, bytes},
          {M::Weights, 0, 0, bytes},
          {M::Arena, 0, fmc::test::tinyLogitsOffset(rows), bytes},
          {M::Run, 0, 0, 16}},
         1});
    return l;
  };
  exe.decode = list(0, 1);
  exe.prefill = list(1, fmc::test::kTinyPrefillRows);
  absl::StatusOr<std::unique_ptr<fmc::Artifact>> artifact =
      fmc::Artifact::fromBytes(fmc::test::buildTinyArtifact({exe}), "tiny.fmc");
  ASSERT_TRUE(artifact.ok()) << artifact.status().message();

  absl::StatusOr<std::unique_ptr<fmc::Session>> backend =
      fmc::Session::open(**artifact, "vulkan", {});
  if (!backend.ok() &&
      backend.status().code() == absl::StatusCode::kUnavailable)
    GTEST_SKIP() << backend.status().message();
  ASSERT_TRUE(backend.ok()) << backend.status().message();

  auto expected = [](int64_t row, int v) {
    return static_cast<float>(10 * row + v + (row == v ? 1 : 0));
  };
  absl::StatusOr<const float *> logits = (*backend)->decode(5, 0);
  ASSERT_TRUE(logits.ok()) << logits.status().message();
  for (int v = 0; v < 8; ++v)
    EXPECT_EQ((*logits)[v], expected(0, v)) << v;

  std::map<int64_t, std::vector<float>> rows;
  absl::Status status =
      (*backend)->prefill({1, 2, 3}, 0, /*allLogits=*/true,
                          [&](int64_t position, const float *row) {
                            rows[position].assign(row, row + 8);
                          });
  ASSERT_TRUE(status.ok()) << status.message();
  ASSERT_EQ(rows.size(), 3u);
  for (int64_t r = 0; r < 3; ++r)
    for (int v = 0; v < 8; ++v)
      EXPECT_EQ(rows[r][v], expected(r, v)) << "row " << r << ", v " << v;
}

} // namespace
