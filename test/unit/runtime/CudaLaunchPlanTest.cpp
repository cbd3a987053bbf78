//===- CudaLaunchPlanTest.cpp - the cuda backend's host logic -------------===//
//
// Dispatch lists checked and turned into kernel parameters, the graph and
// programmatic-launch decisions, and the driver loader's no-driver and
// no-device paths. None of it needs a GPU.
//
//===----------------------------------------------------------------------===//

#include "runtime/Backend.h"
#include "runtime/cuda/CudaDriver.h"
#include "runtime/cuda/LaunchPlan.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

namespace fmc::cuda {
namespace {

/// What a test changes in the little artifact below.
struct Shape {
  std::vector<uint32_t> workgroup = {128, 1, 1};
  std::vector<uint32_t> grid = {4, 2};
  uint32_t entryBindings = 5;
  uint32_t entry = 0;
  /// (offset, bytes, index, memory) of the one dispatch's bindings.
  std::vector<schema::Binding> bindings = {
      schema::Binding(64, 256, 0, schema::BindingMemory::Arena),
      schema::Binding(16, 32, 1, schema::BindingMemory::Weights),
      schema::Binding(0, 512, 1, schema::BindingMemory::Caches),
      schema::Binding(32, 64, 0, schema::BindingMemory::Scratch),
      schema::Binding(0, 16, 0, schema::BindingMemory::Run)};
  bool decodeList = true;
};

/// An artifact (header only) with two tensors (at segment offsets 0 and
/// 128, 100 and 64 bytes, in a segment of 256), two KV caches (1024 and 512
/// bytes), an arena of 4096 bytes and one cuda executable whose decode list is
/// one dispatch.
std::vector<uint8_t> buildArtifact(const Shape &shape) {
  flatbuffers::FlatBufferBuilder b;
  std::vector<flatbuffers::Offset<schema::Tensor>> tensors = {
      schema::CreateTensorDirect(b, "a", schema::DType::F32, nullptr, 0, 100),
      schema::CreateTensorDirect(b, "b", schema::DType::F32, nullptr, 128, 64)};
  std::vector<flatbuffers::Offset<schema::KVCache>> caches = {
      schema::CreateKVCacheDirect(b, "c0", schema::CacheKind::Linear, 4, 1, 1,
                                  schema::DType::F32, 1024),
      schema::CreateKVCacheDirect(b, "c1", schema::CacheKind::Linear, 4, 1, 1,
                                  schema::DType::F32, 512)};
  std::vector<flatbuffers::Offset<schema::Kernel>> kernels;
  kernels.push_back(schema::CreateKernel(b, schema::KernelSpec::AddSpec,
                                         schema::CreateAddSpec(b).Union()));
  auto program =
      schema::CreateProgramDirect(b, "decode", 1, 4096, nullptr, &kernels);
  std::vector<flatbuffers::Offset<schema::EntryPoint>> entries = {
      schema::CreateEntryPointDirect(b, "k0", &shape.workgroup,
                                     shape.entryBindings)};
  std::vector<flatbuffers::Offset<schema::Dispatch>> dispatches = {
      schema::CreateDispatchDirect(b, shape.entry, &shape.grid, &shape.bindings,
                                   0)};
  auto list = schema::CreateDispatchListDirect(b, &dispatches, 128);
  auto exe = schema::CreateExecutableDirect(
      b, "cuda", "ptx", nullptr, &entries, 0,
      shape.decodeList ? list : flatbuffers::Offset<schema::DispatchList>());
  std::vector<flatbuffers::Offset<schema::Executable>> exes = {exe};
  auto root = schema::CreateArtifactDirect(b, 1, "test", 0, 0, &tensors,
                                           &caches, program, program, &exes,
                                           /*weights_offset=*/4096,
                                           /*weights_bytes=*/256);
  b.Finish(root);
  return std::vector<uint8_t>(b.GetBufferPointer(),
                              b.GetBufferPointer() + b.GetSize());
}

absl::StatusOr<LaunchPlan> plan(const Shape &shape) {
  static std::vector<uint8_t> bytes; // Outlives the plan's checks.
  bytes = buildArtifact(shape);
  const schema::Artifact &a = *schema::GetArtifact(bytes.data());
  return planLaunches(a, *a.executables()->Get(0), *a.decode(),
                      a.executables()->Get(0)->decode(), "decode");
}

TEST(CudaLaunchPlan, FlattensADispatchIntoOnePointerPerBinding) {
  absl::StatusOr<LaunchPlan> p = plan(Shape());
  ASSERT_TRUE(p.ok()) << p.status().message();
  ASSERT_EQ(p->launches.size(), 1u);
  const Launch &l = p->launches[0];
  EXPECT_EQ(l.grid, (std::array<uint32_t, 3>{4, 2, 1}));
  EXPECT_EQ(l.block, (std::array<uint32_t, 3>{128, 1, 1}));
  EXPECT_EQ(l.firstParam, 0u);
  EXPECT_EQ(l.params, 5u);
  EXPECT_EQ(p->scratchBytes, 128u);

  DeviceBases bases;
  bases.arena = 0x10000;
  bases.weights = 0x20000;
  bases.scratch = 0x30000;
  bases.run = 0x40000;
  bases.caches = {0x50000, 0x60000};
  std::vector<uint64_t> values = resolveParams(*p, bases);
  // Weights add the tensor's segment offset (128) to the binding's (16);
  // caches resolve per index.
  EXPECT_EQ(values, (std::vector<uint64_t>{0x10000 + 64, 0x20000 + 128 + 16,
                                           0x60000, 0x30000 + 32, 0x40000}));
}

std::string planError(const std::function<void(Shape &)> &change) {
  Shape shape;
  change(shape);
  absl::StatusOr<LaunchPlan> p = plan(shape);
  if (p.ok())
    return "ok";
  EXPECT_EQ(p.status().code(), absl::StatusCode::kDataLoss);
  return std::string(p.status().message());
}

// Ranges, alignment and indices of bindings are ArtifactValidation's
// (ExecutableValidationTest); the plan checks what it indexes.
TEST(CudaLaunchPlan, RejectsBindingsToMissingTensors) {
  EXPECT_EQ(planError([](Shape &s) {
              s.bindings[1] =
                  schema::Binding(0, 4, 2, schema::BindingMemory::Weights);
            }),
            "corrupt artifact: cuda executable: decode dispatch 0 binding 1 "
            "names tensor 2 of 2");
}

TEST(CudaLaunchPlan, AcceptsTensorPaddingAndUnalignedCachePlaces) {
  // Tensor 'a' has 100 bytes; kernels read whole words up to the next
  // 64-byte boundary (128). Places inside a cache need no alignment.
  EXPECT_EQ(planError([](Shape &s) {
              s.bindings[1] =
                  schema::Binding(0, 128, 0, schema::BindingMemory::Weights);
              s.bindings[2] =
                  schema::Binding(8, 16, 0, schema::BindingMemory::Caches);
            }),
            "ok");
}

TEST(CudaLaunchPlan, RejectsBadEntryPointsAndGrids) {
  const std::string prefix = "corrupt artifact: cuda executable: ";
  EXPECT_EQ(planError([](Shape &s) { s.entry = 1; }),
            prefix + "decode dispatch 0 does not match its entry point");
  EXPECT_EQ(planError([](Shape &s) { s.entryBindings = 4; }),
            prefix + "decode dispatch 0 does not match its entry point");
  EXPECT_EQ(planError([](Shape &s) {
              s.grid = {4, 0};
            }),
            prefix + "decode dispatch 0 has no valid grid");
  EXPECT_EQ(planError([](Shape &s) {
              s.grid = {1, 70000};
            }),
            prefix + "decode dispatch 0 has grid 1x70000x1, more than a CUDA "
                     "launch allows");
  EXPECT_EQ(planError([](Shape &s) {
              s.workgroup = {64, 32};
            }),
            prefix + "entry point 'k0' has workgroup size 64x32x1, more than "
                     "a CUDA workgroup holds");
  EXPECT_EQ(planError([](Shape &s) { s.workgroup = {}; }),
            prefix + "entry point 'k0' has no valid workgroup size");
  EXPECT_EQ(planError([](Shape &s) { s.decodeList = false; }),
            prefix + "no decode dispatch list");
}

TEST(CudaLaunchPlan, GraphsUnlessProfilingOrTurnedOff) {
  absl::StatusOr<LaunchPlan> p = plan(Shape());
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(useGraph(*p, false, nullptr));
  EXPECT_TRUE(useGraph(*p, false, "1"));
  EXPECT_FALSE(useGraph(*p, false, "0"));
  EXPECT_FALSE(useGraph(*p, true, nullptr));
  EXPECT_FALSE(useGraph(LaunchPlan(), false, nullptr));
}

TEST(CudaLaunchPlan, ProgrammaticLaunchOnlyForWaitingCodeOnSm90) {
  // Code whose kernels wait (griddepcontrol.wait), on sm_90 or later, with
  // a driver that has cuLaunchKernelEx.
  EXPECT_TRUE(useProgrammaticLaunch(true, 9, true));
  EXPECT_TRUE(useProgrammaticLaunch(true, 10, true));
  // sm_80 has no griddepcontrol; unflagged code does not wait; an older
  // driver cannot ask.
  EXPECT_FALSE(useProgrammaticLaunch(true, 8, true));
  EXPECT_FALSE(useProgrammaticLaunch(false, 9, true));
  EXPECT_FALSE(useProgrammaticLaunch(true, 9, false));
}

/// An executable with one entry point 'k0' of `bindings` bindings and
/// workgroup `workgroup`, for the PTX checks.
std::vector<uint8_t> entryExecutable(uint32_t bindings,
                                     std::vector<uint32_t> workgroup) {
  flatbuffers::FlatBufferBuilder b;
  std::vector<flatbuffers::Offset<schema::EntryPoint>> entries = {
      schema::CreateEntryPointDirect(b, "k0", &workgroup, bindings)};
  b.Finish(schema::CreateExecutableDirect(b, "cuda", "ptx", nullptr, &entries));
  return std::vector<uint8_t>(b.GetBufferPointer(),
                              b.GetBufferPointer() + b.GetSize());
}

std::string ptxError(const std::string &ptx, uint32_t bindings = 2,
                     std::vector<uint32_t> workgroup = {128, 1, 1}) {
  std::vector<uint8_t> bytes = entryExecutable(bindings, workgroup);
  absl::Status s = checkPtxEntryPoints(
      ptx, *flatbuffers::GetRoot<schema::Executable>(bytes.data()));
  return s.ok() ? "ok" : std::string(s.message());
}

// The shape of an entry as LLVM's NVPTX backend prints it.
const char *kPtx = R"(
//
// Generated by LLVM NVPTX Back-End
//
.version 8.0
.target sm_80
.address_size 64

