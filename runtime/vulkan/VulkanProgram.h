//===- VulkanProgram.h - one program's dispatch list, recorded once -------===//
//
// At load, a program's dispatches become one command buffer: copy the
// staged run record, tokens and positions into device memory, then every
// dispatch with its own preallocated descriptor set, separated by
// compute-to-compute memory barriers (each dispatch sees every write of the
// ones before it). A run's inputs (tokens, positions, the run record) go
// into this program's staging buffer; executing it records a small
// readback command buffer for the logits rows wanted, submits both and
// waits.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_RUNTIME_VULKAN_VULKANPROGRAM_H
#define FMC_RUNTIME_VULKAN_VULKANPROGRAM_H

#include "runtime/Device.h"
#include "runtime/GpuDispatchPlan.h"
#include "runtime/schema/fmc_generated.h"
#include "runtime/vulkan/VulkanBuffers.h"
#include "runtime/vulkan/VulkanPipelines.h"

#include "absl/status/statusor.h"

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace fmc::vulkan {

/// The device memory bindings point into (BindingMemory). The weight
/// segment lies in `weights` as in the file (the plan's weight offsets
/// carry over).
struct DeviceMemory {
  const Buffer *arena = nullptr, *weights = nullptr, *caches = nullptr,
               *scratch = nullptr, *run = nullptr;
  /// Where cache i lies in `caches`.
  std::vector<uint64_t> cacheOffsets;
};

class VulkanProgram {
public:
  /// Records `plan` (its dispatch list, checked against the device) for
  /// `program` (`name`: "prefill" or "decode"). `profile`: time every
  /// dispatch with timestamp queries.
  static absl::StatusOr<std::unique_ptr<VulkanProgram>>
  create(VulkanContext &context, const VulkanPipelines &pipelines,
         const DeviceMemory &memory, const ProgramIO &io,
         const GpuDispatchPlan &plan, int64_t vocab, const std::string &name,
         bool profile);
  ~VulkanProgram();
  VulkanProgram(const VulkanProgram &) = delete;
  VulkanProgram &operator=(const VulkanProgram &) = delete;

  /// Stages the next run's token ids, positions and run record.
  void setInputs(const RunInputs &inputs);

  /// Runs the program on the staged inputs and reads logits rows `rows`
  /// back; appends every dispatch's time to `times` when profiling.
  absl::Status execute(LogitsRows rows, std::vector<DispatchTime> &times);

  /// Logits row `row` of the last run (read back by it).
  const float *logits(int64_t row) const {
    return reinterpret_cast<const float *>(staging.mapped() + logitsAt) +
           row * vocab;
  }

private:
  VulkanProgram(VulkanContext &context) : context(context) {}
  absl::Status bind(const VulkanPipelines &pipelines,
                    const DeviceMemory &memory, const GpuDispatchPlan &plan);
  absl::Status record(const VulkanPipelines &pipelines,
                      const DeviceMemory &memory, const GpuDispatchPlan &plan);

  VulkanContext &context;
  std::string name;
  int64_t maxRows = 0, vocab = 0;
  Buffer staging;
  // Staging layout: run record at 0, then tokens, positions, logits.
  uint64_t tokensAt = 0, positionsAt = 0, logitsAt = 0;
  uint64_t arenaTokens = 0, arenaPositions = 0, arenaLogits = 0;
  const Buffer *arena = nullptr;
  VkDescriptorPool pool = VK_NULL_HANDLE;
  std::vector<VkDescriptorSet> sets;
  VkCommandBuffer main = VK_NULL_HANDLE, readback = VK_NULL_HANDLE;
  VkQueryPool queries = VK_NULL_HANDLE;
  /// The program kernel each dispatch implements, for profiles.
  std::vector<uint32_t> kernels;
};

} // namespace fmc::vulkan

#endif // FMC_RUNTIME_VULKAN_VULKANPROGRAM_H
