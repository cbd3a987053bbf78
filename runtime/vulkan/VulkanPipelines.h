//===- VulkanPipelines.h - the vulkan executable as compute pipelines -----===//
//
// One shader module from the executable's SPIR-V and, per entry point, a
// descriptor set layout (set 0: storage buffers at bindings 0..n-1), a
// pipeline layout and a compute pipeline. Both programs share them.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_RUNTIME_VULKAN_VULKANPIPELINES_H
#define FMC_RUNTIME_VULKAN_VULKANPIPELINES_H

#include "runtime/schema/fmc_generated.h"
#include "runtime/vulkan/VulkanContext.h"

#include "absl/status/statusor.h"

#include <memory>
#include <string>
#include <vector>

namespace fmc::vulkan {

class VulkanPipelines {
public:
  struct Entry {
    std::string name;
    uint32_t bindings = 0;
    VkDescriptorSetLayout setLayout = VK_NULL_HANDLE;
    VkPipelineLayout layout = VK_NULL_HANDLE;
    VkPipeline pipeline = VK_NULL_HANDLE;
  };

  /// Fails naming the device feature the SPIR-V needs and the device lacks,
  /// or the entry point whose pipeline the driver rejected.
  static absl::StatusOr<std::unique_ptr<VulkanPipelines>>
  create(const VulkanContext &context, const schema::Executable &executable);
  ~VulkanPipelines();
  VulkanPipelines(const VulkanPipelines &) = delete;
  VulkanPipelines &operator=(const VulkanPipelines &) = delete;

  const Entry &entry(uint32_t index) const { return entries[index]; }

private:
  explicit VulkanPipelines(const VulkanContext &context) : context(context) {}
  absl::Status createEntry(const schema::EntryPoint &entryPoint);

  const VulkanContext &context;
  VkShaderModule module = VK_NULL_HANDLE;
  std::vector<Entry> entries;
};

} // namespace fmc::vulkan

#endif // FMC_RUNTIME_VULKAN_VULKANPIPELINES_H
