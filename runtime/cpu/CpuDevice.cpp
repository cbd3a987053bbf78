//===- CpuDevice.cpp - the cpu backend's device ---------------------------===//
//
// Allocates one arena (the larger of the two programs' arenas) and the KV
// caches of the KV plan once, binds both programs' kernel lists to them
// (cpu::bindProgram: the cpu's own kernel per family), and then runs a
// prefill chunk or a decode step as a plain loop over kernel instances,
// reading token ids and positions from the arena and writing logits into it.
//
//===----------------------------------------------------------------------===//

#include "runtime/Backend.h"
#include "runtime/Device.h"
#include "runtime/cpu/Program.h"

#include "absl/strings/str_cat.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <sys/mman.h>
#include <thread>
#include <utility>

namespace fmc {

namespace {

using cpu::ElementType;

/// 64-byte aligned, zeroed memory.
/// Zeroed, page-aligned memory (the arena, scratch, KV caches), reserved
/// rather than committed: the kernel maps zero pages that become resident
/// only where they are written, so a long context costs what a generation
/// reaches, not the caches' capacity.
struct ZeroedBlock {
  void *data = nullptr;
  size_t bytes = 0;
  ZeroedBlock() = default;
  ZeroedBlock(ZeroedBlock &&other) noexcept
      : data(std::exchange(other.data, nullptr)), bytes(other.bytes) {}
  ZeroedBlock &operator=(ZeroedBlock &&) = delete;
  ~ZeroedBlock() {
    if (data)
      munmap(data, bytes);
  }
  /// `hugePages`: backed by 2 MB pages where the kernel has them.
  bool allocate(uint64_t size, bool hugePages = false) {
    bytes = std::max<uint64_t>(64, size);
    void *mapped = mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mapped == MAP_FAILED)
      return false;
    if (hugePages)
      ::madvise(mapped, bytes, MADV_HUGEPAGE);
    data = mapped;
    return true;
  }
};

/// Elements from one feature's row of cache slots to the next: the
/// capacity rounded up to whole 64-byte lines, plus one line where that
/// would put rows a multiple of 512 bytes apart. Rows 4 KB apart (1024 f32
/// slots) map one slot of every feature to the same L1 set and to 16 of
/// L2's 1024: appending a position and attending over the recent ones then
/// evicted their own lines (12 ways in L1, 16 in L2, for kv_heads x
/// head_dim rows). A line of padding gives consecutive rows consecutive sets.
int64_t cacheRowStride(int64_t capacity, int64_t elementSize) {
  const int64_t line = 64 / elementSize;
  int64_t stride = (capacity + line - 1) / line * line;
  if (stride * elementSize % 512 == 0)
    stride += line;
  return stride;
}

class CpuDevice final : public Device {
public:
  CpuDevice(const Artifact &artifact, const BackendOptions &options,
            int threads)
      : artifact(artifact), pool(threads), simd(&cpu::bestKernels()),
        profiling(options.profile), context(options.context) {
    memoryView.collective = options.collective;
  }

  absl::Status init();

  std::string name() const override { return "cpu"; }
  absl::Status setInputs(ProgramKind kind, const RunInputs &inputs) override;
  absl::Status execute(ProgramKind kind, LogitsRows logits,
                       std::vector<DispatchTime> &times) override;
  const float *logitsRow(ProgramKind kind, int64_t row) const override {
    return program(kind).logits + row * vocab;
  }
  /// The kernels read the artifact's weight segment in place.
  absl::Status writeWeights(uint64_t offset,
                            absl::Span<const uint8_t> data) override {
    return artifact.overwriteWeights(offset, data);
  }

private:
  cpu::Program &program(ProgramKind kind) {
    return kind == ProgramKind::Prefill ? prefillProgram : decodeProgram;
  }
  const cpu::Program &program(ProgramKind kind) const {
    return kind == ProgramKind::Prefill ? prefillProgram : decodeProgram;
  }

