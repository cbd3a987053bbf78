//===- MetalPlanTest.cpp - the metal backend's host logic -----------------===//
//
// MetalPlan.cpp is what the metal device decides without Metal: these
// tests run on every platform, on small hand-built artifacts. (Which logits
// rows a run reads is the session's: test/unit/runtime/SessionTest.cpp.)
//
//===----------------------------------------------------------------------===//

#include "runtime/metal/MetalPlan.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

namespace schema = fmc::schema;
using fmc::metal::BufferArgument;
using fmc::metal::DispatchPlan;

struct EntrySpec {
  std::string name;
  std::vector<uint32_t> workgroup;
  uint32_t bindings;
};

struct DispatchSpec {
  uint32_t entry = 0;
  std::vector<uint32_t> grid = {4, 1, 1};
  std::vector<schema::Binding> bindings;
  uint32_t kernel = 0;
};

/// The executable and dispatch lists of a tiny artifact: tensors "a" (256
/// bytes at 0) and "b" (1024 bytes at 256), KV cache "kv" (4096 bytes); a
/// prefill program of 8 tokens over a 4096-byte arena (tokens at 0,
/// positions at 64, logits at 128) with one kernel (add) and a decode
/// program of 1 token over 2048 bytes.
struct Spec {
  std::string target = "metal", format = "msl";
  std::string code = "kernel void k() {}";
  std::vector<EntrySpec> entries = {{"k", {64, 1, 1}, 5}};
  std::vector<DispatchSpec> prefill = {DispatchSpec{}};
  std::vector<DispatchSpec> decode = {DispatchSpec{}};
  uint64_t scratch = 256;
  bool withExecutable = true;

  Spec() {
    for (DispatchSpec *d : {&prefill[0], &decode[0]})
      d->bindings = {
          schema::Binding(128, 64, 0, schema::BindingMemory::Arena),
          schema::Binding(16, 512, 1, schema::BindingMemory::Weights),
          schema::Binding(32, 64, 0, schema::BindingMemory::Caches),
          schema::Binding(0, 256, 0, schema::BindingMemory::Scratch),
          schema::Binding(0, 16, 0, schema::BindingMemory::Run)};
  }
};

class TinyArtifact {
public:
  explicit TinyArtifact(const Spec &spec) {
    flatbuffers::FlatBufferBuilder fbb;
    std::vector<flatbuffers::Offset<schema::Tensor>> tensors = {
        schema::CreateTensorDirect(fbb, "a", schema::DType::F32, nullptr, 0,
                                   256),
        schema::CreateTensorDirect(fbb, "b", schema::DType::F32, nullptr, 256,
                                   1024)};
    std::vector<flatbuffers::Offset<schema::KVCache>> caches = {
        schema::CreateKVCacheDirect(fbb, "kv", schema::CacheKind::Linear, 16, 1,
                                    32, schema::DType::F32, 4096)};
    auto program = [&](const char *name, int64_t maxTokens, uint64_t arena) {
      std::vector<flatbuffers::Offset<schema::Buffer>> buffers = {
          schema::CreateBufferDirect(fbb, "tokens", schema::DType::I32, 1, 0),
          schema::CreateBufferDirect(fbb, "positions", schema::DType::I32, 1,
                                     64),
          schema::CreateBufferDirect(fbb, "logits", schema::DType::F32, 4,
                                     128)};
      std::vector<flatbuffers::Offset<schema::Kernel>> kernels = {
          schema::CreateKernelDirect(fbb, schema::KernelSpec::AddSpec,
                                     schema::CreateAddSpec(fbb).Union())};
      return schema::CreateProgramDirect(fbb, name, maxTokens, arena, &buffers,
                                         &kernels, 0, 1, 2);
    };
    auto prefill = program("prefill", 8, 4096);
    auto decode = program("decode", 1, 2048);
    auto list = [&](const std::vector<DispatchSpec> &dispatches) {
      std::vector<flatbuffers::Offset<schema::Dispatch>> out;
      for (const DispatchSpec &d : dispatches)
        out.push_back(schema::CreateDispatchDirect(fbb, d.entry, &d.grid,
                                                   &d.bindings, d.kernel));
      return schema::CreateDispatchListDirect(fbb, &out, spec.scratch);
    };
    std::vector<flatbuffers::Offset<schema::Executable>> executables;
    if (spec.withExecutable) {
      std::vector<flatbuffers::Offset<schema::EntryPoint>> entries;
      for (const EntrySpec &e : spec.entries)
        entries.push_back(schema::CreateEntryPointDirect(
            fbb, e.name.c_str(), &e.workgroup, e.bindings));
      std::vector<uint8_t> code(spec.code.begin(), spec.code.end());
      auto prefillList = list(spec.prefill);
      auto decodeList = list(spec.decode);
      executables.push_back(schema::CreateExecutableDirect(
          fbb, spec.target.c_str(), spec.format.c_str(), &code, &entries,
          prefillList, decodeList));
    }
    fbb.Finish(schema::CreateArtifactDirect(fbb, 1, "test", 0, 0, &tensors,
                                            &caches, prefill, decode,
                                            &executables, 4096, 1280));
    bytes.assign(fbb.GetBufferPointer(),
                 fbb.GetBufferPointer() + fbb.GetSize());
  }
  const schema::Artifact &root() const {
    return *schema::GetArtifact(bytes.data());
  }

private:
  std::vector<uint8_t> bytes;
};

