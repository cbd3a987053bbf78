//===- vkrun.cpp - run a script of compute dispatches on a Vulkan device --===//
//
// A test driver for the kernel templates, independent of fmc's runtime:
//   vkrun SCRIPT
// SCRIPT lines: `B FILE` declares buffer i (its bytes are FILE's, written
// back after the run); `D SPV ENTRY GX GY GZ I...` dispatches ENTRY of the
// SPIR-V module SPV over a GX x GY x GZ grid with buffers I... at set 0,
// bindings 0... Dispatches run in order, each after the previous one's
// writes (one command buffer, a memory barrier between dispatches).
//
//===----------------------------------------------------------------------===//

#include <vulkan/vulkan.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace {

bool check(VkResult result, const char *what) {
  if (result == VK_SUCCESS)
    return true;
  std::fprintf(stderr, "vkrun: %s failed (%d)\n", what, result);
  return false;
}
#define CHECK(call)                                                            \
  if (!check(call, #call))                                                     \
  return 1

std::vector<char> readFile(const std::string &path) {
  std::ifstream file(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(file), {}};
}

struct DispatchLine {
  std::string spv, entry;
  uint32_t grid[3];
  std::vector<int> buffers;
};

} // namespace

int main(int argc, char **argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: vkrun SCRIPT\n");
    return 2;
  }
  std::vector<std::string> files;
  std::vector<DispatchLine> dispatches;
  {
    std::ifstream script(argv[1]);
    std::string line;
    while (std::getline(script, line)) {
      std::istringstream in(line);
      std::string kind;
      in >> kind;
      if (kind == "B") {
        std::string file;
        in >> file;
        files.push_back(file);
      } else if (kind == "D") {
        DispatchLine d;
        in >> d.spv >> d.entry >> d.grid[0] >> d.grid[1] >> d.grid[2];
        int b;
        while (in >> b)
          d.buffers.push_back(b);
        dispatches.push_back(d);
      }
    }
  }

  VkApplicationInfo app{VK_STRUCTURE_TYPE_APPLICATION_INFO};
  app.apiVersion = VK_API_VERSION_1_2;
  VkInstanceCreateInfo instanceInfo{VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO};
  instanceInfo.pApplicationInfo = &app;
  VkInstance instance;
  CHECK(vkCreateInstance(&instanceInfo, nullptr, &instance));
  uint32_t count = 1;
  VkPhysicalDevice physical;
  if (vkEnumeratePhysicalDevices(instance, &count, &physical) < 0 ||
      count == 0) {
    std::fprintf(stderr, "vkrun: no Vulkan device\n");
    return 1;
  }
  float priority = 1.0f;
  VkDeviceQueueCreateInfo queueInfo{VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO};
  queueInfo.queueCount = 1;
  queueInfo.pQueuePriorities = &priority;
  VkPhysicalDeviceVulkan11Features features11{
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES};
  features11.storageBuffer16BitAccess = VK_TRUE;
  VkPhysicalDeviceVulkan12Features features12{
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
  features12.shaderFloat16 = VK_TRUE;
  features12.pNext = &features11;
  VkDeviceCreateInfo deviceInfo{VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO};
  deviceInfo.queueCreateInfoCount = 1;
  deviceInfo.pQueueCreateInfos = &queueInfo;
  deviceInfo.pNext = &features12;
  VkDevice device;
  CHECK(vkCreateDevice(physical, &deviceInfo, nullptr, &device));
  VkQueue queue;
  vkGetDeviceQueue(device, 0, 0, &queue);

  VkPhysicalDeviceMemoryProperties memory;
  vkGetPhysicalDeviceMemoryProperties(physical, &memory);
  const VkMemoryPropertyFlags hostFlags = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                          VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
  uint32_t memoryType = 0;
  for (uint32_t i = 0; i < memory.memoryTypeCount; ++i)
    if ((memory.memoryTypes[i].propertyFlags & hostFlags) == hostFlags) {
      memoryType = i;
      break;
    }

  std::vector<VkBuffer> buffers(files.size());
  std::vector<std::vector<char>> contents(files.size());
  std::vector<void *> mapped(files.size());
  for (size_t i = 0; i < files.size(); ++i) {
    contents[i] = readFile(files[i]);
    VkBufferCreateInfo bufferInfo{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
    bufferInfo.size = contents[i].size();
    bufferInfo.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT;
    CHECK(vkCreateBuffer(device, &bufferInfo, nullptr, &buffers[i]));
    VkMemoryRequirements needs;
    vkGetBufferMemoryRequirements(device, buffers[i], &needs);
    VkMemoryAllocateInfo allocInfo{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
    allocInfo.allocationSize = needs.size;
    allocInfo.memoryTypeIndex = memoryType;
    VkDeviceMemory block;
    CHECK(vkAllocateMemory(device, &allocInfo, nullptr, &block));
    CHECK(vkBindBufferMemory(device, buffers[i], block, 0));
    CHECK(vkMapMemory(device, block, 0, VK_WHOLE_SIZE, 0, &mapped[i]));
    std::memcpy(mapped[i], contents[i].data(), contents[i].size());
  }

  VkCommandPoolCreateInfo poolInfo{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
  VkCommandPool commandPool;
  CHECK(vkCreateCommandPool(device, &poolInfo, nullptr, &commandPool));
  VkCommandBufferAllocateInfo commandInfo{
      VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
  commandInfo.commandPool = commandPool;
  commandInfo.commandBufferCount = 1;
  commandInfo.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
  VkCommandBuffer commands;
  CHECK(vkAllocateCommandBuffers(device, &commandInfo, &commands));
  VkCommandBufferBeginInfo beginInfo{
      VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
  CHECK(vkBeginCommandBuffer(commands, &beginInfo));

  std::map<std::string, VkShaderModule> modules;
  for (const DispatchLine &d : dispatches) {
    if (!modules.count(d.spv)) {
      std::vector<char> code = readFile(d.spv);
      VkShaderModuleCreateInfo moduleInfo{
          VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO};
      moduleInfo.codeSize = code.size();
      moduleInfo.pCode = reinterpret_cast<const uint32_t *>(code.data());
      CHECK(vkCreateShaderModule(device, &moduleInfo, nullptr,
                                 &modules[d.spv]));
    }
    uint32_t n = static_cast<uint32_t>(d.buffers.size());
    std::vector<VkDescriptorSetLayoutBinding> layoutBindings(n);
    for (uint32_t i = 0; i < n; ++i)
      layoutBindings[i] = {i, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1,
                           VK_SHADER_STAGE_COMPUTE_BIT, nullptr};
    VkDescriptorSetLayoutCreateInfo setLayoutInfo{
        VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO};
    setLayoutInfo.bindingCount = n;
    setLayoutInfo.pBindings = layoutBindings.data();
    VkDescriptorSetLayout setLayout;
    CHECK(vkCreateDescriptorSetLayout(device, &setLayoutInfo, nullptr,
                                      &setLayout));
    VkPipelineLayoutCreateInfo pipelineLayoutInfo{
        VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO};
    pipelineLayoutInfo.setLayoutCount = 1;
    pipelineLayoutInfo.pSetLayouts = &setLayout;
    VkPipelineLayout pipelineLayout;
    CHECK(vkCreatePipelineLayout(device, &pipelineLayoutInfo, nullptr,
                                 &pipelineLayout));
    VkComputePipelineCreateInfo pipelineInfo{
        VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO};
    pipelineInfo.stage = {VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
                          nullptr,
                          0,
                          VK_SHADER_STAGE_COMPUTE_BIT,
                          modules[d.spv],
                          d.entry.c_str(),
                          nullptr};
    pipelineInfo.layout = pipelineLayout;
    VkPipeline pipeline;
    CHECK(vkCreateComputePipelines(device, VK_NULL_HANDLE, 1, &pipelineInfo,
                                   nullptr, &pipeline));
    VkDescriptorPoolSize poolSize{VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, n};
    VkDescriptorPoolCreateInfo descriptorPoolInfo{
        VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO};
    descriptorPoolInfo.maxSets = 1;
    descriptorPoolInfo.poolSizeCount = 1;
    descriptorPoolInfo.pPoolSizes = &poolSize;
    VkDescriptorPool descriptorPool;
    CHECK(vkCreateDescriptorPool(device, &descriptorPoolInfo, nullptr,
                                 &descriptorPool));
    VkDescriptorSetAllocateInfo setInfo{
        VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO};
    setInfo.descriptorPool = descriptorPool;
    setInfo.descriptorSetCount = 1;
    setInfo.pSetLayouts = &setLayout;
    VkDescriptorSet set;
    CHECK(vkAllocateDescriptorSets(device, &setInfo, &set));
    std::vector<VkDescriptorBufferInfo> bufferInfos(n);
    std::vector<VkWriteDescriptorSet> writes(n);
    for (uint32_t i = 0; i < n; ++i) {
      bufferInfos[i] = {buffers.at(d.buffers[i]), 0, VK_WHOLE_SIZE};
      writes[i] = {VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
                   nullptr,
                   set,
                   i,
                   0,
                   1,
                   VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                   nullptr,
                   &bufferInfos[i],
                   nullptr};
    }
    vkUpdateDescriptorSets(device, n, writes.data(), 0, nullptr);
    vkCmdBindPipeline(commands, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline);
    vkCmdBindDescriptorSets(commands, VK_PIPELINE_BIND_POINT_COMPUTE,
                            pipelineLayout, 0, 1, &set, 0, nullptr);
    vkCmdDispatch(commands, d.grid[0], d.grid[1], d.grid[2]);
    VkMemoryBarrier barrier{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
    barrier.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT;
    barrier.dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT;
    vkCmdPipelineBarrier(commands, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                         VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0, 1, &barrier,
                         0, nullptr, 0, nullptr);
  }
  CHECK(vkEndCommandBuffer(commands));
  VkSubmitInfo submit{VK_STRUCTURE_TYPE_SUBMIT_INFO};
  submit.commandBufferCount = 1;
  submit.pCommandBuffers = &commands;
  CHECK(vkQueueSubmit(queue, 1, &submit, VK_NULL_HANDLE));
  CHECK(vkQueueWaitIdle(queue));
  for (size_t i = 0; i < files.size(); ++i) {
    std::ofstream out(files[i], std::ios::binary);
    out.write(static_cast<const char *>(mapped[i]), contents[i].size());
  }
  return 0;
}
