//===- ExecutableValidationTest.cpp - GPU executables, checked ------------===//
//
// Every way a GPU executable's entry points or dispatch lists can point
// outside what they describe is rejected at load, with a message naming
// the executable, program, dispatch and binding.
//
//===----------------------------------------------------------------------===//

#include "TinyGpuArtifact.h"

#include "runtime/Artifact.h"
#include "runtime/GpuDispatchPlan.h"
#include "runtime/Session.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>

namespace fmc {
namespace {

using test::TinyExecutable;
using M = schema::BindingMemory;

TinyExecutable valid() {
  return test::tinyCounterExecutable("vulkan", "spirv", test::fakeSpirv());
}

/// The load error of the tiny artifact with `damage` done to its vulkan
/// executable ("" when it loads).
std::string loadError(const std::function<void(TinyExecutable &)> &damage) {
  TinyExecutable exe = valid();
  damage(exe);
  absl::StatusOr<std::unique_ptr<Artifact>> artifact =
      Artifact::fromBytes(test::buildTinyArtifact({exe}), "tiny.fmc");
  return artifact.ok() ? "" : std::string(artifact.status().message());
}

constexpr char kDecode0[] =
    "'tiny.fmc': corrupt artifact: executable 1 ('vulkan'), program 'decode', "
    "dispatch 0 ('count')";
constexpr char kDecode1[] =
    "'tiny.fmc': corrupt artifact: executable 1 ('vulkan'), program 'decode', "
    "dispatch 1 ('rows')";

TEST(ExecutableValidation, AcceptsTheTinyExecutable) {
  absl::StatusOr<std::unique_ptr<Artifact>> artifact =
      Artifact::fromBytes(test::buildTinyArtifact({valid()}), "tiny.fmc");
  ASSERT_TRUE(artifact.ok()) << artifact.status().message();
  EXPECT_EQ((*artifact)->targets(),
            (std::vector<std::string>{"cpu", "vulkan"}));
  // The cpu backend runs the same programs: logits[r] = table[tokens[r]].
  BackendOptions options;
  options.threads = 1;
  absl::StatusOr<std::unique_ptr<Session>> cpu =
      Session::open(**artifact, "cpu", options);
  ASSERT_TRUE(cpu.ok()) << cpu.status().message();
  absl::StatusOr<const float *> logits = (*cpu)->decode(3, 0);
  ASSERT_TRUE(logits.ok()) << logits.status().message();
  for (int v = 0; v < test::kTinyVocab; ++v)
    EXPECT_EQ((*logits)[v], 30 + v);
}

TEST(ExecutableValidation, RejectsUnknownFormats) {
  EXPECT_EQ(loadError([](TinyExecutable &e) { e.format = "dxil"; }),
            "'tiny.fmc': corrupt artifact: executable 1 ('vulkan') has format "
            "'dxil', expected ptx, cubin, spirv, msl or metallib");
  EXPECT_EQ(loadError([](TinyExecutable &e) { e.format = "none"; }),
            "'tiny.fmc': corrupt artifact: executable 1 ('vulkan') has format "
            "'none', expected ptx, cubin, spirv, msl or metallib");
  EXPECT_EQ(loadError([](TinyExecutable &e) { e.data.clear(); }),
            "'tiny.fmc': corrupt artifact: executable 1 ('vulkan') has no "
            "code");
}

TEST(ExecutableValidation, RejectsWhatIsNotSpirv) {
  const std::string notSpirv =
      " bytes that are not a SPIR-V module (little-endian 32-bit words "
      "starting with the magic number 0x07230203)";
  EXPECT_EQ(loadError([](TinyExecutable &e) { e.data.push_back(0); }),
            "'tiny.fmc': corrupt artifact: executable 1 ('vulkan') holds 21" +
                notSpirv);
  EXPECT_EQ(loadError([](TinyExecutable &e) { e.data[0] = 0x02; }),
            "'tiny.fmc': corrupt artifact: executable 1 ('vulkan') holds 20" +
                notSpirv);
  // Other formats carry no magic number.
  EXPECT_EQ(loadError([](TinyExecutable &e) {
              e.format = "ptx";
              e.data.push_back(0);
            }),
            "");
}

TEST(ExecutableValidation, RejectsBadEntryPoints) {
  EXPECT_EQ(loadError([](TinyExecutable &e) { e.entries.clear(); }),
            "'tiny.fmc': corrupt artifact: executable 1 ('vulkan') has no "
            "entry points");
  EXPECT_EQ(loadError([](TinyExecutable &e) { e.entries[1].name = ""; }),
            "'tiny.fmc': corrupt artifact: executable 1 ('vulkan'), entry "
            "point 1 has no name");
  for (std::vector<uint32_t> size :
       {std::vector<uint32_t>{8, 1}, std::vector<uint32_t>{8, 0, 1}}) {
    EXPECT_EQ(loadError([&](TinyExecutable &e) {
                e.entries[0].workgroupSize = size;
              }),
              "'tiny.fmc': corrupt artifact: executable 1 ('vulkan'), entry "
              "point 'count' has no workgroup size of 3 nonzero sizes");
  }
}

TEST(ExecutableValidation, RejectsMissingDispatchLists) {
  EXPECT_EQ(loadError([](TinyExecutable &e) { e.hasLists = false; }),
            "'tiny.fmc': corrupt artifact: executable 1 ('vulkan') has no "
            "prefill dispatch list");
  EXPECT_EQ(loadError([](TinyExecutable &e) { e.decode.dispatches.clear(); }),
            "'tiny.fmc': corrupt artifact: executable 1 ('vulkan'), program "
            "'decode' has no dispatches");
}

TEST(ExecutableValidation, RejectsNoEntryPointsAndHugeScratch) {
  EXPECT_EQ(loadError([](TinyExecutable &e) { e.entries.clear(); }),
            "'tiny.fmc': corrupt artifact: executable 1 ('vulkan') has no "
            "entry points");
  EXPECT_THAT(loadError([](TinyExecutable &e) {
                e.decode.scratchBytes = uint64_t{1} << 41;
              }),
              testing::HasSubstr("program 'decode' has a scratch of "
                                 "2199023255552 bytes"));
}

TEST(ExecutableValidation, RejectsBadDispatches) {
  EXPECT_EQ(
      loadError([](TinyExecutable &e) { e.decode.dispatches[1].entry = 2; }),
      "'tiny.fmc': corrupt artifact: executable 1 ('vulkan'), program "
      "'decode', dispatch 1 names entry point 2 of 2");
  EXPECT_EQ(loadError([](TinyExecutable &e) {
              e.decode.dispatches[1].grid = {1, 1};
            }),
            std::string(kDecode1) + " has no grid of 3 nonzero sizes");
  EXPECT_EQ(loadError([](TinyExecutable &e) {
              e.decode.dispatches[1].grid = {0, 1, 1};
            }),
            std::string(kDecode1) + " has no grid of 3 nonzero sizes");
  EXPECT_EQ(
      loadError([](TinyExecutable &e) { e.decode.dispatches[0].kernel = 2; }),
      std::string(kDecode0) + " implements kernel 2 of 2");
  EXPECT_EQ(loadError([](TinyExecutable &e) {
              e.decode.dispatches[1].bindings.pop_back();
            }),
            std::string(kDecode1) + " has 5 bindings, its entry point takes 6");
}

TEST(ExecutableValidation, RejectsBindingsOutsideTheirMemory) {
  auto binding = [](TinyExecutable & e, int dispatch, int b) -> auto & {
    return e.decode.dispatches[dispatch].bindings[b];
  };
  // Arena: the decode arena is tinyArenaBytes(1) = 256 bytes.
  EXPECT_EQ(loadError([&](TinyExecutable &e) { binding(e, 1, 5).bytes = 96; }),
            std::string(kDecode1) +
                ", binding 5 at offset 192 with 96 bytes lies outside the "
                "arena of 256 bytes");
  EXPECT_EQ(loadError([&](TinyExecutable &e) { binding(e, 1, 2).offset = 72; }),
            std::string(kDecode1) +
                ", binding 2 starts at offset 72, not a multiple of 16");
  // Weights.
  EXPECT_EQ(loadError([&](TinyExecutable &e) { binding(e, 1, 3).index = 2; }),
            std::string(kDecode1) + ", binding 3 names tensor 2 of 2");
  EXPECT_EQ(loadError([&](TinyExecutable &e) { binding(e, 1, 3).offset = 16; }),
            std::string(kDecode1) +
                ", binding 3 at offset 16 with 256 bytes lies outside tensor "
                "'embed.table' of 256 bytes");
  EXPECT_EQ(loadError([&](TinyExecutable &e) {
              binding(e, 1, 3).offset = 8;
              binding(e, 1, 3).bytes = 8;
            }),
            std::string(kDecode1) +
                ", binding 3 starts at offset 8, not a multiple of 16");
  // Caches: 512 bytes; any offset.
  EXPECT_EQ(loadError([&](TinyExecutable &e) { binding(e, 0, 0).index = 1; }),
            std::string(kDecode0) + ", binding 0 names KV cache 1 of 1");
  EXPECT_EQ(
      loadError([&](TinyExecutable &e) { binding(e, 0, 0).offset = 484; }),
      std::string(kDecode0) +
          ", binding 0 at offset 484 with 32 bytes lies outside KV cache "
          "'cache' of 512 bytes");
  EXPECT_EQ(loadError([&](TinyExecutable &e) { binding(e, 0, 0).offset = 4; }),
            "");
  // Scratch: 32 bytes in this list.
  EXPECT_EQ(loadError([&](TinyExecutable &e) { e.decode.scratchBytes = 16; }),
            std::string(kDecode0) +
                ", binding 1 at offset 0 with 32 bytes lies outside the "
                "scratch of 16 bytes");
  // Run: 16 bytes.
  EXPECT_EQ(loadError([&](TinyExecutable &e) { binding(e, 1, 0).offset = 4; }),
            std::string(kDecode1) +
                ", binding 0 at offset 4 with 16 bytes lies outside the run "
                "record of 16 bytes");
  EXPECT_EQ(loadError([&](TinyExecutable &e) {
              binding(e, 1, 0).offset = 4;
              binding(e, 1, 0).bytes = 4;
            }),
            "");
  // No bytes, unknown memory.
  EXPECT_EQ(loadError([&](TinyExecutable &e) { binding(e, 1, 4).bytes = 0; }),
            std::string(kDecode1) + ", binding 4 has no bytes");
  EXPECT_EQ(loadError([&](TinyExecutable &e) {
              binding(e, 1, 4).memory = static_cast<M>(9);
            }),
            std::string(kDecode1) + ", binding 4 has unknown memory 9");
}

TEST(ExecutableValidation, ChecksThePrefillListToo) {
  EXPECT_EQ(loadError([](TinyExecutable &e) {
              e.prefill.dispatches[1].bindings[5].offset += 64;
            }),
            "'tiny.fmc': corrupt artifact: executable 1 ('vulkan'), program "
            "'prefill', dispatch 1 ('rows'), binding 5 at offset 320 with 128 "
            "bytes lies outside the arena of 384 bytes");
}

/// The load error of the tiny part (all-reduce kernel 1) with `damage` done
/// to its cuda executable's collective dispatch list ("" when it loads).
std::string partLoadError(const std::function<void(TinyExecutable &)> &damage) {
  TinyExecutable exe = test::tinyCollectiveExecutable(
      "cuda", "cubin", {0x7f, 'E', 'L', 'F'});
  damage(exe);
  absl::StatusOr<std::unique_ptr<Artifact>> artifact = Artifact::fromBytes(
      test::buildTinyArtifact({exe}, false, {}, /*allReduceRanks=*/2),
      "tiny.fmc");
  return artifact.ok() ? "" : std::string(artifact.status().message());
}

TEST(ExecutableValidation, ChecksCollectiveDispatches) {
  const std::string at =
      "'tiny.fmc': corrupt artifact: executable 1 ('cuda'), program "
      "'decode', dispatch 1 (collective)";
  EXPECT_EQ(partLoadError([](TinyExecutable &) {}), "");
  EXPECT_EQ(partLoadError([](TinyExecutable &e) {
              e.decode.dispatches[1].kernel = 2;
            }),
            at + " implements kernel 2, which is no all-reduce");
  EXPECT_EQ(partLoadError([](TinyExecutable &e) {
              e.decode.dispatches[1].kernel = 9;
            }),
            at + " implements kernel 9 of 3");
  EXPECT_EQ(partLoadError([](TinyExecutable &e) {
              e.decode.dispatches[1].bindings.pop_back();
            }),
            at + " has 1 bindings; its all-reduce has 1 inputs and as many "
                 "outputs");
  EXPECT_EQ(partLoadError([](TinyExecutable &e) {
              e.decode.dispatches[1].bindings[1].memory = M::Scratch;
            }),
            at + ", binding 1 is not in the arena");
  EXPECT_EQ(partLoadError([](TinyExecutable &e) {
              e.decode.dispatches[1].bindings[1].bytes = 16;
            }),
            at + ", binding 1 holds 16 bytes, not its input's whole f32 "
                 "values");
  EXPECT_EQ(partLoadError([](TinyExecutable &e) {
              e.decode.dispatches[1].bindings[0].offset = 1 << 20;
            }),
            at + ", binding 0 at offset 1048576 with 32 bytes lies outside "
                 "the arena of 320 bytes");
}

TEST(GpuDispatchPlan, CutsCacheBindingsToTheOpenedContext) {
  // The tiny cache holds 16 positions of 32 bytes. Here the counter binds
  // the cache from position 4 (byte 128) to its end.
  TinyExecutable exe = valid();
  exe.decode.dispatches[0].bindings[0] = {M::Caches, 0, 128, 384};
  absl::StatusOr<std::unique_ptr<Artifact>> artifact =
      Artifact::fromBytes(test::buildTinyArtifact({exe}), "tiny.fmc");
  ASSERT_TRUE(artifact.ok()) << artifact.status().message();
  const schema::Artifact &root = (*artifact)->root();
  const schema::Executable &vulkan = *root.executables()->Get(1);
  GpuLimits limits;
  limits.api = "Vulkan";
  auto plan = [&](int64_t context) {
    return planGpuDispatches(root, vulkan, vulkan.decode(), "decode", limits,
                             context);
  };
  // The compiled context: the binding as written.
  absl::StatusOr<GpuDispatchPlan> full = plan(0);
  ASSERT_TRUE(full.ok()) << full.status().message();
  EXPECT_EQ(full->bindings[0].offset, 128u);
  EXPECT_EQ(full->bindings[0].bytes, 384u);
  // 10 positions: the allocation's 320 bytes end the binding.
  absl::StatusOr<GpuDispatchPlan> ten = plan(10);
  ASSERT_TRUE(ten.ok()) << ten.status().message();
  EXPECT_EQ(ten->bindings[0].offset, 128u);
  EXPECT_EQ(ten->bindings[0].bytes, 192u);
  // Other memory is as compiled.
  EXPECT_EQ(ten->bindings[1].bytes, 32u);
  EXPECT_EQ(plan(5)->bindings[0].bytes, 32u);
  // 4 positions (128 bytes): nothing of the binding is allocated.
  EXPECT_EQ(plan(4).status().message(),
            "vulkan executable: decode dispatch 0 binding 0 starts at byte "
            "128 of KV cache 'cache', past the 128 bytes it holds in a "
            "context of 4 positions");
  EXPECT_EQ(plan(4).status().code(), absl::StatusCode::kFailedPrecondition);
}

} // namespace
} // namespace fmc
