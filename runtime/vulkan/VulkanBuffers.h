//===- VulkanBuffers.h - device and staging buffers -----------------------===//
//
// Each buffer owns its memory allocation: a model holds only a handful
// (weights, caches, arena, scratch, run record, and a staging buffer per
// program), so there is nothing to sub-allocate. Device buffers prefer
// device-local memory and are filled through staging copies, so the same
// path works on discrete GPUs and on lavapipe (where all memory is both).
//
//===----------------------------------------------------------------------===//

#ifndef FMC_RUNTIME_VULKAN_VULKANBUFFERS_H
#define FMC_RUNTIME_VULKAN_VULKANBUFFERS_H

#include "runtime/vulkan/VulkanContext.h"

#include "absl/status/statusor.h"

#include <cstdint>
#include <string>

namespace fmc::vulkan {

enum class BufferKind {
  /// Storage buffer in device-local memory (when there is any), copied to
  /// and from.
  Device,
  /// Host-visible, coherent (preferably cached) memory, mapped for the
  /// buffer's lifetime: uploads and readbacks.
  Staging,
};

class Buffer {
public:
  Buffer() = default;
  Buffer(Buffer &&other) noexcept { *this = std::move(other); }
  Buffer &operator=(Buffer &&other) noexcept;
  ~Buffer() { release(); }

  /// A buffer of at least `bytes` bytes (never zero); `what` names it in
  /// errors ("the arena").
  static absl::StatusOr<Buffer> create(const VulkanContext &context,
                                       uint64_t bytes, BufferKind kind,
                                       const std::string &what);

  VkBuffer handle() const { return buffer; }
  uint64_t size() const { return bytes; }
  /// The mapping of a Staging buffer (null for Device buffers).
  uint8_t *mapped() const { return map; }

private:
  void release();

  const VulkanContext *context = nullptr;
  VkBuffer buffer = VK_NULL_HANDLE;
  VkDeviceMemory memory = VK_NULL_HANDLE;
  uint64_t bytes = 0;
  uint8_t *map = nullptr;
};

/// Copies `bytes` bytes from `data` into `dst` at `dstOffset` through a
/// staging buffer, in chunks of at most 64 MiB.
absl::Status uploadStaged(VulkanContext &context, const Buffer &dst,
                          uint64_t dstOffset, const void *data, uint64_t bytes);

/// Fills `buffer` with zeros.
absl::Status zeroBuffer(VulkanContext &context, const Buffer &buffer);

} // namespace fmc::vulkan

#endif // FMC_RUNTIME_VULKAN_VULKANBUFFERS_H