absl::StatusOr<DispatchPlan> plan(const Spec &spec, bool decode = false) {
  TinyArtifact artifact(spec);
  absl::StatusOr<const schema::Executable *> exe =
      fmc::metal::findMetalExecutable(artifact.root());
  if (!exe.ok())
    return exe.status();
  const schema::Artifact &root = artifact.root();
  return decode ? fmc::metal::planDispatches(root, **exe, (*exe)->decode(),
                                             "decode")
                : fmc::metal::planDispatches(root, **exe, (*exe)->prefill(),
                                             "prefill");
}

std::string error(const Spec &spec) {
  absl::StatusOr<DispatchPlan> result = plan(spec);
  EXPECT_FALSE(result.ok());
  return std::string(result.status().message());
}

TEST(MetalPlan, FlattensBindingsIntoBufferOffsets) {
  Spec spec;
  spec.prefill[0].grid = {4, 2};
  spec.prefill.push_back(spec.prefill[0]);
  absl::StatusOr<DispatchPlan> p = plan(spec);
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_EQ(p->dispatches.size(), 2u);
  EXPECT_EQ(p->dispatches[0].threadgroups, (std::array<uint32_t, 3>{4, 2, 1}));
  EXPECT_EQ(p->dispatches[0].threadsPerThreadgroup,
            (std::array<uint32_t, 3>{64, 1, 1}));
  EXPECT_EQ(p->dispatches[0].firstArgument, 0u);
  EXPECT_EQ(p->dispatches[1].firstArgument, 5u);
  ASSERT_EQ(p->arguments.size(), 10u);
  const std::vector<BufferArgument> &a = p->arguments;
  EXPECT_EQ(a[0].memory, schema::BindingMemory::Arena);
  EXPECT_EQ(a[0].offset, 128u);
  // Weights: one buffer for the segment, tensor "b" at 256.
  EXPECT_EQ(a[1].memory, schema::BindingMemory::Weights);
  EXPECT_EQ(a[1].offset, 256u + 16u);
  EXPECT_EQ(a[2].memory, schema::BindingMemory::Caches);
  EXPECT_EQ(a[2].cache, 0u);
  EXPECT_EQ(a[2].offset, 32u);
  EXPECT_EQ(a[3].memory, schema::BindingMemory::Scratch);
  EXPECT_EQ(a[4].memory, schema::BindingMemory::Run);
  EXPECT_EQ(p->scratchBytes, 256u);
  absl::StatusOr<DispatchPlan> d = plan(spec, /*decode=*/true);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->dispatches.size(), 1u);
}

