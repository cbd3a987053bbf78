//===- VulkanApi.h - the Vulkan functions fmc calls, loaded at run time ---===//
//
// fmc-run links no Vulkan library: it must start on machines without a
// Vulkan loader (and report that cleanly), and its link check allows only
// the C and C++ runtimes. So libvulkan.so.1 is opened with dlopen and every
// function is fetched through vkGetInstanceProcAddr / vkGetDeviceProcAddr
// into this table (device functions straight from the driver, skipping the
// loader's trampoline).
//
//===----------------------------------------------------------------------===//

#ifndef FMC_RUNTIME_VULKAN_VULKANAPI_H
#define FMC_RUNTIME_VULKAN_VULKANAPI_H

#ifndef VK_NO_PROTOTYPES
#define VK_NO_PROTOTYPES
#endif
#include <vulkan/vulkan.h>

#include "absl/status/status.h"

#include <string>

namespace fmc::vulkan {

// Functions fetched with a null instance.
#define FMC_VK_GLOBAL_FUNCTIONS(X)                                             \
  X(vkCreateInstance)                                                          \
  X(vkEnumerateInstanceVersion)

#define FMC_VK_INSTANCE_FUNCTIONS(X)                                           \
  X(vkDestroyInstance)                                                         \
  X(vkEnumeratePhysicalDevices)                                                \
  X(vkGetPhysicalDeviceProperties)                                             \
  X(vkGetPhysicalDeviceProperties2)                                            \
  X(vkGetPhysicalDeviceFeatures2)                                              \
  X(vkGetPhysicalDeviceQueueFamilyProperties)                                  \
  X(vkGetPhysicalDeviceMemoryProperties)                                       \
  X(vkCreateDevice)                                                            \
  X(vkGetDeviceProcAddr)

#define FMC_VK_DEVICE_FUNCTIONS(X)                                             \
  X(vkDestroyDevice)                                                           \
  X(vkGetDeviceQueue)                                                          \
  X(vkDeviceWaitIdle)                                                          \
  X(vkCreateBuffer)                                                            \
  X(vkDestroyBuffer)                                                           \
  X(vkGetBufferMemoryRequirements)                                             \
  X(vkAllocateMemory)                                                          \
  X(vkFreeMemory)                                                              \
  X(vkBindBufferMemory)                                                        \
  X(vkMapMemory)                                                               \
  X(vkUnmapMemory)                                                             \
  X(vkCreateShaderModule)                                                      \
  X(vkDestroyShaderModule)                                                     \
  X(vkCreateDescriptorSetLayout)                                               \
  X(vkDestroyDescriptorSetLayout)                                              \
  X(vkCreatePipelineLayout)                                                    \
  X(vkDestroyPipelineLayout)                                                   \
  X(vkCreateComputePipelines)                                                  \
  X(vkDestroyPipeline)                                                         \
  X(vkCreateDescriptorPool)                                                    \
  X(vkDestroyDescriptorPool)                                                   \
  X(vkAllocateDescriptorSets)                                                  \
  X(vkUpdateDescriptorSets)                                                    \
  X(vkCreateCommandPool)                                                       \
  X(vkDestroyCommandPool)                                                      \
  X(vkAllocateCommandBuffers)                                                  \
  X(vkFreeCommandBuffers)                                                      \
  X(vkBeginCommandBuffer)                                                      \
  X(vkEndCommandBuffer)                                                        \
  X(vkResetCommandBuffer)                                                      \
  X(vkCmdBindPipeline)                                                         \
  X(vkCmdBindDescriptorSets)                                                   \
  X(vkCmdDispatch)                                                             \
  X(vkCmdPipelineBarrier)                                                      \
  X(vkCmdCopyBuffer)                                                           \
  X(vkCmdFillBuffer)                                                           \
  X(vkCmdResetQueryPool)                                                       \
  X(vkCmdWriteTimestamp)                                                       \
  X(vkCreateQueryPool)                                                         \
  X(vkDestroyQueryPool)                                                        \
  X(vkGetQueryPoolResults)                                                     \
  X(vkCreateFence)                                                             \
  X(vkDestroyFence)                                                            \
  X(vkResetFences)                                                             \
  X(vkWaitForFences)                                                           \
  X(vkQueueSubmit)

/// The loaded library and its function pointers. Global functions are set
/// by load(), instance functions by loadInstance(), device functions by
/// loadDevice().
struct VulkanApi {
  void *library = nullptr;
  PFN_vkGetInstanceProcAddr vkGetInstanceProcAddr = nullptr;
#define FMC_VK_DECLARE(name) PFN_##name name = nullptr;
  FMC_VK_GLOBAL_FUNCTIONS(FMC_VK_DECLARE)
  FMC_VK_INSTANCE_FUNCTIONS(FMC_VK_DECLARE)
  FMC_VK_DEVICE_FUNCTIONS(FMC_VK_DECLARE)
#undef FMC_VK_DECLARE

  VulkanApi() = default;
  VulkanApi(const VulkanApi &) = delete;
  VulkanApi &operator=(const VulkanApi &) = delete;
  ~VulkanApi();

  /// Opens libvulkan.so.1; Unavailable "no Vulkan loader ..." when absent.
  absl::Status load();
  absl::Status loadInstance(VkInstance instance);
  absl::Status loadDevice(VkDevice device);
};

/// "VK_ERROR_OUT_OF_DEVICE_MEMORY" and so on.
const char *resultName(VkResult result);

/// An Internal (or ResourceExhausted, for out-of-memory) status saying that
/// `what` failed with `result`.
absl::Status vkError(VkResult result, const std::string &what);

} // namespace fmc::vulkan

#endif // FMC_RUNTIME_VULKAN_VULKANAPI_H
