//===- VulkanContext.h - instance, device and compute queue ---------------===//
//
// Opens the Vulkan loader, creates an instance, picks a physical device
// (discrete, then integrated, then virtual GPUs, CPU implementations such
// as lavapipe last) with a compute queue and Vulkan 1.2, and creates a
// logical device with the storage and arithmetic features fmc's kernels
// may use enabled where the device has them. Also: memory type choice and
// one-shot command submission.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_RUNTIME_VULKAN_VULKANCONTEXT_H
#define FMC_RUNTIME_VULKAN_VULKANCONTEXT_H

#include "runtime/vulkan/SpirvModule.h"
#include "runtime/vulkan/VulkanApi.h"

#include "absl/status/statusor.h"
#include "absl/types/span.h"

#include <functional>
#include <memory>
#include <string>

namespace fmc::vulkan {

class VulkanContext {
public:
  /// `rejectCpuDevices`: fail (FailedPrecondition) rather than pick a CPU
  /// implementation, for `--backend auto`, which then runs the cpu backend.
  static absl::StatusOr<std::unique_ptr<VulkanContext>>
  create(bool rejectCpuDevices);
  /// Whether create(/*rejectCpuDevices=*/true) would find a device: the
  /// loader, an instance and the device choice, no logical device.
  static absl::Status probe();
  ~VulkanContext();
  VulkanContext(const VulkanContext &) = delete;
  VulkanContext &operator=(const VulkanContext &) = delete;

  const VulkanApi &vk() const { return api; }
  VkDevice device() const { return device_; }
  const VkPhysicalDeviceLimits &limits() const { return properties.limits; }
  const DeviceFeatures &features() const { return features_; }
  std::string deviceName() const { return properties.deviceName; }
  /// Nanoseconds per timestamp tick; 0 when the compute queue has no
  /// timestamps.
  double timestampPeriodNs() const { return timestampPeriod; }
  /// The bits of a timestamp that count (differences wrap at 2^bits).
  uint64_t timestampMask() const { return timestampBits; }
  VkCommandPool commandPool() const { return pool; }

  /// A memory type among `typeBits` with all `required` properties and, if
  /// any has them, the `preferred` ones too.
  absl::StatusOr<uint32_t> memoryType(uint32_t typeBits,
                                      VkMemoryPropertyFlags required,
                                      VkMemoryPropertyFlags preferred) const;

  /// Submits `commandBuffers` in order and waits for them to finish.
  absl::Status submitAndWait(absl::Span<const VkCommandBuffer> commandBuffers);

  /// Records a one-time command buffer with `record`, runs it, waits.
  absl::Status runOnce(const std::function<void(VkCommandBuffer)> &record);

private:
  VulkanContext() = default;
  absl::Status createInstance();
  absl::Status pickDevice(bool rejectCpuDevices);
  absl::Status createDevice();

  VulkanApi api;
  VkInstance instance = VK_NULL_HANDLE;
  VkPhysicalDevice physical = VK_NULL_HANDLE;
  VkPhysicalDeviceProperties properties{};
  VkPhysicalDeviceMemoryProperties memory{};
  DeviceFeatures features_;
  uint32_t queueFamily = 0;
  double timestampPeriod = 0;
  uint64_t timestampBits = ~uint64_t{0};
  VkDevice device_ = VK_NULL_HANDLE;
  VkQueue queue = VK_NULL_HANDLE;
  VkCommandPool pool = VK_NULL_HANDLE;
  VkFence fence = VK_NULL_HANDLE;
};

} // namespace fmc::vulkan

#endif // FMC_RUNTIME_VULKAN_VULKANCONTEXT_H
