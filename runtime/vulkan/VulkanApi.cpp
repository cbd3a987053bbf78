//===- VulkanApi.cpp - dlopen libvulkan.so.1 and fetch its functions ------===//

#include "runtime/vulkan/VulkanApi.h"

#include "absl/strings/str_cat.h"

#include <dlfcn.h>

namespace fmc::vulkan {

VulkanApi::~VulkanApi() {
  if (library)
    ::dlclose(library);
}

absl::Status VulkanApi::load() {
  library = ::dlopen("libvulkan.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    const char *why = ::dlerror();
    return absl::UnavailableError(absl::StrCat(
        "no Vulkan loader: cannot load libvulkan.so.1 (", why ? why : "", ")"));
  }
  vkGetInstanceProcAddr = reinterpret_cast<PFN_vkGetInstanceProcAddr>(
      ::dlsym(library, "vkGetInstanceProcAddr"));
  if (!vkGetInstanceProcAddr)
    return absl::UnavailableError(
        "no Vulkan loader: libvulkan.so.1 has no vkGetInstanceProcAddr");
#define FMC_VK_LOAD(name)                                                      \
  name = reinterpret_cast<PFN_##name>(vkGetInstanceProcAddr(nullptr, #name));
  FMC_VK_GLOBAL_FUNCTIONS(FMC_VK_LOAD)
#undef FMC_VK_LOAD
  if (!vkCreateInstance)
    return absl::UnavailableError(
        "no Vulkan loader: libvulkan.so.1 has no vkCreateInstance");
  return absl::OkStatus();
}

absl::Status VulkanApi::loadInstance(VkInstance instance) {
#define FMC_VK_LOAD(name)                                                      \
  name = reinterpret_cast<PFN_##name>(vkGetInstanceProcAddr(instance, #name)); \
  if (!name)                                                                   \
    return absl::UnavailableError(                                             \
        "the Vulkan loader has no " #name " (Vulkan 1.1 or newer needed)");
  FMC_VK_INSTANCE_FUNCTIONS(FMC_VK_LOAD)
#undef FMC_VK_LOAD
  return absl::OkStatus();
}

absl::Status VulkanApi::loadDevice(VkDevice device) {
#define FMC_VK_LOAD(name)                                                      \
  name = reinterpret_cast<PFN_##name>(vkGetDeviceProcAddr(device, #name));     \
  if (!name)                                                                   \
    return absl::UnavailableError("the Vulkan driver has no " #name);
  FMC_VK_DEVICE_FUNCTIONS(FMC_VK_LOAD)
#undef FMC_VK_LOAD
  return absl::OkStatus();
}

const char *resultName(VkResult result) {
  switch (result) {
#define FMC_VK_RESULT(name)                                                    \
  case name:                                                                   \
    return #name;
    FMC_VK_RESULT(VK_SUCCESS)
    FMC_VK_RESULT(VK_NOT_READY)
    FMC_VK_RESULT(VK_TIMEOUT)
    FMC_VK_RESULT(VK_INCOMPLETE)
    FMC_VK_RESULT(VK_ERROR_OUT_OF_HOST_MEMORY)
    FMC_VK_RESULT(VK_ERROR_OUT_OF_DEVICE_MEMORY)
    FMC_VK_RESULT(VK_ERROR_INITIALIZATION_FAILED)
    FMC_VK_RESULT(VK_ERROR_DEVICE_LOST)
    FMC_VK_RESULT(VK_ERROR_MEMORY_MAP_FAILED)
    FMC_VK_RESULT(VK_ERROR_LAYER_NOT_PRESENT)
    FMC_VK_RESULT(VK_ERROR_EXTENSION_NOT_PRESENT)
    FMC_VK_RESULT(VK_ERROR_FEATURE_NOT_PRESENT)
    FMC_VK_RESULT(VK_ERROR_INCOMPATIBLE_DRIVER)
    FMC_VK_RESULT(VK_ERROR_TOO_MANY_OBJECTS)
    FMC_VK_RESULT(VK_ERROR_FORMAT_NOT_SUPPORTED)
    FMC_VK_RESULT(VK_ERROR_FRAGMENTED_POOL)
    FMC_VK_RESULT(VK_ERROR_UNKNOWN)
    FMC_VK_RESULT(VK_ERROR_OUT_OF_POOL_MEMORY)
    FMC_VK_RESULT(VK_ERROR_INVALID_SHADER_NV)
#undef FMC_VK_RESULT
  default:
    return "VK_ERROR_(unknown)";
  }
}

absl::Status vkError(VkResult result, const std::string &what) {
  std::string message =
      absl::StrCat(what, " failed: ", resultName(result), " (", result, ")");
  if (result == VK_ERROR_OUT_OF_HOST_MEMORY ||
      result == VK_ERROR_OUT_OF_DEVICE_MEMORY)
    return absl::ResourceExhaustedError(message);
  return absl::InternalError(message);
}

} // namespace fmc::vulkan
