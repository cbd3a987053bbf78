//===- VulkanDevice.cpp - the vulkan backend's device ---------------------===//
//
// A generic dispatch executor: it knows no kernel family. At load it
// uploads the weight segment once, allocates (zeroed) KV caches (linear ones
// for the context it is opened with, BackendOptions::context), one arena
// (the larger program's), one scratch, the run record, builds the
// executable's pipelines and records each program's command buffer
// (VulkanProgram). A run then stages its tokens, positions and run record,
// replays the program and reads back the logits rows the session wants.
//
//===----------------------------------------------------------------------===//

#include "runtime/Backend.h"
#include "runtime/GpuDispatchPlan.h"
#include "runtime/vulkan/VulkanBuffers.h"
#include "runtime/vulkan/VulkanContext.h"
#include "runtime/vulkan/VulkanPipelines.h"
#include "runtime/vulkan/VulkanProgram.h"

#include "absl/strings/str_cat.h"

#include <algorithm>

namespace fmc {

namespace {

using vulkan::Buffer;
using vulkan::BufferKind;

class VulkanDevice final : public Device {
public:
  explicit VulkanDevice(const Artifact &artifact) : artifact(artifact) {}

  absl::Status init(const BackendOptions &options);

  std::string name() const override { return "vulkan"; }
  absl::Status setInputs(ProgramKind kind, const RunInputs &inputs) override {
    program(kind).setInputs(inputs);
    return absl::OkStatus();
  }
  absl::Status execute(ProgramKind kind, LogitsRows logits,
                       std::vector<DispatchTime> &times) override {
    return program(kind).execute(logits, times);
  }
  const float *logitsRow(ProgramKind kind, int64_t row) const override {
    return programs[static_cast<size_t>(kind)]->logits(row);
  }
  absl::Status writeWeights(uint64_t offset,
                            absl::Span<const uint8_t> data) override {
    return vulkan::uploadStaged(*context, weights, offset, data.data(),
                                data.size());
  }

private:
  vulkan::VulkanProgram &program(ProgramKind kind) {
    return *programs[static_cast<size_t>(kind)];
  }
  /// `positions`: BackendOptions::context.
  absl::Status allocate(const schema::Executable &executable,
                        int64_t positions);