  const Artifact &artifact;
  cpu::ThreadPool pool;
  const cpu::SimdKernels *simd;
  ZeroedBlock arena, scratch;
  std::vector<ZeroedBlock> cacheBlocks;
  cpu::Memory memoryView;
  cpu::Program prefillProgram, decodeProgram;
  /// Rows of the run each program's inputs were set for.
  int64_t prefillRows = 0, decodeRows = 0;
  int64_t scratchStride = 0;
  int64_t vocab = 0;
  bool profiling;
  /// BackendOptions::context: positions of the linear caches (0: compiled).
  int64_t context;
};

absl::Status CpuDevice::init() {
  if (!pool.startError().empty())
    return absl::ResourceExhaustedError(
        pool.startError() + "; use fewer --threads");
  const schema::Artifact &root = artifact.root();
  vocab = root.config()->vocab_size();
  uint64_t arenaBytes = sharedArenaBytes(root);
  if (!arena.allocate(arenaBytes))
    return absl::ResourceExhaustedError(
        absl::StrCat("cannot allocate the arena of ", arenaBytes, " bytes"));
  memoryView.artifact = &artifact;
  memoryView.arena = static_cast<uint8_t *>(arena.data);
  cacheBlocks.resize(root.kv_caches()->size() * 2);
  for (uint32_t i = 0; i < root.kv_caches()->size(); ++i) {
    const schema::KVCache *c = root.kv_caches()->Get(i);
    cpu::Cache cache;
    cache.ring = c->kind() == schema::CacheKind::Ring;
    // A linear cache holds the opened context (--ctx-size), not the
    // compiled maximum: per-position layouts scale with it.
    cache.capacity = cacheCapacity(*c, context);
    cache.kvHeads = c->kv_heads();
    cache.headDim = c->head_dim();
    switch (c->dtype()) {
    case schema::DType::F32:
      cache.type = ElementType::F32;
      break;
    case schema::DType::F16:
      cache.type = ElementType::F16;
      break;
    case schema::DType::BF16:
      cache.type = ElementType::BF16;
      break;
    case schema::DType::I8:
      cache.int8 = true;
      break;
    default:
      return absl::UnimplementedError(
          absl::StrCat("KV cache '", c->name() ? c->name()->str() : "",
                       "' has an element type the cpu backend does not store"));
    }
    // Keys, then values; each block holds the elements and, for int8, their
    // scales behind them ([kv_heads][capacity] f32).
    const int64_t elementSize = cache.int8 ? 1 : elementBytes(cache.type);
    cache.stride = cacheRowStride(cache.capacity, elementSize);
    const uint64_t elements = static_cast<uint64_t>(cache.kvHeads) *
                              static_cast<uint64_t>(cache.headDim) *
                              static_cast<uint64_t>(cache.stride);
    const uint64_t half =
        elements * static_cast<uint64_t>(elementSize) +
        (cache.int8 ? static_cast<uint64_t>(cache.kvHeads) *
                          static_cast<uint64_t>(cache.capacity) * sizeof(float)
                    : 0);
    // A cache is [kv head][feature][slot]: appending one position stores
    // to kv_heads * head_dim rows `stride` elements apart. Where a row's
    // slots fit in a 4 KB page, the first position touches every page of
    // the cache anyway, and with 4 KB pages each of those stores is its own
    // TLB miss (a 853M Llama's appends took 18% of a decode step); 2 MB
    // pages then cost no memory and hold the cache in a few TLB entries.
    // Longer rows keep 4 KB pages, so memory follows the context reached.
    const bool hugePages =
        static_cast<uint64_t>(cache.capacity) * elementSize <= 4096;
    if (!cacheBlocks[2 * i].allocate(half, hugePages) ||
        !cacheBlocks[2 * i + 1].allocate(half, hugePages))
      return absl::ResourceExhaustedError(
          absl::StrCat("cannot allocate KV cache '", c->name()->str(), "'"));
    cache.keys = cacheBlocks[2 * i].data;
    cache.values = cacheBlocks[2 * i + 1].data;
    if (cache.int8) {
      cache.keyScales = reinterpret_cast<float *>(
          static_cast<uint8_t *>(cache.keys) + elements);
      cache.valueScales = reinterpret_cast<float *>(
          static_cast<uint8_t *>(cache.values) + elements);
    }
    memoryView.caches.push_back(cache);
  }
  absl::StatusOr<cpu::Program> p =
      cpu::bindProgram(*root.prefill(), memoryView);
  if (!p.ok())
    return p.status();
  prefillProgram = std::move(*p);
  absl::StatusOr<cpu::Program> d = cpu::bindProgram(*root.decode(), memoryView);
  if (!d.ok())
    return d.status();
  decodeProgram = std::move(*d);
  scratchStride = std::max<int64_t>(
      16, (std::max(prefillProgram.scratchFloats, decodeProgram.scratchFloats) +
           15) /
              16 * 16);
  if (!scratch.allocate(static_cast<uint64_t>(scratchStride) * pool.size() *
                        sizeof(float)))
    return absl::ResourceExhaustedError(
        "cannot allocate kernel scratch memory");
  return absl::OkStatus();
}

absl::Status CpuDevice::setInputs(ProgramKind kind, const RunInputs &inputs) {
  // The program's token and position buffers lie in the arena the kernels
  // read; the session keeps a run within the program's max_tokens.
  cpu::Program &p = program(kind);
  std::copy(inputs.tokens.begin(), inputs.tokens.end(), p.tokens);
  std::copy(inputs.positions.begin(), inputs.positions.end(), p.positions);
  (kind == ProgramKind::Prefill ? prefillRows : decodeRows) =
      inputs.record.rows;
  return absl::OkStatus();
}

absl::Status CpuDevice::execute(ProgramKind kind, LogitsRows logits,
                                std::vector<DispatchTime> &times) {
  const cpu::Program &p = program(kind);
  int64_t rows = kind == ProgramKind::Prefill ? prefillRows : decodeRows;
  // The logits kernel computes rows from logitsFrom on: none when none is
  // wanted.
  cpu::RunContext ctx{rows,
                      p.positions,
                      logits.count ? logits.from : rows,
                      &pool,
                      simd,
                      static_cast<float *>(scratch.data),
                      scratchStride};
  for (size_t i = 0; i < p.kernels.size(); ++i) {
    if (static_cast<int64_t>(i) == p.lastRowFrom) {
      // The rest writes no cache and computes the last row only (the cpu's
      // LastRow kernel keeps one): a run whose logits nobody wants stops
      // here.
      if (logits.count == 0)
        return memoryView.collectiveError;
      ctx.rows = 1;
      ctx.positions = p.positions + rows - 1;
      ctx.logitsFrom = 0;
    }
    if (!profiling) {
      p.kernels[i]->run(ctx);
      continue;
    }
    auto start = std::chrono::steady_clock::now();
    p.kernels[i]->run(ctx);
    times.push_back({static_cast<uint32_t>(i),
                     std::chrono::duration<double>(
                         std::chrono::steady_clock::now() - start)
                         .count()});
  }
  // A failed all-reduce leaves this rank out of step with the others for
  // good: every later run reports it too.
  return memoryView.collectiveError;
}

} // namespace

absl::StatusOr<std::unique_ptr<Device>>
createCpuDevice(const Artifact &artifact, const BackendOptions &options) {
  int threads =
      options.threads > 0
          ? options.threads
          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  auto device = std::make_unique<CpuDevice>(artifact, options, threads);
  if (absl::Status s = device->init(); !s.ok())
    return s;
  return std::unique_ptr<Device>(std::move(device));
}

} // namespace fmc
