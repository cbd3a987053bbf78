//===- VulkanPipelines.cpp - shader module and compute pipelines ----------===//

#include "runtime/vulkan/VulkanPipelines.h"

#include "runtime/vulkan/SpirvModule.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

#include <cstring>

namespace fmc::vulkan {

absl::StatusOr<std::unique_ptr<VulkanPipelines>>
VulkanPipelines::create(const VulkanContext &context,
                        const schema::Executable &executable) {
  // Validation guarantees whole words and the magic number; the bytes of a
  // FlatBuffer vector need not be 4-byte aligned, so copy them into words.
  std::vector<uint32_t> words(executable.data()->size() / 4);
  std::memcpy(words.data(), executable.data()->data(), words.size() * 4);
  if (absl::Status s = validateSpirv(words); !s.ok())
    return s;
  absl::StatusOr<SpirvModuleInfo> info = parseSpirv(words);
  if (!info.ok())
    return info.status();
  if (absl::Status s = checkCapabilities(info->capabilities, context.features(),
                                         context.deviceName());
      !s.ok())
    return s;
  uint32_t layoutBindings = 0;
  for (const schema::EntryPoint *ep : *executable.entry_points())
    layoutBindings = std::max(layoutBindings, ep->bindings());
  if (info->maxDescriptorSet != 0 || info->bindingCount > layoutBindings)
    return absl::DataLossError(absl::StrCat(
        "corrupt artifact: the vulkan executable's SPIR-V uses descriptor "
        "set ",
        info->maxDescriptorSet, " and ", info->bindingCount,
        " bindings; its entry points bind set 0 with at most ",
        layoutBindings));
  for (const schema::EntryPoint *ep : *executable.entry_points())
    if (std::find(info->computeEntryPoints.begin(),
                  info->computeEntryPoints.end(),
                  ep->name()->str()) == info->computeEntryPoints.end())
      return absl::FailedPreconditionError(absl::StrCat(
          "the vulkan executable's SPIR-V has no compute entry point '",
          ep->name()->str(), "'"));

  std::unique_ptr<VulkanPipelines> result(new VulkanPipelines(context));
  VkShaderModuleCreateInfo moduleInfo{
      VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO};
  moduleInfo.codeSize = words.size() * 4;
  moduleInfo.pCode = words.data();
  if (VkResult r = context.vk().vkCreateShaderModule(
          context.device(), &moduleInfo, nullptr, &result->module);
      r != VK_SUCCESS)
    return vkError(r, "creating the shader module of the vulkan executable");
  for (const schema::EntryPoint *entryPoint : *executable.entry_points())
    if (absl::Status s = result->createEntry(*entryPoint); !s.ok())
      return s;
  return result;
}

absl::Status VulkanPipelines::createEntry(const schema::EntryPoint &ep) {
  const VulkanApi &vk = context.vk();
  const VkPhysicalDeviceLimits &limits = context.limits();
  entries.emplace_back();
  Entry &entry = entries.back();
  entry.name = ep.name()->str();
  entry.bindings = ep.bindings();
  std::string what = absl::StrCat("entry point '", entry.name, "'");
  uint32_t x = ep.workgroup_size()->Get(0), y = ep.workgroup_size()->Get(1),
           z = ep.workgroup_size()->Get(2);
  if (x > limits.maxComputeWorkGroupSize[0] ||
      y > limits.maxComputeWorkGroupSize[1] ||
      z > limits.maxComputeWorkGroupSize[2] ||
      uint64_t{x} * y * z > limits.maxComputeWorkGroupInvocations)
    return absl::FailedPreconditionError(absl::StrCat(
        what, " has workgroups of ", x, "x", y, "x", z,
        ", more than the Vulkan device '", context.deviceName(), "' runs (",
        limits.maxComputeWorkGroupInvocations, " invocations)"));
  if (entry.bindings > limits.maxPerStageDescriptorStorageBuffers)
    return absl::FailedPreconditionError(absl::StrCat(
        what, " takes ", entry.bindings,
        " storage buffers; the Vulkan device '", context.deviceName(),
        "' binds at most ", limits.maxPerStageDescriptorStorageBuffers));

  std::vector<VkDescriptorSetLayoutBinding> bindings(entry.bindings);
  for (uint32_t i = 0; i < entry.bindings; ++i) {
    bindings[i].binding = i;
    bindings[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
    bindings[i].descriptorCount = 1;
    bindings[i].stageFlags = VK_SHADER_STAGE_COMPUTE_BIT;
  }
  VkDescriptorSetLayoutCreateInfo setInfo{
      VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO};
  setInfo.bindingCount = entry.bindings;
  setInfo.pBindings = bindings.data();
  if (VkResult r = vk.vkCreateDescriptorSetLayout(context.device(), &setInfo,
                                                  nullptr, &entry.setLayout);
      r != VK_SUCCESS)
    return vkError(
        r, absl::StrCat("creating the descriptor set layout of ", what));
  VkPipelineLayoutCreateInfo layoutInfo{
      VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO};
  layoutInfo.setLayoutCount = 1;
  layoutInfo.pSetLayouts = &entry.setLayout;
  if (VkResult r = vk.vkCreatePipelineLayout(context.device(), &layoutInfo,
                                             nullptr, &entry.layout);
      r != VK_SUCCESS)
    return vkError(r, absl::StrCat("creating the pipeline layout of ", what));
  VkComputePipelineCreateInfo info{
      VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO};
  info.stage.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO;
  info.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
  info.stage.module = module;
  info.stage.pName = entry.name.c_str();
  info.layout = entry.layout;
  if (VkResult r = vk.vkCreateComputePipelines(
          context.device(), VK_NULL_HANDLE, 1, &info, nullptr, &entry.pipeline);
      r != VK_SUCCESS) {
    entry.pipeline = VK_NULL_HANDLE;
    return vkError(r, absl::StrCat("creating the compute pipeline of ", what,
                                   " on '", context.deviceName(), "'"));
  }
  return absl::OkStatus();
}

VulkanPipelines::~VulkanPipelines() {
  const VulkanApi &vk = context.vk();
  for (const Entry &e : entries) {
    if (e.pipeline)
      vk.vkDestroyPipeline(context.device(), e.pipeline, nullptr);
    if (e.layout)
      vk.vkDestroyPipelineLayout(context.device(), e.layout, nullptr);
    if (e.setLayout)
      vk.vkDestroyDescriptorSetLayout(context.device(), e.setLayout, nullptr);
  }
  if (module)
    vk.vkDestroyShaderModule(context.device(), module, nullptr);
}

} // namespace fmc::vulkan
