//===- VulkanBackendTest.cpp - the vulkan backend as a dispatch executor --===//
//
// Runs the tiny artifact's hand-written SPIR-V kernels (Inputs/
// tiny_counter.spvasm, see TinyGpuArtifact.h) on whatever Vulkan device
// this machine has (lavapipe in CI) and checks every value against the
// closed form; skips, saying why, where there is none. The SPIR-V parsing
// and feature checks run everywhere.
//
//===----------------------------------------------------------------------===//

#include "SealArtifact.h"
#include "TinyCounterRuns.h"
#include "TinyGpuArtifact.h"

#include "runtime/Artifact.h"
#include "runtime/ArtifactChecksum.h"
#include "runtime/Session.h"
#include "runtime/vulkan/SpirvModule.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>
#include <random>

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

/// A session on the vulkan backend for `artifact`, or null when this
/// machine has no Vulkan driver or device (the caller skips).
std::unique_ptr<Session> vulkanOrSkip(const Artifact &artifact,
                                      BackendOptions options = {}) {
  absl::StatusOr<std::unique_ptr<Session>> session =
      Session::open(artifact, "vulkan", options);
  if (!session.ok()) {
    EXPECT_EQ(session.status().code(), absl::StatusCode::kUnavailable)
        << session.status().message();
    return nullptr;
  }
  return std::move(*session);
}

/// How opening a vulkan session on `artifact` went, or nullopt when this
/// machine has no Vulkan device (the caller skips).
std::optional<absl::Status> vulkanOpenStatus(const Artifact &artifact) {
  absl::StatusOr<std::unique_ptr<Session>> session =
      Session::open(artifact, "vulkan", {});
  if (session.status().code() == absl::StatusCode::kUnavailable)
    return std::nullopt;
  return session.status();
}

#define SKIP_WITHOUT_VULKAN(session)                                           \
  if (!(session))                                                              \
  GTEST_SKIP() << "no Vulkan device on this machine"

TEST(VulkanBackend, RunsTheTinyCounterProgram) {
  std::unique_ptr<Artifact> artifact = tinyVulkanArtifact();
  ASSERT_TRUE(artifact);
  std::unique_ptr<Session> session = vulkanOrSkip(*artifact);
  SKIP_WITHOUT_VULKAN(session);
  EXPECT_EQ(session->backend(), "vulkan");
  ASSERT_NO_FATAL_FAILURE(test::expectTinyCounterRuns(*session));
}

TEST(VulkanBackend, ReadsRowZeroAfterALastRowKernel) {
  // The cpu backend on the same programs: one row, the last position's.
  std::unique_ptr<Artifact> cpuArtifact = tinyArtifact({}, /*lastRow=*/true);
  ASSERT_TRUE(cpuArtifact);
  BackendOptions cpuOptions;
  cpuOptions.threads = 1;
  absl::StatusOr<std::unique_ptr<Session>> cpu =
      Session::open(*cpuArtifact, "cpu", cpuOptions);
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

  test::TinyExecutable exe =
      test::tinyCounterExecutable("vulkan", "spirv", readFile(FMC_TINY_SPIRV));
  std::unique_ptr<Artifact> artifact = tinyArtifact({exe}, /*lastRow=*/true);
  ASSERT_TRUE(artifact);
  std::unique_ptr<Session> session = vulkanOrSkip(*artifact);
  SKIP_WITHOUT_VULKAN(session);
  test::expectTinyLastRowPrefill(*session);
}

TEST(VulkanBackend, RejectsBadInputsLikeTheCpuBackend) {
  std::unique_ptr<Artifact> artifact = tinyVulkanArtifact();
  ASSERT_TRUE(artifact);
  std::unique_ptr<Session> session = vulkanOrSkip(*artifact);
  SKIP_WITHOUT_VULKAN(session);
  absl::StatusOr<const float *> logits = session->decode(8, 0);
  ASSERT_FALSE(logits.ok());
  EXPECT_EQ(logits.status().message(),
            "token id 8 is outside the vocabulary of 8");
  absl::Status status = session->prefill({1, 2}, 15, false, nullptr);
  EXPECT_EQ(status.message(), "positions 15 to 16 exceed the model's context "
                              "of 16");
}