	// .globl	k0
.visible .entry k0(
	.param .u64 .ptr .global .align 16 k0_param_0,
	.param .u64 .ptr .global .align 16 k0_param_1
)
.reqntid 128, 1, 1
{
	ret;
}
// .entry k1( is a comment
.visible .entry k1(
	.param .u64 k1_param_0
)
{
	ret;
}
)";

TEST(CudaPtxCheck, AcceptsEntriesThatMatchTheirEntryPoints) {
  EXPECT_EQ(ptxError(kPtx), "ok");
}

TEST(CudaPtxCheck, ReportsEveryMismatchWithTheEntryPoints) {
  const std::string prefix = "corrupt artifact: cuda executable: ";
  EXPECT_EQ(ptxError(kPtx, 3),
            prefix + "kernel 'k0' of the PTX takes 2 parameters (2 of 64 "
                     "bits), its entry point 3 bindings (one pointer each)");
  EXPECT_EQ(ptxError(kPtx, 2, {64, 2, 1}),
            prefix + "kernel 'k0' of the PTX requires 128x1x1 threads, its "
                     "entry point's workgroup is 64x2x1");
  std::string renamed = kPtx;
  renamed.replace(renamed.find(".entry k0("), 10, ".entry kx(");
  EXPECT_EQ(ptxError(renamed),
            prefix + "entry point 'k0' is not a kernel (.entry) of its PTX");
  // A memref descriptor (pointer, pointer, offset, size, stride) instead of
  // a bare pointer: the calling convention fmc.fbs does not use.
  std::string descriptor = kPtx;
  descriptor.replace(
      descriptor.find(".param .u64 .ptr .global .align 16 k0_param_1"), 45,
      ".param .u32 k0_param_1");
  EXPECT_EQ(ptxError(descriptor),
            prefix + "kernel 'k0' of the PTX takes 2 parameters (1 of 64 "
                     "bits), its entry point 2 bindings (one pointer each)");
  std::string external = kPtx;
  external.insert(external.find(".visible .entry k0("),
                  ".extern .func  (.param .b32 func_retval0) __nv_fmaxf\n"
                  "(\n\t.param .b32 __nv_fmaxf_param_0,\n\t.param .b32 "
                  "__nv_fmaxf_param_1\n)\n;\n");
  EXPECT_EQ(ptxError(external),
            prefix + "its PTX calls '__nv_fmaxf', a function it does not "
                     "define");
  std::string capped = kPtx;
  capped.replace(capped.find(".reqntid 128, 1, 1"), 18, ".maxntid 64, 1, 1");
  EXPECT_EQ(ptxError(capped),
            prefix + "kernel 'k0' of the PTX allows at most 64x1x1 threads, "
                     "its entry point's workgroup is 128x1x1");
}

TEST(CudaLoadOrder, PrefersTheDevicesCubinThenPtxItCanJit) {
  std::vector<CodeImage> images = {{"cubin", "sm_80"},
                                   {"cubin", "sm_90"},
                                   {"ptx", "sm_80"},
                                   {"ptx", "sm_90"}};
  // H100 (9.0): its cubin, then the newest PTX, then the older PTX; the
  // sm_80 cubin cannot run there (another major) and goes last.
  EXPECT_EQ(loadOrder(images, 9, 0), (std::vector<size_t>{1, 3, 2, 0}));
  // A100 (8.0): its cubin, the sm_80 PTX; sm_90 code last.
  EXPECT_EQ(loadOrder(images, 8, 0), (std::vector<size_t>{0, 2, 1, 3}));
  // RTX 4090 (8.9): the sm_80 cubin runs on a later minor of its major.
  EXPECT_EQ(loadOrder(images, 8, 9), (std::vector<size_t>{0, 2, 1, 3}));
  // Blackwell (10.0): no cubin fits; the newest PTX JITs.
  EXPECT_EQ(loadOrder(images, 10, 0), (std::vector<size_t>{3, 2, 0, 1}));
  // PTX that states no architecture is tried like PTX that fits.
  EXPECT_EQ(loadOrder({{"cubin", "sm_90"}, {"ptx", ""}}, 8, 0),
            (std::vector<size_t>{1, 0}));
}

/// Sets an environment variable for one scope.
class ScopedEnv {
public:
  ScopedEnv(const char *name, const char *value) : name(name) {
    if (const char *old = std::getenv(name))
      saved = old, had = true;
    setenv(name, value, 1);
  }
  ~ScopedEnv() {
    if (had)
      setenv(name, saved.c_str(), 1);
    else
      unsetenv(name);
  }

private:
  const char *name;
  std::string saved;
  bool had = false;
};

TEST(CudaDriver, NoLibraryIsNoDriver) {
  ScopedEnv env("FMC_CUDA_DRIVER", "/nonexistent/libcuda.so.1");
  EXPECT_EQ(driverLibraryPath(), "/nonexistent/libcuda.so.1");
  absl::StatusOr<std::shared_ptr<const Driver>> d = loadDriver();
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(d.status().message(),
            "no CUDA driver (/nonexistent/libcuda.so.1 not found)");
  // fmc-run compiles a model for cuda only where the probe finds a device.
  absl::Status probe = probeCudaDevice();
  EXPECT_EQ(probe.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(probe.message(), d.status().message());
  EXPECT_NE(bestBackendHere(), "cuda");
}

TEST(CudaDriver, ALibraryWithoutTheDriverApiIsUnusable) {
  // libc loads but exports no cuInit.
  ScopedEnv env("FMC_CUDA_DRIVER", "libc.so.6");
  absl::StatusOr<std::shared_ptr<const Driver>> d = loadDriver();
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(d.status().message(),
            "no usable CUDA driver (libc.so.6 lacks cuInit; fmc needs a "
            "driver of CUDA 11.4 or later)");
}

TEST(CudaDriver, DefaultsToTheVersionedDriverLibrary) {
  if (std::getenv("FMC_CUDA_DRIVER"))
    GTEST_SKIP() << "FMC_CUDA_DRIVER is set in this environment";
  EXPECT_EQ(driverLibraryPath(), "libcuda.so.1");
}

TEST(CudaDriver, NamesErrorsTheStubCannotName) {
  EXPECT_STREQ(knownErrorName(34), "CUDA_ERROR_STUB_LIBRARY");
  EXPECT_STREQ(knownErrorName(100), "CUDA_ERROR_NO_DEVICE");
  EXPECT_STREQ(knownErrorName(218), "CUDA_ERROR_INVALID_PTX");
  EXPECT_EQ(knownErrorName(12345), nullptr);
}

#ifdef FMC_CUDA_STUB
// The toolkit's stub libcuda exports every entry point (so the loader
// resolves all of them) but every call fails: the backend must report "no
// CUDA device" from cuInit, before it touches the artifact's executables.
TEST(CudaDriver, TheToolkitStubResolvesEverySymbolAndHasNoDevice) {
  ScopedEnv env("FMC_CUDA_DRIVER", FMC_CUDA_STUB);
  absl::StatusOr<std::shared_ptr<const Driver>> d = loadDriver();
  ASSERT_TRUE(d.ok()) << d.status().message();
  absl::StatusOr<std::unique_ptr<Artifact>> artifact =
      Artifact::open(FMC_TEST_ARTIFACT);
  ASSERT_TRUE(artifact.ok()) << artifact.status().message();
  absl::StatusOr<std::unique_ptr<Device>> device =
      createCudaDevice(**artifact, BackendOptions());
  ASSERT_FALSE(device.ok());
  EXPECT_EQ(device.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(device.status().message(),
            "no CUDA device (cuInit: CUDA_ERROR_STUB_LIBRARY (34))");
  EXPECT_EQ(probeCudaDevice().message(), device.status().message());
}
#endif

} // namespace
} // namespace fmc::cuda
