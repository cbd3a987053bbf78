//===- VulkanContext.cpp - instance, device and compute queue -------------===//

#include "runtime/vulkan/VulkanContext.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include <vector>

namespace fmc::vulkan {

namespace {

/// Lower is better: GPUs before CPU implementations.
int typeRank(VkPhysicalDeviceType type) {
  switch (type) {
  case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU:
    return 0;
  case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU:
    return 1;
  case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU:
    return 2;
  case VK_PHYSICAL_DEVICE_TYPE_CPU:
    return 4;
  default:
    return 3;
  }
}

std::string versionText(uint32_t v) {
  return absl::StrCat(VK_API_VERSION_MAJOR(v), ".", VK_API_VERSION_MINOR(v));
}

} // namespace

absl::StatusOr<std::unique_ptr<VulkanContext>>
VulkanContext::create(bool rejectCpuDevices) {
  std::unique_ptr<VulkanContext> context(new VulkanContext());
  if (absl::Status s = context->api.load(); !s.ok())
    return s;
  if (absl::Status s = context->createInstance(); !s.ok())
    return s;
  if (absl::Status s = context->pickDevice(rejectCpuDevices); !s.ok())
    return s;
  if (absl::Status s = context->createDevice(); !s.ok())
    return s;
  return context;
}

absl::Status VulkanContext::probe() {
  VulkanContext context;
  if (absl::Status s = context.api.load(); !s.ok())
    return s;
  if (absl::Status s = context.createInstance(); !s.ok())
    return s;
  return context.pickDevice(/*rejectCpuDevices=*/true);
}

VulkanContext::~VulkanContext() {
  if (device_) {
    api.vkDeviceWaitIdle(device_);
    if (fence)
      api.vkDestroyFence(device_, fence, nullptr);
    if (pool)
      api.vkDestroyCommandPool(device_, pool, nullptr);
    api.vkDestroyDevice(device_, nullptr);
  }
  if (instance)
    api.vkDestroyInstance(instance, nullptr);
}

absl::Status VulkanContext::createInstance() {
  uint32_t loaderVersion = VK_API_VERSION_1_0;
  if (api.vkEnumerateInstanceVersion)
    api.vkEnumerateInstanceVersion(&loaderVersion);
  if (loaderVersion < VK_API_VERSION_1_2)
    return absl::UnavailableError(
        absl::StrCat("the Vulkan loader supports Vulkan ",
                     versionText(loaderVersion), "; fmc needs 1.2"));
  VkApplicationInfo app{VK_STRUCTURE_TYPE_APPLICATION_INFO};
  app.pApplicationName = "fmc-run";
  app.pEngineName = "fmc";
  app.apiVersion =
      loaderVersion >= VK_API_VERSION_1_3 ? VK_API_VERSION_1_3 : loaderVersion;
  VkInstanceCreateInfo info{VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO};
  info.pApplicationInfo = &app;
  VkResult result = api.vkCreateInstance(&info, nullptr, &instance);
  if (result == VK_ERROR_INCOMPATIBLE_DRIVER)
    return absl::UnavailableError(
        "no Vulkan device: the Vulkan loader found no driver (ICD) "
        "(vkCreateInstance: VK_ERROR_INCOMPATIBLE_DRIVER)");
  if (result != VK_SUCCESS)
    return vkError(result, "vkCreateInstance");
  return api.loadInstance(instance);
}

absl::Status VulkanContext::pickDevice(bool rejectCpuDevices) {
  uint32_t count = 0;
  VkResult result = api.vkEnumeratePhysicalDevices(instance, &count, nullptr);
  if (result != VK_SUCCESS && result != VK_INCOMPLETE)
    return vkError(result, "vkEnumeratePhysicalDevices");
  std::vector<VkPhysicalDevice> devices(count);
  if (count)
    api.vkEnumeratePhysicalDevices(instance, &count, devices.data());
  if (count == 0)
    return absl::UnavailableError(
        "no Vulkan device: the Vulkan loader lists no physical device");
  int bestRank = 1 << 30;
  std::vector<std::string> skipped;
  for (VkPhysicalDevice candidate : devices) {
    VkPhysicalDeviceProperties p;
    api.vkGetPhysicalDeviceProperties(candidate, &p);
    if (p.apiVersion < VK_API_VERSION_1_2) {
      skipped.push_back(absl::StrCat("'", p.deviceName, "' (Vulkan ",
                                     versionText(p.apiVersion), ")"));
      continue;
    }
    uint32_t families = 0;
    api.vkGetPhysicalDeviceQueueFamilyProperties(candidate, &families, nullptr);
    std::vector<VkQueueFamilyProperties> queues(families);
    api.vkGetPhysicalDeviceQueueFamilyProperties(candidate, &families,
                                                 queues.data());
    int family = -1;
    for (uint32_t i = 0; i < families && family < 0; ++i)
      if (queues[i].queueFlags & VK_QUEUE_COMPUTE_BIT)
        family = static_cast<int>(i);
    if (family < 0) {
      skipped.push_back(
          absl::StrCat("'", p.deviceName, "' (no compute queue)"));
      continue;
    }
    int rank = typeRank(p.deviceType);
    if (rank >= bestRank)
      continue;
    bestRank = rank;
    physical = candidate;
    properties = p;
    queueFamily = static_cast<uint32_t>(family);
    timestampPeriod = queues[family].timestampValidBits != 0 &&
                              p.limits.timestampComputeAndGraphics
                          ? p.limits.timestampPeriod
                          : 0.0;
    uint32_t bits = queues[family].timestampValidBits;
    timestampBits = bits >= 64 ? ~uint64_t{0} : (uint64_t{1} << bits) - 1;
  }
  if (!physical)
    return absl::UnavailableError(
        absl::StrCat("no usable Vulkan device: ", absl::StrJoin(skipped, ", "),
                     "; fmc needs Vulkan 1.2 and a compute queue"));
  if (rejectCpuDevices && properties.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU)
    return absl::FailedPreconditionError(
        absl::StrCat("the only Vulkan device is '", properties.deviceName,
                     "', a CPU implementation: --backend auto does not pick it "
                     "(--backend vulkan does)"));
  return absl::OkStatus();
}

absl::Status VulkanContext::createDevice() {
  // What the device has...
  VkPhysicalDeviceVulkan12Features has12{
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
  VkPhysicalDeviceVulkan11Features has11{
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES};
  has11.pNext = &has12;
  VkPhysicalDeviceFeatures2 has{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
  has.pNext = &has11;
  api.vkGetPhysicalDeviceFeatures2(physical, &has);
  VkPhysicalDeviceSubgroupProperties subgroup{
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES};
  VkPhysicalDeviceProperties2 props2{
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2};
  props2.pNext = &subgroup;
  api.vkGetPhysicalDeviceProperties2(physical, &props2);
  api.vkGetPhysicalDeviceMemoryProperties(physical, &memory);

  DeviceFeatures &f = features_;
  f.shaderFloat64 = has.features.shaderFloat64;
  f.shaderInt16 = has.features.shaderInt16;
  f.shaderInt64 = has.features.shaderInt64;
  f.storageBuffer16BitAccess = has11.storageBuffer16BitAccess;
  f.uniformAndStorageBuffer16BitAccess =
      has11.uniformAndStorageBuffer16BitAccess;
  f.variablePointers = has11.variablePointers;
  f.variablePointersStorageBuffer = has11.variablePointersStorageBuffer;
  f.shaderFloat16 = has12.shaderFloat16;
  f.shaderInt8 = has12.shaderInt8;
  f.storageBuffer8BitAccess = has12.storageBuffer8BitAccess;
  f.uniformAndStorageBuffer8BitAccess = has12.uniformAndStorageBuffer8BitAccess;
  f.vulkanMemoryModel = has12.vulkanMemoryModel;
  f.vulkanMemoryModelDeviceScope = has12.vulkanMemoryModelDeviceScope;
  if (subgroup.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT)
    f.subgroupOperations = subgroup.supportedOperations;

  // ... is what it gets: every feature above it has.
  VkPhysicalDeviceVulkan12Features on12{
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
  on12.shaderFloat16 = f.shaderFloat16;
  on12.shaderInt8 = f.shaderInt8;
  on12.storageBuffer8BitAccess = f.storageBuffer8BitAccess;
  on12.uniformAndStorageBuffer8BitAccess = f.uniformAndStorageBuffer8BitAccess;
  on12.vulkanMemoryModel = f.vulkanMemoryModel;
  on12.vulkanMemoryModelDeviceScope = f.vulkanMemoryModelDeviceScope;
  VkPhysicalDeviceVulkan11Features on11{
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES};
  on11.pNext = &on12;
  on11.storageBuffer16BitAccess = f.storageBuffer16BitAccess;
  on11.uniformAndStorageBuffer16BitAccess =
      f.uniformAndStorageBuffer16BitAccess;
  on11.variablePointers = f.variablePointers;
  on11.variablePointersStorageBuffer = f.variablePointersStorageBuffer;
  VkPhysicalDeviceFeatures2 on{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
  on.pNext = &on11;
  on.features.shaderFloat64 = f.shaderFloat64;
  on.features.shaderInt16 = f.shaderInt16;
  on.features.shaderInt64 = f.shaderInt64;

  float priority = 1.0f;
  VkDeviceQueueCreateInfo queueInfo{VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO};
  queueInfo.queueFamilyIndex = queueFamily;
  queueInfo.queueCount = 1;
  queueInfo.pQueuePriorities = &priority;
  VkDeviceCreateInfo info{VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO};
  info.pNext = &on;
  info.queueCreateInfoCount = 1;
  info.pQueueCreateInfos = &queueInfo;
  VkResult result = api.vkCreateDevice(physical, &info, nullptr, &device_);
  if (result != VK_SUCCESS)
    return vkError(result, absl::StrCat("creating a logical device on '",
                                        properties.deviceName, "'"));
  if (absl::Status s = api.loadDevice(device_); !s.ok())
    return s;
  api.vkGetDeviceQueue(device_, queueFamily, 0, &queue);

  VkCommandPoolCreateInfo poolInfo{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
  poolInfo.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
  poolInfo.queueFamilyIndex = queueFamily;
  if (VkResult r = api.vkCreateCommandPool(device_, &poolInfo, nullptr, &pool);
      r != VK_SUCCESS)
    return vkError(r, "vkCreateCommandPool");
  VkFenceCreateInfo fenceInfo{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
  if (VkResult r = api.vkCreateFence(device_, &fenceInfo, nullptr, &fence);
      r != VK_SUCCESS)
    return vkError(r, "vkCreateFence");
  return absl::OkStatus();
}

absl::StatusOr<uint32_t>
VulkanContext::memoryType(uint32_t typeBits, VkMemoryPropertyFlags required,
                          VkMemoryPropertyFlags preferred) const {
  int fallback = -1;
  for (uint32_t i = 0; i < memory.memoryTypeCount; ++i) {
    VkMemoryPropertyFlags flags = memory.memoryTypes[i].propertyFlags;
    if (!(typeBits & (1u << i)) || (flags & required) != required)
      continue;
    if ((flags & preferred) == preferred)
      return i;
    if (fallback < 0)
      fallback = static_cast<int>(i);
  }
  if (fallback < 0)
    return absl::UnavailableError(
        absl::StrCat("the Vulkan device '", properties.deviceName,
                     "' has no memory type with properties 0x",
                     absl::Hex(required), " for a buffer"));
  return static_cast<uint32_t>(fallback);
}

absl::Status
VulkanContext::submitAndWait(absl::Span<const VkCommandBuffer> commandBuffers) {
  VkSubmitInfo submit{VK_STRUCTURE_TYPE_SUBMIT_INFO};
  submit.commandBufferCount = static_cast<uint32_t>(commandBuffers.size());
  submit.pCommandBuffers = commandBuffers.data();
  if (VkResult r = api.vkQueueSubmit(queue, 1, &submit, fence); r != VK_SUCCESS)
    return vkError(r, "vkQueueSubmit");
  VkResult waited =
      api.vkWaitForFences(device_, 1, &fence, VK_TRUE, UINT64_MAX);
  api.vkResetFences(device_, 1, &fence);
  if (waited != VK_SUCCESS)
    return vkError(waited, "waiting for the device (vkWaitForFences)");
  return absl::OkStatus();
}

absl::Status
VulkanContext::runOnce(const std::function<void(VkCommandBuffer)> &record) {
  VkCommandBufferAllocateInfo alloc{
      VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
  alloc.commandPool = pool;
  alloc.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
  alloc.commandBufferCount = 1;
  VkCommandBuffer cb;
  if (VkResult r = api.vkAllocateCommandBuffers(device_, &alloc, &cb);
      r != VK_SUCCESS)
    return vkError(r, "vkAllocateCommandBuffers");
  VkCommandBufferBeginInfo begin{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
  begin.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
  api.vkBeginCommandBuffer(cb, &begin);
  record(cb);
  absl::Status status;
  if (VkResult r = api.vkEndCommandBuffer(cb); r != VK_SUCCESS)
    status = vkError(r, "vkEndCommandBuffer");
  else
    status = submitAndWait({cb});
  api.vkFreeCommandBuffers(device_, pool, 1, &cb);
  return status;
}

} // namespace fmc::vulkan