TEST(VulkanBackend, AllocatesCachesForTheOpenedContext) {
  std::unique_ptr<Artifact> artifact = tinyVulkanArtifact();
  ASSERT_TRUE(artifact);
  BackendOptions options;
  options.context = 9;
  std::unique_ptr<Session> session = vulkanOrSkip(*artifact, options);
  SKIP_WITHOUT_VULKAN(session);
  ASSERT_NO_FATAL_FAILURE(test::expectTinyCounterRunsInContext9(*session));
  // In 8 positions the counter's binding starts past the cache's 256 bytes.
  options.context = 8;
  absl::StatusOr<std::unique_ptr<Session>> shorter =
      Session::open(*artifact, "vulkan", options);
  ASSERT_FALSE(shorter.ok());
  EXPECT_EQ(shorter.status().message(),
            "vulkan executable: prefill dispatch 0 binding 0 starts at byte "
            "256 of KV cache 'cache', past the 256 bytes it holds in a "
            "context of 8 positions");
}

TEST(VulkanBackend, ProfilesDispatchesPerKernelFamily) {
  std::unique_ptr<Artifact> artifact = tinyVulkanArtifact();
  ASSERT_TRUE(artifact);
  BackendOptions options;
  options.profile = true;
  std::unique_ptr<Session> session = vulkanOrSkip(*artifact, options);
  SKIP_WITHOUT_VULKAN(session);
  ASSERT_TRUE(session->decode(1, 0).ok());
  ASSERT_TRUE(session->decode(2, 1).ok());
  std::vector<KernelProfile> profile = session->profile();
  if (profile.empty())
    GTEST_SKIP() << "the Vulkan device has no compute timestamps";
  // Dispatch 0 implements kernel 0 (embedding), dispatch 1 kernel 1.
  ASSERT_EQ(profile.size(), 2u);
  EXPECT_EQ(profile[0].family, "EmbeddingSpec");
  EXPECT_EQ(profile[1].family, "LogitsSpec");
  // Issue 14: `seconds >= 0` held for any value. Each dispatch of each run
  // has a positive time, and the per-family sums are those times.
  const std::vector<std::vector<double>> &launches =
      session->launchTimes(ProgramKind::Decode);
  ASSERT_EQ(launches.size(), 2u);
  for (size_t d = 0; d < launches.size(); ++d) {
    SCOPED_TRACE(d);
    ASSERT_EQ(launches[d].size(), 2u);
    EXPECT_GT(launches[d][0], 0.0);
    EXPECT_GT(launches[d][1], 0.0);
    EXPECT_EQ(profile[d].calls, 2);
    EXPECT_DOUBLE_EQ(profile[d].seconds, launches[d][0] + launches[d][1]);
  }
}

TEST(VulkanBackend, AutoDeclinesCpuDevices) {
  std::unique_ptr<Artifact> artifact = tinyVulkanArtifact();
  ASSERT_TRUE(artifact);
  std::unique_ptr<Session> any = vulkanOrSkip(*artifact);
  SKIP_WITHOUT_VULKAN(any);
  any.reset();
  BackendOptions options;
  options.autoSelected = true;
  absl::StatusOr<std::unique_ptr<Device>> direct =
      createVulkanDevice(*artifact, options);
  absl::StatusOr<std::unique_ptr<Session>> chosen =
      Session::open(*artifact, "auto", {});
  ASSERT_TRUE(chosen.ok()) << chosen.status().message();
  // fmc-run's probe, without an artifact, decides as auto does.
  absl::Status probe = probeVulkanDevice();
  EXPECT_EQ(probe.ok(), direct.ok()) << probe.message();
  if (!direct.ok())
    EXPECT_EQ(probe.message(), direct.status().message());
  if (direct.ok()) {
    EXPECT_EQ((*chosen)->backend(), "vulkan");
    return;
  }
  // A CPU implementation (lavapipe) only: auto runs the cpu backend.
  std::string message(direct.status().message());
  EXPECT_EQ(message.rfind("the only Vulkan device is '", 0), 0u) << message;
  EXPECT_NE(message.find("', a CPU implementation: --backend auto does not "
                         "pick it (--backend vulkan does)"),
            std::string::npos)
      << message;
  EXPECT_EQ((*chosen)->backend(), "cpu");
}

