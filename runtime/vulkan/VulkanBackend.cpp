//===- VulkanBackend.cpp - the vulkan backend -----------------------------===//
//
// A generic dispatch executor: it knows no kernel family. At load it
// uploads the weight segment once, allocates (zeroed) KV caches, one arena
// (the larger program's), one scratch, the run record, builds the
// executable's pipelines and records each program's command buffer. A
// prefill chunk or decode step then writes tokens, positions and the row
// count, replays the program and reads back the logits rows wanted.
//
//===----------------------------------------------------------------------===//

#include "runtime/Backend.h"
#include "runtime/vulkan/VulkanBuffers.h"
#include "runtime/vulkan/VulkanContext.h"
#include "runtime/vulkan/VulkanPipelines.h"
#include "runtime/vulkan/VulkanProgram.h"

#include "absl/strings/str_cat.h"

#include <algorithm>

namespace fmc {

namespace {

using vulkan::Buffer;
using vulkan::BufferKind;

class VulkanBackend final : public Backend {
public:
  explicit VulkanBackend(const Artifact &artifact) : artifact(artifact) {}

  absl::Status init(const BackendOptions &options);

  std::string name() const override { return "vulkan"; }
  absl::Status prefill(absl::Span<const int32_t> tokens, int64_t start,
                       bool allLogits, const LogitsCallback &onLogits) override;
  absl::StatusOr<const float *> decode(int32_t token,
                                       int64_t position) override;
  BackendMemory memory() const override { return mem; }
  bool prefillLogitsLastOnly() const override { return lastRowPrefill; }
  std::vector<KernelProfile> profile() const override;

private:
  absl::Status checkInputs(absl::Span<const int32_t> tokens,
                           int64_t start) const;
  absl::Status allocate(const schema::Executable &executable);

