//===- VulkanBackendTest.cpp - the vulkan backend as a dispatch executor --===//
//
// Runs the tiny artifact's hand-written SPIR-V kernels (Inputs/
// tiny_counter.spvasm, see TinyGpuArtifact.h) on whatever Vulkan device
// this machine has (lavapipe in CI) and checks every value against the
// closed form; skips, saying why, where there is none. The SPIR-V parsing
// and feature checks run everywhere.
//
//===----------------------------------------------------------------------===//

#include "TinyGpuArtifact.h"

#include "runtime/Artifact.h"
#include "runtime/Backend.h"
#include "runtime/vulkan/SpirvModule.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>

namespace fmc {
namespace {

std::vector<uint8_t> readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

std::vector<uint32_t> words(const std::vector<uint8_t> &bytes) {
  std::vector<uint32_t> result(bytes.size() / 4);
  std::memcpy(result.data(), bytes.data(), result.size() * 4);
  return result;
}

std::unique_ptr<Artifact> tinyArtifact(std::vector<test::TinyExecutable> gpu,
                                       bool lastRow = false) {
  absl::StatusOr<std::unique_ptr<Artifact>> artifact =
      Artifact::fromBytes(test::buildTinyArtifact(gpu, lastRow), "tiny.fmc");
  EXPECT_TRUE(artifact.ok()) << artifact.status().message();
  return artifact.ok() ? std::move(*artifact) : nullptr;
}

std::unique_ptr<Artifact> tinyVulkanArtifact() {
  std::vector<uint8_t> spirv = readFile(FMC_TINY_SPIRV);
  EXPECT_GT(spirv.size(), 20u) << FMC_TINY_SPIRV;
  return tinyArtifact(
      {test::tinyCounterExecutable("vulkan", "spirv", std::move(spirv))});
}

/// The vulkan backend for `artifact`, or null when this machine has no
/// Vulkan driver or device (the caller skips).
std::unique_ptr<Backend> vulkanOrSkip(const Artifact &artifact,
                                      BackendOptions options = {}) {
  absl::StatusOr<std::unique_ptr<Backend>> backend =
      createBackend("vulkan", artifact, options);
  if (!backend.ok()) {
    EXPECT_EQ(backend.status().code(), absl::StatusCode::kUnavailable)
        << backend.status().message();
    return nullptr;
  }
  return std::move(*backend);
}

#define SKIP_WITHOUT_VULKAN(backend)                                           \
  if (!(backend))                                                              \
  GTEST_SKIP() << "no Vulkan device on this machine"

/// logits[v] after `runs` earlier runs (TinyGpuArtifact.h).
float expected(int32_t token, int64_t position, int runs, int v) {
  return static_cast<float>(10 * token + v + position + runs);
}

TEST(VulkanBackend, RunsTheTinyCounterProgram) {
  std::unique_ptr<Artifact> artifact = tinyVulkanArtifact();
  ASSERT_TRUE(artifact);
  std::unique_ptr<Backend> backend = vulkanOrSkip(*artifact);
  SKIP_WITHOUT_VULKAN(backend);
  EXPECT_EQ(backend->name(), "vulkan");
  EXPECT_FALSE(backend->prefillLogitsLastOnly());

  // Run 0: the counter starts at zero (caches are zeroed at load).
  absl::StatusOr<const float *> logits = backend->decode(3, 0);
  ASSERT_TRUE(logits.ok()) << logits.status().message();
  for (int v = 0; v < 8; ++v)
    EXPECT_EQ((*logits)[v], expected(3, 0, 0, v)) << v;

  // Ten tokens from position 1: chunks of 4, 4, 2 are runs 1, 2, 3.
  std::vector<int32_t> prompt = {1, 2, 3, 4, 5, 6, 7, 0, 1, 2};
  std::map<int64_t, std::vector<float>> rows;
  absl::Status status =
      backend->prefill(prompt, 1, /*allLogits=*/true,
                       [&](int64_t position, const float *row) {
                         rows[position].assign(row, row + 8);
                       });
  ASSERT_TRUE(status.ok()) << status.message();
  ASSERT_EQ(rows.size(), prompt.size());
  for (int i = 0; i < 10; ++i)
    for (int v = 0; v < 8; ++v)
      EXPECT_EQ(rows[1 + i][v], expected(prompt[i], 1 + i, 1 + i / 4, v))
          << "position " << 1 + i << ", v " << v;

  // Last logits only: one row, from the second chunk (runs 4 and 5).
  rows.clear();
  status = backend->prefill({5, 6, 7, 1, 2}, 11, /*allLogits=*/false,
                            [&](int64_t position, const float *row) {
                              rows[position].assign(row, row + 8);
                            });
  ASSERT_TRUE(status.ok()) << status.message();
  ASSERT_EQ(rows.size(), 1u);
  ASSERT_EQ(rows.count(15), 1u);
  for (int v = 0; v < 8; ++v)
    EXPECT_EQ(rows[15][v], expected(2, 15, 5, v));

  logits = backend->decode(7, 15);
  ASSERT_TRUE(logits.ok()) << logits.status().message();
  for (int v = 0; v < 8; ++v)
    EXPECT_EQ((*logits)[v], expected(7, 15, 6, v)) << v;

  BackendMemory memory = backend->memory();
  EXPECT_EQ(memory.weightsBytes, 512u);
  EXPECT_EQ(memory.kvBytesTotal, 512u);
  EXPECT_EQ(memory.kvBytesPerToken, 32u);
  EXPECT_EQ(memory.arenaBytes, test::tinyArenaBytes(test::kTinyPrefillRows));
}

TEST(VulkanBackend, ReadsRowZeroAfterALastRowKernel) {
  // The cpu backend on the same programs: one row, the last position's.
  std::unique_ptr<Artifact> cpuArtifact = tinyArtifact({}, /*lastRow=*/true);
  ASSERT_TRUE(cpuArtifact);
  BackendOptions cpuOptions;
  cpuOptions.threads = 1;
  absl::StatusOr<std::unique_ptr<Backend>> cpu =
      createBackend("cpu", *cpuArtifact, cpuOptions);
  ASSERT_TRUE(cpu.ok()) << cpu.status().message();
  EXPECT_TRUE((*cpu)->prefillLogitsLastOnly());
  int cpuRows = 0;
  ASSERT_TRUE((*cpu)
                  ->prefill({1, 2, 3, 4, 5, 6}, 0, true,
                            [&](int64_t position, const float *row) {
                              ++cpuRows;
                              EXPECT_EQ(position, 5);
                              EXPECT_EQ(row[7], 67);
                            })
                  .ok());
  EXPECT_EQ(cpuRows, 1);

  test::TinyExecutable exe = test::tinyCounterExecutable(
      "vulkan", "spirv", readFile(FMC_TINY_SPIRV));
  std::unique_ptr<Artifact> artifact = tinyArtifact({exe}, /*lastRow=*/true);
  ASSERT_TRUE(artifact);
  std::unique_ptr<Backend> backend = vulkanOrSkip(*artifact);
  SKIP_WITHOUT_VULKAN(backend);
  EXPECT_TRUE(backend->prefillLogitsLastOnly());
  // Six tokens: chunks of 4 and 2 (runs 0 and 1); one callback, for the
  // last position, with logits row 0 of the last run (here the counter
  // kernel's row for that chunk's first token, 5 at position 4).
  std::vector<int32_t> prompt = {1, 2, 3, 4, 5, 6};
  std::map<int64_t, std::vector<float>> rows;
  absl::Status status =
      backend->prefill(prompt, 0, /*allLogits=*/true,
                       [&](int64_t position, const float *row) {
                         rows[position].assign(row, row + 8);
                       });
  ASSERT_TRUE(status.ok()) << status.message();
  ASSERT_EQ(rows.size(), 1u);
  ASSERT_EQ(rows.count(5), 1u);
  for (int v = 0; v < 8; ++v)
    EXPECT_EQ(rows[5][v], expected(5, 4, 1, v)) << v;
}

TEST(VulkanBackend, RejectsBadInputsLikeTheCpuBackend) {
  std::unique_ptr<Artifact> artifact = tinyVulkanArtifact();
  ASSERT_TRUE(artifact);
  std::unique_ptr<Backend> backend = vulkanOrSkip(*artifact);
  SKIP_WITHOUT_VULKAN(backend);
  absl::StatusOr<const float *> logits = backend->decode(8, 0);
  ASSERT_FALSE(logits.ok());
  EXPECT_EQ(logits.status().message(),
            "token id 8 is outside the vocabulary of 8");
  absl::Status status = backend->prefill({1, 2}, 15, false, nullptr);
  EXPECT_EQ(status.message(), "positions 15 to 16 exceed the model's context "
                              "of 16");
}

TEST(VulkanBackend, ProfilesDispatchesPerKernelFamily) {
  std::unique_ptr<Artifact> artifact = tinyVulkanArtifact();
  ASSERT_TRUE(artifact);
  BackendOptions options;
  options.profile = true;
  std::unique_ptr<Backend> backend = vulkanOrSkip(*artifact, options);
  SKIP_WITHOUT_VULKAN(backend);
  ASSERT_TRUE(backend->decode(1, 0).ok());
  ASSERT_TRUE(backend->decode(2, 1).ok());
  std::vector<KernelProfile> profile = backend->profile();
  if (profile.empty())
    GTEST_SKIP() << "the Vulkan device has no compute timestamps";
  // Dispatch 0 implements kernel 0 (embedding), dispatch 1 kernel 1.
  ASSERT_EQ(profile.size(), 2u);
  EXPECT_EQ(profile[0].family, "EmbeddingSpec");
  EXPECT_EQ(profile[1].family, "LogitsSpec");
  for (const KernelProfile &p : profile) {
    EXPECT_EQ(p.calls, 2);
    EXPECT_GE(p.seconds, 0.0);
  }
}

TEST(VulkanBackend, AutoDeclinesCpuDevices) {
  std::unique_ptr<Artifact> artifact = tinyVulkanArtifact();
  ASSERT_TRUE(artifact);
  std::unique_ptr<Backend> any = vulkanOrSkip(*artifact);
  SKIP_WITHOUT_VULKAN(any);
  any.reset();
  BackendOptions options;
  options.autoSelected = true;
  absl::StatusOr<std::unique_ptr<Backend>> direct =
      createVulkanBackend(*artifact, options);
  absl::StatusOr<std::unique_ptr<Backend>> chosen =
      createBackend("auto", *artifact, {});
  ASSERT_TRUE(chosen.ok()) << chosen.status().message();
  if (direct.ok()) {
    EXPECT_EQ((*chosen)->name(), "vulkan");
    return;
  }
  // A CPU implementation (lavapipe) only: auto runs the cpu backend.
  std::string message(direct.status().message());
  EXPECT_EQ(message.rfind("the only Vulkan device is '", 0), 0u) << message;
  EXPECT_NE(message.find("', a CPU implementation: --backend auto does not "
                         "pick it (--backend vulkan does)"),
            std::string::npos)
      << message;
  EXPECT_EQ((*chosen)->name(), "cpu");
}

TEST(VulkanBackend, NeedsAVulkanExecutable) {
  std::unique_ptr<Artifact> cpuOnly = tinyArtifact({});
  ASSERT_TRUE(cpuOnly);
  absl::StatusOr<std::unique_ptr<Backend>> backend =
      createVulkanBackend(*cpuOnly, {});
  ASSERT_FALSE(backend.ok());
  EXPECT_EQ(backend.status().message(),
            "the artifact has no 'vulkan' executable; recompile with "
            "--target=vulkan");
  std::unique_ptr<Artifact> msl = tinyArtifact(
      {test::tinyCounterExecutable("vulkan", "msl", {'k', 'e', 'r'})});
  ASSERT_TRUE(msl);
  backend = createVulkanBackend(*msl, {});
  ASSERT_FALSE(backend.ok());
  EXPECT_EQ(backend.status().message(),
            "the artifact's 'vulkan' executable has format 'msl', expected "
            "'spirv'");
}

TEST(VulkanBackend, NamesAnEntryPointTheSpirvLacks) {
  test::TinyExecutable exe = test::tinyCounterExecutable(
      "vulkan", "spirv", readFile(FMC_TINY_SPIRV));
  exe.entries[1].name = "rows_f16";
  std::unique_ptr<Artifact> artifact = tinyArtifact({exe});
  ASSERT_TRUE(artifact);
  absl::StatusOr<std::unique_ptr<Backend>> backend =
      createBackend("vulkan", *artifact, {});
  ASSERT_FALSE(backend.ok());
  if (backend.status().code() == absl::StatusCode::kUnavailable)
    GTEST_SKIP() << backend.status().message();
  EXPECT_EQ(backend.status().message(),
            "the vulkan executable's SPIR-V has no compute entry point "
            "'rows_f16'");
}

// --- SPIR-V parsing and feature checks: no device needed -------------------

TEST(SpirvModule, ReadsCapabilitiesAndComputeEntryPoints) {
  absl::StatusOr<vulkan::SpirvModuleInfo> info =
      vulkan::parseSpirv(words(readFile(FMC_TINY_SPIRV)));
  ASSERT_TRUE(info.ok()) << info.status().message();
  EXPECT_EQ(info->capabilities, std::vector<uint32_t>{1}); // Shader.
  EXPECT_EQ(info->computeEntryPoints,
            (std::vector<std::string>{"count", "rows"}));
}

TEST(SpirvModule, RejectsMalformedModules) {
  std::vector<uint32_t> module = words(readFile(FMC_TINY_SPIRV));
  ASSERT_GT(module.size(), 6u);
  std::vector<uint32_t> damaged = module;
  damaged[5] = (1000u << 16) | 17; // OpCapability of 1000 words.
  absl::StatusOr<vulkan::SpirvModuleInfo> info = vulkan::parseSpirv(damaged);
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.status().message(),
            "the vulkan executable's SPIR-V instruction at word 5 has 1000 "
            "words, past the module's end (" +
                std::to_string(module.size()) + " words)");
  damaged = module;
  damaged[0] = 0;
  info = vulkan::parseSpirv(damaged);
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.status().message(),
            "the vulkan executable is not a SPIR-V module");
}