TEST(MetalPlan, NeedsAMetalExecutable) {
  Spec spec;
  spec.target = "vulkan";
  spec.format = "spirv";
  absl::StatusOr<DispatchPlan> p = plan(spec);
  EXPECT_EQ(p.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(p.status().message(), "the artifact has no metal executable; "
                                  "recompile with --target=metal");
}

TEST(MetalPlan, RejectsBadExecutables) {
  Spec spec;
  spec.format = "spirv";
  EXPECT_EQ(error(spec), "corrupt artifact: metal executable: format 'spirv' "
                         "is neither msl nor metallib");
  spec = Spec();
  spec.code = "";
  EXPECT_EQ(error(spec),
            "corrupt artifact: metal executable: the msl code is empty");
  spec = Spec();
  spec.entries.push_back(spec.entries[0]);
  EXPECT_EQ(error(spec),
            "corrupt artifact: metal executable: entry point 'k' appears twice");
  spec = Spec();
  spec.entries[0].workgroup = {32, 32, 2};
  EXPECT_EQ(error(spec), "corrupt artifact: metal executable: entry point 'k' "
                         "has workgroup size 32x32x2, more than a Metal "
                         "workgroup holds");
  spec = Spec();
  spec.entries[0].workgroup = {64, 0, 1};
  EXPECT_EQ(error(spec), "corrupt artifact: metal executable: entry point 'k' "
                         "has no valid workgroup size");
  spec = Spec();
  spec.entries[0].bindings = 32;
  EXPECT_EQ(error(spec), "corrupt artifact: metal executable: entry point 'k' "
                         "takes 32 buffers; a Metal kernel takes at most 31");
  spec = Spec();
  spec.entries[0].name = "";
  EXPECT_EQ(error(spec),
            "corrupt artifact: metal executable: entry point 0 has no name");
}

// Ranges, alignment and indices of bindings are ArtifactValidation's
// (ExecutableValidationTest); the plan checks what it indexes.
TEST(MetalPlan, RejectsBadDispatches) {
  Spec spec;
  spec.prefill[0].entry = 1;
  EXPECT_EQ(error(spec), "corrupt artifact: metal executable: prefill "
                         "dispatch 0 does not match its entry point");
  spec = Spec();
  spec.prefill[0].grid = {4, 0};
  EXPECT_EQ(error(spec), "corrupt artifact: metal executable: prefill "
                         "dispatch 0 has no valid grid");
  spec = Spec();
  spec.prefill[0].bindings.pop_back();
  EXPECT_EQ(error(spec), "corrupt artifact: metal executable: prefill "
                         "dispatch 0 does not match its entry point");
  spec = Spec();
  spec.prefill[0].bindings[1] =
      schema::Binding(0, 16, 2, schema::BindingMemory::Weights);
  EXPECT_EQ(error(spec), "corrupt artifact: metal executable: prefill "
                         "dispatch 0 binding 1 names tensor 2 of 2");
}

TEST(MetalPlan, WrapsPageAlignedWeightsWithoutACopy) {
  using fmc::metal::planWeightsBuffer;
  fmc::metal::WeightsBuffer b = planWeightsBuffer(0x10000, 5000, 16384);
  EXPECT_TRUE(b.noCopy);
  EXPECT_EQ(b.length, 16384u); // Whole pages.
  b = planWeightsBuffer(0x10040, 5000, 16384);
  EXPECT_FALSE(b.noCopy);
  EXPECT_EQ(b.length, 5000u);
  b = planWeightsBuffer(0x10000, 0, 16384);
  EXPECT_FALSE(b.noCopy);
  EXPECT_EQ(b.length, 16u); // Metal buffers are never empty.
}

} // namespace
