//===- VulkanBuffers.cpp - device and staging buffers ---------------------===//

#include "runtime/vulkan/VulkanBuffers.h"

#include "absl/strings/str_cat.h"

#include <algorithm>
#include <cstring>

namespace fmc::vulkan {

Buffer &Buffer::operator=(Buffer &&other) noexcept {
  if (this != &other) {
    release();
    context = other.context;
    buffer = other.buffer;
    memory = other.memory;
    bytes = other.bytes;
    map = other.map;
    other.buffer = VK_NULL_HANDLE;
    other.memory = VK_NULL_HANDLE;
    other.map = nullptr;
  }
  return *this;
}

void Buffer::release() {
  if (!context)
    return;
  const VulkanApi &vk = context->vk();
  if (map)
    vk.vkUnmapMemory(context->device(), memory);
  if (buffer)
    vk.vkDestroyBuffer(context->device(), buffer, nullptr);
  if (memory)
    vk.vkFreeMemory(context->device(), memory, nullptr);
  buffer = VK_NULL_HANDLE;
  memory = VK_NULL_HANDLE;
  map = nullptr;
}

absl::StatusOr<Buffer> Buffer::create(const VulkanContext &context,
                                      uint64_t bytes, BufferKind kind,
                                      const std::string &what) {
  const VulkanApi &vk = context.vk();
  Buffer result;
  result.context = &context;
  result.bytes = std::max<uint64_t>(16, (bytes + 15) / 16 * 16);
  VkBufferCreateInfo info{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
  info.size = result.bytes;
  info.usage =
      VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
  if (kind == BufferKind::Device)
    info.usage |= VK_BUFFER_USAGE_STORAGE_BUFFER_BIT;
  info.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
  if (VkResult r =
          vk.vkCreateBuffer(context.device(), &info, nullptr, &result.buffer);
      r != VK_SUCCESS)
    return vkError(r, absl::StrCat("creating ", what, " (", result.bytes,
                                   " bytes)"));
  VkMemoryRequirements needs;
  vk.vkGetBufferMemoryRequirements(context.device(), result.buffer, &needs);
  absl::StatusOr<uint32_t> type =
      kind == BufferKind::Device
          ? context.memoryType(needs.memoryTypeBits, 0,
                               VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT)
          : context.memoryType(needs.memoryTypeBits,
                               VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                   VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
                               VK_MEMORY_PROPERTY_HOST_CACHED_BIT);
  if (!type.ok())
    return type.status();
  VkMemoryAllocateInfo alloc{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
  alloc.allocationSize = needs.size;
  alloc.memoryTypeIndex = *type;
  if (VkResult r =
          vk.vkAllocateMemory(context.device(), &alloc, nullptr, &result.memory);
      r != VK_SUCCESS)
    return vkError(r, absl::StrCat("allocating ", needs.size,
                                   " bytes of device memory for ", what));
  if (VkResult r = vk.vkBindBufferMemory(context.device(), result.buffer,
                                         result.memory, 0);
      r != VK_SUCCESS)
    return vkError(r, absl::StrCat("binding the memory of ", what));
  if (kind == BufferKind::Staging) {
    void *data = nullptr;
    if (VkResult r = vk.vkMapMemory(context.device(), result.memory, 0,
                                    VK_WHOLE_SIZE, 0, &data);
        r != VK_SUCCESS)
      return vkError(r, absl::StrCat("mapping ", what));
    result.map = static_cast<uint8_t *>(data);
  }
  return result;
}

absl::Status uploadStaged(VulkanContext &context, const Buffer &dst,
                          uint64_t dstOffset, const void *data,
                          uint64_t bytes) {
  constexpr uint64_t kChunk = 64ull << 20;
  if (bytes == 0)
    return absl::OkStatus();
  absl::StatusOr<Buffer> staging =
      Buffer::create(context, std::min(bytes, kChunk), BufferKind::Staging,
                     "the upload staging buffer");
  if (!staging.ok())
    return staging.status();
  const auto *from = static_cast<const uint8_t *>(data);
  for (uint64_t done = 0; done < bytes; done += kChunk) {
    uint64_t n = std::min(kChunk, bytes - done);
    std::memcpy(staging->mapped(), from + done, n);
    absl::Status status = context.runOnce([&](VkCommandBuffer cb) {
      VkBufferCopy region{0, dstOffset + done, n};
      context.vk().vkCmdCopyBuffer(cb, staging->handle(), dst.handle(), 1,
                                   &region);
    });
    if (!status.ok())
      return status;
  }
  return absl::OkStatus();
}

absl::Status zeroBuffer(VulkanContext &context, const Buffer &buffer) {
  return context.runOnce([&](VkCommandBuffer cb) {
    context.vk().vkCmdFillBuffer(cb, buffer.handle(), 0, VK_WHOLE_SIZE, 0);
  });
}

} // namespace fmc::vulkan