TEST(SpirvModule, NamesMissingDeviceFeatures) {
  // Shader, Float16, Int8, StorageBuffer8BitAccess, GroupNonUniformArithmetic.
  std::vector<uint32_t> capabilities = {1, 9, 39, 4448, 63};
  vulkan::DeviceFeatures features;
  features.shaderInt8 = true;
  features.storageBuffer8BitAccess = true;
  features.subgroupOperations = 0x1; // Basic only.
  absl::Status status =
      vulkan::checkCapabilities(capabilities, features, "llvmpipe");
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(status.message(),
            "the Vulkan device 'llvmpipe' lacks shaderFloat16 (for capability "
            "Float16), subgroup arithmetic operations (for capability "
            "GroupNonUniformArithmetic), which the vulkan executable's "
            "kernels need");
  features.shaderFloat16 = true;
  features.subgroupOperations = 0x5;
  EXPECT_TRUE(
      vulkan::checkCapabilities(capabilities, features, "llvmpipe").ok());
}

/// ctest runs this with VK_ICD_FILENAMES naming no driver and
/// FMC_TEST_NO_VULKAN_DRIVER=1 (runtime.vulkan_no_driver).
TEST(VulkanNoDriver, ReportsNoDeviceAndAutoRunsCpu) {
  if (!std::getenv("FMC_TEST_NO_VULKAN_DRIVER"))
    GTEST_SKIP() << "run by ctest as runtime.vulkan_no_driver";
  std::unique_ptr<Artifact> artifact = tinyVulkanArtifact();
  ASSERT_TRUE(artifact);
  absl::StatusOr<std::unique_ptr<Backend>> backend =
      createBackend("vulkan", *artifact, {});
  ASSERT_FALSE(backend.ok());
  EXPECT_EQ(backend.status().code(), absl::StatusCode::kUnavailable);
  std::string message(backend.status().message());
  EXPECT_EQ(message.rfind("no Vulkan device: the Vulkan loader ", 0), 0u)
      << message;
  absl::StatusOr<std::unique_ptr<Backend>> chosen =
      createBackend("auto", *artifact, {});
  ASSERT_TRUE(chosen.ok()) << chosen.status().message();
  EXPECT_EQ((*chosen)->name(), "cpu");
}

} // namespace
} // namespace fmc