TEST(VulkanBackend, NeedsAVulkanExecutable) {
  std::unique_ptr<Artifact> cpuOnly = tinyArtifact({});
  ASSERT_TRUE(cpuOnly);
  absl::StatusOr<std::unique_ptr<Device>> device =
      createVulkanDevice(*cpuOnly, {});
  ASSERT_FALSE(device.ok());
  EXPECT_EQ(device.status().message(),
            "the artifact has no 'vulkan' executable; recompile with "
            "--target=vulkan");
  std::unique_ptr<Artifact> msl = tinyArtifact(
      {test::tinyCounterExecutable("vulkan", "msl", {'k', 'e', 'r'})});
  ASSERT_TRUE(msl);
  device = createVulkanDevice(*msl, {});
  ASSERT_FALSE(device.ok());
  EXPECT_EQ(device.status().message(),
            "the artifact's 'vulkan' executable has format 'msl', expected "
            "'spirv'");
}

TEST(VulkanBackend, NamesAnEntryPointTheSpirvLacks) {
  test::TinyExecutable exe =
      test::tinyCounterExecutable("vulkan", "spirv", readFile(FMC_TINY_SPIRV));
  exe.entries[1].name = "rows_f16";
  std::unique_ptr<Artifact> artifact = tinyArtifact({exe});
  ASSERT_TRUE(artifact);
  std::optional<absl::Status> status = vulkanOpenStatus(*artifact);
  if (!status)
    GTEST_SKIP() << "no Vulkan device on this machine";
  ASSERT_FALSE(status->ok());
  EXPECT_EQ(status->message(),
            "the vulkan executable's SPIR-V has no compute entry point "
            "'rows_f16'");
}

