//===- VulkanProgram.cpp - one program's dispatch list, recorded once -----===//

#include "runtime/vulkan/VulkanProgram.h"

#include "absl/strings/str_cat.h"

#include <cstring>

namespace fmc::vulkan {

namespace {

constexpr uint64_t kRunRecordBytes = sizeof(RunRecord);

uint64_t align16(uint64_t n) { return (n + 15) / 16 * 16; }

void barrier(const VulkanApi &vk, VkCommandBuffer cb, VkPipelineStageFlags src,
             VkAccessFlags srcAccess, VkPipelineStageFlags dst,
             VkAccessFlags dstAccess) {
  VkMemoryBarrier b{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
  b.srcAccessMask = srcAccess;
  b.dstAccessMask = dstAccess;
  vk.vkCmdPipelineBarrier(cb, src, dst, 0, 1, &b, 0, nullptr, 0, nullptr);
}

const char *memoryName(schema::BindingMemory memory) {
  switch (memory) {
  case schema::BindingMemory::Arena:
    return "the arena";
  case schema::BindingMemory::Weights:
    return "the weights";
  case schema::BindingMemory::Caches:
    return "the KV caches";
  case schema::BindingMemory::Scratch:
    return "the scratch";
  case schema::BindingMemory::Run:
    return "the run record";
  }
  return "?";
}

} // namespace

absl::StatusOr<std::unique_ptr<VulkanProgram>>
VulkanProgram::create(VulkanContext &context, const VulkanPipelines &pipelines,
                      const DeviceMemory &memory, const ProgramIO &io,
                      const GpuDispatchPlan &plan, int64_t vocab,
                      const std::string &name, bool profile) {
  std::unique_ptr<VulkanProgram> p(new VulkanProgram(context));
  p->name = name;
  p->maxRows = io.maxTokens;
  p->vocab = vocab;
  p->arena = memory.arena;
  p->arenaTokens = io.tokensOffset;
  p->arenaPositions = io.positionsOffset;
  p->arenaLogits = io.logitsOffset;
  uint64_t ids = align16(p->maxRows * sizeof(int32_t));
  p->tokensAt = kRunRecordBytes;
  p->positionsAt = p->tokensAt + ids;
  p->logitsAt = p->positionsAt + ids;
  absl::StatusOr<Buffer> staging = Buffer::create(
      context, p->logitsAt + p->maxRows * vocab * sizeof(float),
      BufferKind::Staging, absl::StrCat("the ", name, " staging buffer"));
  if (!staging.ok())
    return staging.status();
  p->staging = std::move(*staging);
  std::memset(p->staging.mapped(), 0, p->staging.size());

  for (const GpuDispatch &d : plan.dispatches)
    p->kernels.push_back(d.kernel);
  if (profile && context.timestampPeriodNs() > 0) {
    VkQueryPoolCreateInfo info{VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO};
    info.queryType = VK_QUERY_TYPE_TIMESTAMP;
    info.queryCount = plan.dispatches.size() + 1;
    if (VkResult r = context.vk().vkCreateQueryPool(context.device(), &info,
                                                    nullptr, &p->queries);
        r != VK_SUCCESS)
      return vkError(r, "creating the timestamp query pool");
  }
  if (absl::Status s = p->bind(pipelines, memory, plan); !s.ok())
    return s;
  if (absl::Status s = p->record(pipelines, memory, plan); !s.ok())
    return s;
  return p;
}

VulkanProgram::~VulkanProgram() {
  const VulkanApi &vk = context.vk();
  VkDevice device = context.device();
  vk.vkDeviceWaitIdle(device);
  VkCommandBuffer buffers[] = {main, readback};
  for (VkCommandBuffer cb : buffers)
    if (cb)
      vk.vkFreeCommandBuffers(device, context.commandPool(), 1, &cb);
  if (pool)
    vk.vkDestroyDescriptorPool(device, pool, nullptr);
  if (queries)
    vk.vkDestroyQueryPool(device, queries, nullptr);
}

absl::Status VulkanProgram::bind(const VulkanPipelines &pipelines,
                                 const DeviceMemory &memory,
                                 const GpuDispatchPlan &plan) {
  const VulkanApi &vk = context.vk();
  const VkPhysicalDeviceLimits &limits = context.limits();
  uint32_t dispatches = plan.dispatches.size();
  uint32_t descriptors = plan.bindings.size();
  std::vector<VkDescriptorSetLayout> layouts;
  for (const GpuDispatch &d : plan.dispatches)
    layouts.push_back(pipelines.entry(d.entry).setLayout);
  VkDescriptorPoolSize size{VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                            std::max(1u, descriptors)};
  VkDescriptorPoolCreateInfo poolInfo{
      VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO};
  poolInfo.maxSets = dispatches;
  poolInfo.poolSizeCount = 1;
  poolInfo.pPoolSizes = &size;
  if (VkResult r = vk.vkCreateDescriptorPool(context.device(), &poolInfo,
                                             nullptr, &pool);
      r != VK_SUCCESS)
    return vkError(r, absl::StrCat("creating the descriptor pool of ", name));
  sets.resize(dispatches);
  VkDescriptorSetAllocateInfo alloc{
      VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO};
  alloc.descriptorPool = pool;
  alloc.descriptorSetCount = dispatches;
  alloc.pSetLayouts = layouts.data();
  if (VkResult r =
          vk.vkAllocateDescriptorSets(context.device(), &alloc, sets.data());
      r != VK_SUCCESS)
    return vkError(r, absl::StrCat("allocating the descriptor sets of ", name));

  std::vector<VkDescriptorBufferInfo> infos(descriptors);
  std::vector<VkWriteDescriptorSet> writes;
  writes.reserve(descriptors);
  size_t next = 0;
  for (uint32_t i = 0; i < dispatches; ++i) {
    const GpuDispatch &d = plan.dispatches[i];
    for (uint32_t b = 0; b < d.bindings; ++b) {
      // Offsets and ranges as the plan has them: weights at the tensor's
      // offset in the segment, caches cut to what the device allocated.
      const GpuBindingRef &binding = plan.bindings[d.firstBinding + b];
      const Buffer *buffer = nullptr;
      uint64_t offset = binding.offset;
      switch (binding.memory) {
      case schema::BindingMemory::Arena:
        buffer = memory.arena;
        break;
      case schema::BindingMemory::Weights:
        buffer = memory.weights;
        break;
      case schema::BindingMemory::Caches:
        buffer = memory.caches;
        offset += memory.cacheOffsets[binding.index];
        break;
      case schema::BindingMemory::Scratch:
        buffer = memory.scratch;
        break;
      case schema::BindingMemory::Run:
        buffer = memory.run;
        break;
      }
      std::string where =
          absl::StrCat("program '", name, "', dispatch ", i, " ('",
                       pipelines.entry(d.entry).name, "'), binding ", b);
      if (offset % limits.minStorageBufferOffsetAlignment != 0)
        return absl::FailedPreconditionError(absl::StrCat(
            where, ": offset ", offset, " into ", memoryName(binding.memory),
            " is not a multiple of the Vulkan device's storage buffer "
            "alignment (",
            limits.minStorageBufferOffsetAlignment, ")"));
      if (binding.bytes > limits.maxStorageBufferRange)
        return absl::FailedPreconditionError(absl::StrCat(
            where, ": ", binding.bytes,
            " bytes exceed the Vulkan device's largest storage buffer range (",
            limits.maxStorageBufferRange, ")"));
      infos[next] = {buffer->handle(), offset, binding.bytes};
      VkWriteDescriptorSet write{VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET};
      write.dstSet = sets[i];
      write.dstBinding = b;
      write.descriptorCount = 1;
      write.descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
      write.pBufferInfo = &infos[next];
      writes.push_back(write);
      ++next;
    }
  }
  vk.vkUpdateDescriptorSets(context.device(),
                            static_cast<uint32_t>(writes.size()), writes.data(),
                            0, nullptr);
  return absl::OkStatus();
}

absl::Status VulkanProgram::record(const VulkanPipelines &pipelines,
                                   const DeviceMemory &memory,
                                   const GpuDispatchPlan &plan) {
  const VulkanApi &vk = context.vk();
  VkCommandBuffer buffers[2];
  VkCommandBufferAllocateInfo alloc{
      VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
  alloc.commandPool = context.commandPool();
  alloc.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
  alloc.commandBufferCount = 2;
  if (VkResult r =
          vk.vkAllocateCommandBuffers(context.device(), &alloc, buffers);
      r != VK_SUCCESS)
    return vkError(r, "vkAllocateCommandBuffers");
  main = buffers[0];
  readback = buffers[1];

  VkCommandBufferBeginInfo begin{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
  vk.vkBeginCommandBuffer(main, &begin);
  uint32_t n = plan.dispatches.size();
  if (queries)
    vk.vkCmdResetQueryPool(main, queries, 0, n + 1);
  // The previous run (or the load's uploads) is done with the inputs.
  barrier(vk, main,
          VK_PIPELINE_STAGE_TRANSFER_BIT | VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
          VK_ACCESS_TRANSFER_WRITE_BIT | VK_ACCESS_SHADER_WRITE_BIT,
          VK_PIPELINE_STAGE_TRANSFER_BIT | VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
          VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT |
              VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT);
  uint64_t ids = maxRows * sizeof(int32_t);
  VkBufferCopy run{0, 0, kRunRecordBytes};
  vk.vkCmdCopyBuffer(main, staging.handle(), memory.run->handle(), 1, &run);
  VkBufferCopy inputs[] = {{tokensAt, arenaTokens, ids},
                           {positionsAt, arenaPositions, ids}};
  vk.vkCmdCopyBuffer(main, staging.handle(), arena->handle(), 2, inputs);
  barrier(vk, main, VK_PIPELINE_STAGE_TRANSFER_BIT,
          VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
          VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT);
  if (queries)
    vk.vkCmdWriteTimestamp(main, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, queries,
                           0);
  for (uint32_t i = 0; i < n; ++i) {
    const GpuDispatch &d = plan.dispatches[i];
    const VulkanPipelines::Entry &entry = pipelines.entry(d.entry);
    if (i > 0)
      barrier(vk, main, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
              VK_ACCESS_SHADER_WRITE_BIT, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
              VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT);
    vk.vkCmdBindPipeline(main, VK_PIPELINE_BIND_POINT_COMPUTE, entry.pipeline);
    vk.vkCmdBindDescriptorSets(main, VK_PIPELINE_BIND_POINT_COMPUTE,
                               entry.layout, 0, 1, &sets[i], 0, nullptr);
    vk.vkCmdDispatch(main, d.grid[0], d.grid[1], d.grid[2]);
    if (queries)
      vk.vkCmdWriteTimestamp(main, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                             queries, i + 1);
  }
  if (VkResult r = vk.vkEndCommandBuffer(main); r != VK_SUCCESS)
    return vkError(r, absl::StrCat("recording the ", name, " program"));
  return absl::OkStatus();
}

void VulkanProgram::setInputs(const RunInputs &inputs) {
  // The previous run has finished (execute waits), so staging is free.
  uint8_t *mapped = staging.mapped();
  std::memcpy(mapped, &inputs.record, kRunRecordBytes);
  std::memcpy(mapped + tokensAt, inputs.tokens.data(),
              inputs.tokens.size() * sizeof(int32_t));
  std::memcpy(mapped + positionsAt, inputs.positions.data(),
              inputs.positions.size() * sizeof(int32_t));
}

absl::Status VulkanProgram::execute(LogitsRows rows,
                                    std::vector<DispatchTime> &times) {
  const VulkanApi &vk = context.vk();

  vk.vkResetCommandBuffer(readback, 0);
  VkCommandBufferBeginInfo begin{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
  begin.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
  vk.vkBeginCommandBuffer(readback, &begin);
  barrier(vk, readback, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
          VK_ACCESS_SHADER_WRITE_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
          VK_ACCESS_TRANSFER_READ_BIT);
  if (rows.count > 0) {
    uint64_t rowBytes = vocab * sizeof(float);
    VkBufferCopy logits{arenaLogits + rows.from * rowBytes,
                        logitsAt + rows.from * rowBytes,
                        rows.count * rowBytes};
    vk.vkCmdCopyBuffer(readback, arena->handle(), staging.handle(), 1, &logits);
  }
  barrier(vk, readback, VK_PIPELINE_STAGE_TRANSFER_BIT,
          VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_HOST_BIT,
          VK_ACCESS_HOST_READ_BIT);
  if (VkResult r = vk.vkEndCommandBuffer(readback); r != VK_SUCCESS)
    return vkError(r, "recording the logits readback");
  if (absl::Status s = context.submitAndWait({main, readback}); !s.ok())
    return s;

  if (queries) {
    std::vector<uint64_t> stamps(kernels.size() + 1);
    VkResult r = vk.vkGetQueryPoolResults(
        context.device(), queries, 0, stamps.size(),
        stamps.size() * sizeof(uint64_t), stamps.data(), sizeof(uint64_t),
        VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT);
    if (r != VK_SUCCESS)
      return vkError(r, "reading the dispatch timestamps");
    for (size_t i = 0; i < kernels.size(); ++i)
      times.push_back(
          {kernels[i], ((stamps[i + 1] - stamps[i]) & context.timestampMask()) *
                           context.timestampPeriodNs() * 1e-9});
  }
  return absl::OkStatus();
}

} // namespace fmc::vulkan
