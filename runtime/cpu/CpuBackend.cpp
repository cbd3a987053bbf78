//===- CpuBackend.cpp - the cpu backend -----------------------------------===//
//
// Allocates one arena (the larger of the two programs' arenas) and the KV
// caches of the KV plan once, binds both programs to them, and then runs a
// prefill chunk or a decode step as a plain loop over kernel instances.
//
//===----------------------------------------------------------------------===//

#include "runtime/Backend.h"
#include "runtime/cpu/Program.h"

#include "absl/strings/str_cat.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>

namespace fmc {

namespace {

using cpu::ElementType;

/// 64-byte aligned, zeroed memory.
struct AlignedBlock {
  void *data = nullptr;
  ~AlignedBlock() { std::free(data); }
  bool allocate(uint64_t bytes) {
    bytes = std::max<uint64_t>(64, (bytes + 63) / 64 * 64);
    data = std::aligned_alloc(64, bytes);
    if (data)
      std::memset(data, 0, bytes);
    return data != nullptr;
  }
};

class CpuBackend final : public Backend {
public:
  CpuBackend(const Artifact &artifact, const BackendOptions &options,
             int threads)
      : artifact(artifact), pool(threads), simd(&cpu::bestKernels()),
        profiling(options.profile) {}

  absl::Status init();

  std::string name() const override { return "cpu"; }

  absl::Status prefill(absl::Span<const int32_t> tokens, int64_t start,
                       bool allLogits, const LogitsCallback &onLogits) override;
  absl::StatusOr<const float *> decode(int32_t token,
                                       int64_t position) override;
  BackendMemory memory() const override { return mem; }
  bool prefillLogitsLastOnly() const override {
    return prefillProgram.lastRowFrom >= 0;
  }
  std::vector<KernelProfile> profile() const override;

private:
  absl::Status checkInputs(absl::Span<const int32_t> tokens,
                           int64_t start) const;
  void run(const cpu::Program &program, int64_t rows, int64_t logitsFrom);

  const Artifact &artifact;
  cpu::ThreadPool pool;
  const cpu::SimdKernels *simd;
  AlignedBlock arena, scratch;
  std::vector<AlignedBlock> cacheBlocks;
  cpu::Memory memoryView;
  cpu::Program prefillProgram, decodeProgram;
  int64_t scratchStride = 0;
  int64_t vocab = 0, maxContext = 0;
  BackendMemory mem;
  bool profiling;
  KernelFamilyTimes familyTimes;
};

std::vector<KernelProfile> CpuBackend::profile() const {
  return familyTimes.profile();
}

absl::Status CpuBackend::init() {
  const schema::Artifact &root = artifact.root();
  vocab = root.config()->vocab_size();
  maxContext = root.config()->max_context();
  uint64_t arenaBytes =
      std::max(root.prefill()->arena_bytes(), root.decode()->arena_bytes());
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
    cache.capacity = c->capacity();
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
    uint64_t half = c->bytes() / 2;
    uint64_t elements = (c->bytes() - c->scale_bytes()) / 2;
    if (cache.int8 && elements % alignof(float) != 0)
      return absl::UnimplementedError(absl::StrCat(
          "KV cache '", c->name()->str(), "' holds ", elements,
          " int8 elements per keys or values, not a multiple of 4; the cpu "
          "backend keeps the scales behind them aligned"));
    if (!cacheBlocks[2 * i].allocate(half) ||
        !cacheBlocks[2 * i + 1].allocate(half))
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
    mem.kvBytesTotal += c->bytes() - c->scale_bytes();
    mem.kvScaleBytesTotal += c->scale_bytes();
    if (!cache.ring) {
      mem.kvBytesPerToken += (c->bytes() - c->scale_bytes()) / c->capacity();
      mem.kvScaleBytesPerToken += c->scale_bytes() / c->capacity();
    }
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
  mem.weightsBytes = artifact.weightsBytes();
  mem.arenaBytes = arenaBytes;
  return absl::OkStatus();
}

absl::Status CpuBackend::checkInputs(absl::Span<const int32_t> tokens,
                                     int64_t start) const {
  return checkRunInputs(tokens, start, vocab, maxContext);
}

void CpuBackend::run(const cpu::Program &program, int64_t rows,
                     int64_t logitsFrom) {
  cpu::RunContext ctx{rows,         program.positions,
                      logitsFrom,   &pool,
                      simd,         static_cast<float *>(scratch.data),
                      scratchStride};
  for (size_t i = 0; i < program.kernels.size(); ++i) {
    if (static_cast<int64_t>(i) == program.lastRowFrom) {
      // The rest writes no cache and computes the last row only: a chunk
      // whose logits nobody wants stops here.
      if (logitsFrom >= rows)
        return;
      ctx.rows = 1;
      ctx.positions = program.positions + rows - 1;
      ctx.logitsFrom = 0;
    }
    if (!profiling) {
      program.kernels[i]->run(ctx);
      continue;
    }
    auto start = std::chrono::steady_clock::now();
    program.kernels[i]->run(ctx);
    familyTimes.add(program.families[i],
                    std::chrono::duration<double>(
                        std::chrono::steady_clock::now() - start)
                        .count());
  }
}

absl::Status CpuBackend::prefill(absl::Span<const int32_t> tokens,
                                 int64_t start, bool allLogits,
                                 const LogitsCallback &onLogits) {
  if (absl::Status s = checkInputs(tokens, start); !s.ok())
    return s;
  const cpu::Program &program = prefillProgram;
  int64_t n = tokens.size();
  for (int64_t done = 0; done < n; done += program.maxTokens) {
    int64_t rows = std::min(program.maxTokens, n - done);
    bool lastChunk = done + rows == n;
    for (int64_t i = 0; i < rows; ++i) {
      program.tokens[i] = tokens[done + i];
      program.positions[i] = static_cast<int32_t>(start + done + i);
    }
    int64_t logitsFrom = allLogits ? 0 : (lastChunk ? rows - 1 : rows);
    if (program.lastRowFrom >= 0) {
      // Only the last position of the prompt has logits (last_row).
      logitsFrom = lastChunk ? rows - 1 : rows;
      run(program, rows, logitsFrom);
      if (onLogits && lastChunk)
        onLogits(start + n - 1, program.logits);
      continue;
    }
    run(program, rows, logitsFrom);
    if (onLogits)
      for (int64_t r = logitsFrom; r < rows; ++r)
        onLogits(start + done + r, program.logits + r * vocab);
  }
  return absl::OkStatus();
}

absl::StatusOr<const float *> CpuBackend::decode(int32_t token,
                                                 int64_t position) {
  if (absl::Status s = checkInputs({&token, 1}, position); !s.ok())
    return s;
  decodeProgram.tokens[0] = token;
  decodeProgram.positions[0] = static_cast<int32_t>(position);
  run(decodeProgram, 1, 0);
  return decodeProgram.logits;
}

} // namespace

absl::StatusOr<std::unique_ptr<Backend>>
createCpuBackend(const Artifact &artifact, const BackendOptions &options) {
  int threads =
      options.threads > 0
          ? options.threads
          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  auto backend = std::make_unique<CpuBackend>(artifact, options, threads);
  if (absl::Status s = backend->init(); !s.ok())
    return s;
  return std::unique_ptr<Backend>(std::move(backend));
}

} // namespace fmc