  const Artifact &artifact;
  // Declared first, destroyed last: everything below lives on its device.
  std::unique_ptr<vulkan::VulkanContext> context;
  std::unique_ptr<vulkan::VulkanPipelines> pipelines;
  Buffer weights, caches, arena, scratch, run;
  vulkan::DeviceMemory deviceMemory;
  std::unique_ptr<vulkan::VulkanProgram> prefillProgram, decodeProgram;
  bool lastRowPrefill = false;
  int64_t vocab = 0, maxContext = 0;
  BackendMemory mem;
  KernelFamilyTimes familyTimes;
};

absl::Status VulkanBackend::init(const BackendOptions &options) {
  const schema::Artifact &root = artifact.root();
  const schema::Executable *executable = nullptr;
  for (const schema::Executable *exe : *root.executables())
    if (exe->target()->str() == "vulkan")
      executable = exe;
  if (!executable)
    return absl::FailedPreconditionError(
        "the artifact has no 'vulkan' executable; recompile with "
        "--target=vulkan");
  if (executable->format()->str() != "spirv")
    return absl::FailedPreconditionError(
        absl::StrCat("the artifact's 'vulkan' executable has format '",
                     executable->format()->str(), "', expected 'spirv'"));
  vocab = root.config()->vocab_size();
  maxContext = root.config()->max_context();
  for (const schema::Kernel *k : *root.prefill()->kernels())
    lastRowPrefill |= k->spec_type() == schema::KernelSpec::LastRowSpec;

  absl::StatusOr<std::unique_ptr<vulkan::VulkanContext>> created =
      vulkan::VulkanContext::create(/*rejectCpuDevices=*/options.autoSelected);
  if (!created.ok())
    return created.status();
  context = std::move(*created);
  absl::StatusOr<std::unique_ptr<vulkan::VulkanPipelines>> built =
      vulkan::VulkanPipelines::create(*context, *executable);
  if (!built.ok())
    return built.status();
  pipelines = std::move(*built);
  if (absl::Status s = allocate(*executable); !s.ok())
    return s;

  absl::StatusOr<std::unique_ptr<vulkan::VulkanProgram>> p =
      vulkan::VulkanProgram::create(*context, *pipelines, deviceMemory,
                                    *root.prefill(), *executable->prefill(),
                                    vocab, "prefill", options.profile);
  if (!p.ok())
    return p.status();
  prefillProgram = std::move(*p);
  absl::StatusOr<std::unique_ptr<vulkan::VulkanProgram>> d =
      vulkan::VulkanProgram::create(*context, *pipelines, deviceMemory,
                                    *root.decode(), *executable->decode(),
                                    vocab, "decode", options.profile);
  if (!d.ok())
    return d.status();
  decodeProgram = std::move(*d);
  return absl::OkStatus();
}

absl::Status VulkanBackend::allocate(const schema::Executable &executable) {
  const schema::Artifact &root = artifact.root();
  auto make = [&](Buffer &buffer, uint64_t bytes,
                  const std::string &what) -> absl::Status {
    absl::StatusOr<Buffer> b =
        Buffer::create(*context, bytes, BufferKind::Device, what);
    if (!b.ok())
      return b.status();
    buffer = std::move(*b);
    return vulkan::zeroBuffer(*context, buffer);
  };

  // The weight segment as it lies in the file: tensor offsets carry over.
  if (absl::Status s = make(weights, artifact.weightsBytes(), "the weights");
      !s.ok())
    return s;
  if (absl::Status s =
          vulkan::uploadStaged(*context, weights, 0, artifact.weightsData(),
                               artifact.weightsBytes());
      !s.ok())
    return s;
  for (const schema::Tensor *t : *root.tensors())
    deviceMemory.tensorOffsets.push_back(t->offset());

  // All caches in one buffer, each at an offset any binding may start at.
  uint64_t align = std::max<uint64_t>(
      256, context->limits().minStorageBufferOffsetAlignment);
  uint64_t cacheBytes = 0;
  for (const schema::KVCache *c : *root.kv_caches()) {
    deviceMemory.cacheOffsets.push_back(cacheBytes);
    cacheBytes += (c->bytes() + align - 1) / align * align;
    mem.kvBytesTotal += c->bytes() - c->scale_bytes();
    mem.kvScaleBytesTotal += c->scale_bytes();
    if (c->kind() != schema::CacheKind::Ring) {
      mem.kvBytesPerToken += (c->bytes() - c->scale_bytes()) / c->capacity();
      mem.kvScaleBytesPerToken += c->scale_bytes() / c->capacity();
    }
  }
  uint64_t arenaBytes =
      std::max(root.prefill()->arena_bytes(), root.decode()->arena_bytes());
  uint64_t scratchBytes = std::max(executable.prefill()->scratch_bytes(),
                                   executable.decode()->scratch_bytes());
  if (absl::Status s = make(caches, cacheBytes, "the KV caches"); !s.ok())
    return s;
  if (absl::Status s = make(arena, arenaBytes, "the arena"); !s.ok())
    return s;
  if (absl::Status s = make(scratch, scratchBytes, "the scratch"); !s.ok())
    return s;
  if (absl::Status s = make(run, 16, "the run record"); !s.ok())
    return s;
  deviceMemory.weights = &weights;
  deviceMemory.caches = &caches;
  deviceMemory.arena = &arena;
  deviceMemory.scratch = &scratch;
  deviceMemory.run = &run;
  mem.weightsBytes = artifact.weightsBytes();
  mem.arenaBytes = arenaBytes;
  return absl::OkStatus();
}

std::vector<KernelProfile> VulkanBackend::profile() const {
  return familyTimes.profile();
}

absl::Status VulkanBackend::checkInputs(absl::Span<const int32_t> tokens,
                                        int64_t start) const {
  return checkRunInputs(tokens, start, vocab, maxContext);
}

absl::Status VulkanBackend::prefill(absl::Span<const int32_t> tokens,
                                    int64_t start, bool allLogits,
                                    const LogitsCallback &onLogits) {
  if (absl::Status s = checkInputs(tokens, start); !s.ok())
    return s;
  vulkan::VulkanProgram &program = *prefillProgram;
  int64_t n = tokens.size();
  for (int64_t done = 0; done < n; done += program.maxTokens()) {
    int64_t rows = std::min(program.maxTokens(), n - done);
    bool lastChunk = done + rows == n;
    for (int64_t i = 0; i < rows; ++i) {
      program.tokens()[i] = tokens[done + i];
      program.positions()[i] = static_cast<int32_t>(start + done + i);
    }
    if (lastRowPrefill) {
      // The kernels after last_row leave the prompt's last position in
      // logits row 0 (earlier chunks' logits row is meaningless).
      if (absl::Status s = program.run(rows, 0, lastChunk ? 1 : 0, familyTimes);
          !s.ok())
        return s;
      if (onLogits && lastChunk)
        onLogits(start + n - 1, program.logits(0));
      continue;
    }
    int64_t from = allLogits ? 0 : (lastChunk ? rows - 1 : rows);
    if (absl::Status s = program.run(rows, from, rows, familyTimes); !s.ok())
      return s;
    if (onLogits)
      for (int64_t r = from; r < rows; ++r)
        onLogits(start + done + r, program.logits(r));
  }
  return absl::OkStatus();
}

absl::StatusOr<const float *> VulkanBackend::decode(int32_t token,
                                                    int64_t position) {
  if (absl::Status s = checkInputs({&token, 1}, position); !s.ok())
    return s;
  decodeProgram->tokens()[0] = token;
  decodeProgram->positions()[0] = static_cast<int32_t>(position);
  if (absl::Status s = decodeProgram->run(1, 0, 1, familyTimes); !s.ok())
    return s;
  return decodeProgram->logits(0);
}

} // namespace

absl::StatusOr<std::unique_ptr<Backend>>
createVulkanBackend(const Artifact &artifact, const BackendOptions &options) {
  auto backend = std::make_unique<VulkanBackend>(artifact);
  if (absl::Status s = backend->init(options); !s.ok())
    return s;
  return std::unique_ptr<Backend>(std::move(backend));
}

} // namespace fmc