TEST(VulkanBackend, RejectsGridsPastTheDevicesWorkgroupCount) {
  // Issue 14: a grid of 0x7fffffff workgroups hung lavapipe; the device's
  // maxComputeWorkGroupCount (65535 on every Vulkan device fmc has met)
  // is checked before anything is recorded.
  test::TinyExecutable exe =
      test::tinyCounterExecutable("vulkan", "spirv", readFile(FMC_TINY_SPIRV));
  exe.decode.dispatches[1].grid = {0x7fffffffu, 1, 1};
  std::unique_ptr<Artifact> artifact = tinyArtifact({exe});
  ASSERT_TRUE(artifact);
  std::optional<absl::Status> status = vulkanOpenStatus(*artifact);
  if (!status)
    GTEST_SKIP() << "no Vulkan device on this machine";
  ASSERT_FALSE(status->ok());
  EXPECT_EQ(status->code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(status->message(),
            "corrupt artifact: vulkan executable: decode dispatch 1 has "
            "grid 2147483647x1x1, more than a Vulkan launch allows");
}

TEST(VulkanBackend, ValidatesTheSpirvBeforeTheDriverSeesIt) {
  // Issue 14: one corrupted word (an id past the module's bound) crashed
  // lavapipe at pipeline creation. The module's id bound, word 3, made 1:
  // every instruction's ids now lie past it.
  std::vector<uint8_t> spirv = readFile(FMC_TINY_SPIRV);
  ASSERT_GT(spirv.size(), 20u);
  std::vector<uint32_t> module = words(spirv);
  module[3] = 1;
  std::memcpy(spirv.data(), module.data(), module.size() * 4);
  std::unique_ptr<Artifact> artifact = tinyArtifact(
      {test::tinyCounterExecutable("vulkan", "spirv", std::move(spirv))});
  ASSERT_TRUE(artifact);
  std::optional<absl::Status> status = vulkanOpenStatus(*artifact);
  if (!status)
    GTEST_SKIP() << "no Vulkan device on this machine";
  ASSERT_FALSE(status->ok());
  EXPECT_EQ(status->code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(status->message()),
              testing::StartsWith("corrupt artifact: the vulkan executable's "
                                  "SPIR-V fails validation (word "));
}

// Issue 14's campaign on the vulkan backend: 150 crafted changes of the
// tiny artifact's header (its SPIR-V, entry points, grids and bindings
// included), sealed again. Each ends in a one-line error or a run; none
// crashes the driver or hangs.
TEST(VulkanBackend, MutationCampaignEndsInOutputOrAnError) {
  std::vector<uint8_t> bytes = test::buildTinyArtifact(
      {test::tinyCounterExecutable("vulkan", "spirv", readFile(FMC_TINY_SPIRV))});
  {
    std::unique_ptr<Artifact> intact = tinyArtifact(
        {test::tinyCounterExecutable("vulkan", "spirv", readFile(FMC_TINY_SPIRV))});
    ASSERT_TRUE(intact);
    if (!vulkanOrSkip(*intact))
      GTEST_SKIP() << "no Vulkan device on this machine";
  }
  uint32_t fb;
  std::memcpy(&fb, bytes.data(), 4);
  std::mt19937_64 random(14);
  int rejected = 0, ran = 0;
  for (int i = 0; i < 150; ++i) {
    std::vector<uint8_t> damaged = bytes;
    size_t at;
    uint32_t value;
    if (i % 2) {
      at = 4 + random() % fb;
      value = static_cast<uint8_t>(random());
      damaged[at] = static_cast<uint8_t>(value);
    } else {
      at = (4 + random() % (fb - 4)) & ~size_t{3};
      value = static_cast<uint32_t>(random() % 2 ? random() % 256 : random());
      std::memcpy(damaged.data() + at, &value, 4);
    }
    test::resealArtifact(damaged);
    SCOPED_TRACE(testing::Message()
                 << "mutation " << i << ": byte " << at << " = " << value);
    absl::StatusOr<std::unique_ptr<Artifact>> artifact =
        Artifact::fromBytes(std::move(damaged), "mutated.fmc");
    absl::Status status = artifact.status();
    if (status.ok()) {
      absl::StatusOr<std::unique_ptr<Session>> session =
          Session::open(**artifact, "vulkan", {});
      status = session.status();
      if (session.ok()) {
        status = (*session)->prefill({1, 2}, 0, false, nullptr);
        if (status.ok())
          status = (*session)->decode(3, 2).status();
      }
    }
    if (status.ok()) {
      ++ran;
      continue;
    }
    ++rejected;
    std::string message(status.message());
    EXPECT_FALSE(message.empty()) << "mutation " << i;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
  EXPECT_GT(rejected, 0);
  EXPECT_GT(ran, 0);
}

// Found by the mutation campaign: a resource in descriptor set 21, which
// SPIRV-Tools accepts, crashed lavapipe at pipeline creation.
TEST(VulkanBackend, RejectsResourcesOutsideThePipelineLayout) {
  std::vector<uint8_t> spirv = readFile(FMC_TINY_SPIRV);
  std::vector<uint32_t> module = words(spirv);
  bool patched = false;
  for (size_t at = 5; at < module.size() && !patched; at += module[at] >> 16)
    if (module[at] == ((4u << 16) | 71) && module[at + 2] == 34) { // OpDecorate
      module[at + 3] = 21;                                         // DescriptorSet
      patched = true;
    }
  ASSERT_TRUE(patched);
  std::memcpy(spirv.data(), module.data(), module.size() * 4);
  std::unique_ptr<Artifact> artifact = tinyArtifact(
      {test::tinyCounterExecutable("vulkan", "spirv", std::move(spirv))});
  ASSERT_TRUE(artifact);
  std::optional<absl::Status> status = vulkanOpenStatus(*artifact);
  if (!status)
    GTEST_SKIP() << "no Vulkan device on this machine";
  ASSERT_FALSE(status->ok());
  EXPECT_EQ(status->message(),
            "corrupt artifact: the vulkan executable's SPIR-V uses descriptor "
            "set 21 and 6 bindings; its entry points bind set 0 with at most 6");
}

// --- SPIR-V parsing and feature checks: no device needed -------------------

TEST(SpirvModule, ValidatesWithSpirvTools) {
  std::vector<uint32_t> module = words(readFile(FMC_TINY_SPIRV));
  ASSERT_GT(module.size(), 6u);
  EXPECT_TRUE(vulkan::validateSpirv(module).ok());
  module[3] = 1; // The id bound.
  absl::Status status = vulkan::validateSpirv(module);
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(status.message()),
              testing::HasSubstr("SPIR-V fails validation (word "));
}

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
  absl::StatusOr<std::unique_ptr<Session>> session =
      Session::open(*artifact, "vulkan", {});
  ASSERT_FALSE(session.ok());
  EXPECT_EQ(session.status().code(), absl::StatusCode::kUnavailable);
  std::string message(session.status().message());
  EXPECT_EQ(message.rfind("no Vulkan device: the Vulkan loader ", 0), 0u)
      << message;
  absl::StatusOr<std::unique_ptr<Session>> chosen =
      Session::open(*artifact, "auto", {});
  ASSERT_TRUE(chosen.ok()) << chosen.status().message();
  EXPECT_EQ((*chosen)->backend(), "cpu");
  EXPECT_EQ(probeVulkanDevice().message(), message);
  EXPECT_NE(bestBackendHere(), "vulkan");
}

} // namespace
} // namespace fmc