  const Artifact &artifact;
  // Declared first, destroyed last: everything below lives on its device.
  std::unique_ptr<vulkan::VulkanContext> context;
  std::unique_ptr<vulkan::VulkanPipelines> pipelines;
  Buffer weights, caches, arena, scratch, run;
  vulkan::DeviceMemory deviceMemory;
  /// Prefill, then decode (ProgramKind order).
  std::unique_ptr<vulkan::VulkanProgram> programs[2];
};

absl::Status VulkanDevice::init(const BackendOptions &options) {
  const schema::Artifact &root = artifact.root();
  const schema::Executable *executable = nullptr;
  for (const schema::Executable *exe : *root.executables())
    if (exe->target()->str() == "vulkan")
      executable = exe;
  if (!executable)
    return absl::FailedPreconditionError(
        "the artifact has no 'vulkan' executable; recompile with "
        "--target=vulkan");
  if (executable->format()->str() != "spirv")
    return absl::FailedPreconditionError(
        absl::StrCat("the artifact's 'vulkan' executable has format '",
                     executable->format()->str(), "', expected 'spirv'"));

  absl::StatusOr<std::unique_ptr<vulkan::VulkanContext>> created =
      vulkan::VulkanContext::create(/*rejectCpuDevices=*/options.autoSelected);
  if (!created.ok())
    return created.status();
  context = std::move(*created);
  absl::StatusOr<std::unique_ptr<vulkan::VulkanPipelines>> built =
      vulkan::VulkanPipelines::create(*context, *executable);
  if (!built.ok())
    return built.status();
  pipelines = std::move(*built);

  // The device's launch limits, checked as every GPU backend checks them
  // (GpuDispatchPlan): a grid past maxComputeWorkGroupCount is undefined
  // behaviour in Vulkan, and drivers hang or crash on it.
  const VkPhysicalDeviceLimits &device = context->limits();
  GpuLimits limits;
  limits.api = "Vulkan";
  limits.maxThreadsPerWorkgroup = device.maxComputeWorkGroupInvocations;
  for (int i = 0; i < 3; ++i) {
    limits.maxWorkgroup[i] = device.maxComputeWorkGroupSize[i];
    limits.maxGrid[i] = device.maxComputeWorkGroupCount[i];
  }
  limits.maxBindings = device.maxPerStageDescriptorStorageBuffers;
  GpuDispatchPlan plans[2];
  for (ProgramKind kind : {ProgramKind::Prefill, ProgramKind::Decode}) {
    absl::StatusOr<GpuDispatchPlan> checked = planGpuDispatches(
        root, *executable, dispatchListOf(*executable, kind),
        programName(kind), limits, options.context);
    if (!checked.ok())
      return checked.status();
    plans[static_cast<size_t>(kind)] = std::move(*checked);
  }
  if (absl::Status s = allocate(*executable, options.context); !s.ok())
    return s;

  for (ProgramKind kind : {ProgramKind::Prefill, ProgramKind::Decode}) {
    absl::StatusOr<std::unique_ptr<vulkan::VulkanProgram>> p =
        vulkan::VulkanProgram::create(
            *context, *pipelines, deviceMemory,
            programIO(programOf(root, kind)), plans[static_cast<size_t>(kind)],
            root.config()->vocab_size(), programName(kind), options.profile);
    if (!p.ok())
      return p.status();
    programs[static_cast<size_t>(kind)] = std::move(*p);
  }
  return absl::OkStatus();
}

absl::Status VulkanDevice::allocate(const schema::Executable &executable,
                                    int64_t positions) {
  const schema::Artifact &root = artifact.root();
  auto make = [&](Buffer &buffer, uint64_t bytes,
                  const std::string &what) -> absl::Status {
    absl::StatusOr<Buffer> b =
        Buffer::create(*context, bytes, BufferKind::Device, what);
    if (!b.ok())
      return b.status();
    buffer = std::move(*b);
    return vulkan::zeroBuffer(*context, buffer);
  };

  // The weight segment as it lies in the file: tensor offsets carry over.
  if (absl::Status s = make(weights, artifact.weightsBytes(), "the weights");
      !s.ok())
    return s;
  if (absl::Status s =
          vulkan::uploadStaged(*context, weights, 0, artifact.weightsData(),
                               artifact.weightsBytes());
      !s.ok())
    return s;

  // All caches in one buffer, each at an offset any binding may start at,
  // each of the positions the context gives it (the plans' cache bindings
  // end there).
  uint64_t align = std::max<uint64_t>(
      256, context->limits().minStorageBufferOffsetAlignment);
  uint64_t allCaches = 0;
  for (const schema::KVCache *c : *root.kv_caches()) {
    deviceMemory.cacheOffsets.push_back(allCaches);
    allCaches += (cacheBytes(*c, positions) + align - 1) / align * align;
  }
  uint64_t arenaBytes = sharedArenaBytes(root);
  uint64_t scratchBytes = std::max(executable.prefill()->scratch_bytes(),
                                   executable.decode()->scratch_bytes());
  if (absl::Status s = make(caches, allCaches, "the KV caches"); !s.ok())
    return s;
  if (absl::Status s = make(arena, arenaBytes, "the arena"); !s.ok())
    return s;
  if (absl::Status s = make(scratch, scratchBytes, "the scratch"); !s.ok())
    return s;
  if (absl::Status s = make(run, sizeof(RunRecord), "the run record"); !s.ok())
    return s;
  deviceMemory.weights = &weights;
  deviceMemory.caches = &caches;
  deviceMemory.arena = &arena;
  deviceMemory.scratch = &scratch;
  deviceMemory.run = &run;
  return absl::OkStatus();
}

} // namespace

absl::StatusOr<std::unique_ptr<Device>>
createVulkanDevice(const Artifact &artifact, const BackendOptions &options) {
  auto device = std::make_unique<VulkanDevice>(artifact);
  if (absl::Status s = device->init(options); !s.ok())
    return s;
  return std::unique_ptr<Device>(std::move(device));
}

absl::Status probeVulkanDevice() { return vulkan::VulkanContext::probe(); }

} // namespace fmc
