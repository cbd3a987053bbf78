//===- CudaBackend.cpp - the cuda backend: a generic dispatch executor ----===//
//
// Loads the artifact's "cuda" executable (PTX, JIT-compiled by the driver,
// or a cubin) and runs the programs' dispatch lists; it knows no kernel
// family. Creating it checks the executables first (no driver call: a
// corrupt one is reported on any machine), then loads the driver and opens
// device 0 ("no CUDA driver" / "no CUDA device", Unavailable, so --backend
// auto moves on). At load: one device block each for the arena (the larger of
// the two programs'), the weight segment (uploaded once from the loaded
// artifact), the KV caches (zeroed), the scratch and one 16-byte run record
// per program; every dispatch's parameters resolved to device pointers; each
// program recorded once as a CUDA graph (stream capture). A prefill chunk
// copies its token ids, positions and (when the row count changed) run
// record into the arena, replays the graph, and copies the wanted logits
// rows back; a decode step's graph holds those copies too (from pinned
// staging), so a step is one graph launch and one synchronization.
//
//===----------------------------------------------------------------------===//

#include "runtime/Backend.h"
#include "runtime/cuda/CudaDriver.h"
#include "runtime/cuda/LaunchPlan.h"

#include "absl/strings/str_cat.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>

namespace fmc {

namespace {

using namespace cuda; // NOLINT: the driver API's names, in this file only.

/// Device memory blocks are aligned to this (the driver gives 256 or more).
constexpr uint64_t kBlockAlignment = 256;

uint64_t alignUp(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

/// A program of the artifact bound to device memory.
struct BoundProgram {
  const schema::Program *program = nullptr;
  std::string name;
  LaunchPlan plan;
  std::vector<uint64_t> paramValues;
  std::vector<void *>
      paramPointers; ///< &paramValues[i], as cuLaunchKernel takes.
  CUgraphExec graph = nullptr;
  /// Decode: the graph also copies the token id and position in (from the
  /// pinned staging) and the logits row out, so a step is one graph launch.
  bool graphCopies = false;
  CUdeviceptr run = 0;  ///< Its run record.
  int64_t runRows = -1; ///< The row count the run record holds.
  uint64_t tokensOffset = 0, positionsOffset = 0, logitsOffset = 0;
  int64_t maxTokens = 0;
  bool lastRow = false;
  std::vector<CUevent>
      events; ///< Profiling: one before each launch, one after.
};

/// The architecture an executable's code is for ("" when not stated).
std::string codeArch(const schema::Executable &exe) {
  return exe.arch() ? exe.arch()->str() : "";
}

/// A "cuda" executable of the artifact, checked, with its launch plans.
struct Candidate {
  const schema::Executable *exe = nullptr;
  LaunchPlan prefill, decode;
};

/// Checks every "cuda" executable of `artifact` (dispatch lists against
/// the artifact, PTX against the entry points) with no driver call, so a
/// corrupt executable is reported on any machine.
absl::StatusOr<std::vector<Candidate>>
checkExecutables(const Artifact &artifact) {
  const schema::Artifact &root = artifact.root();
  std::vector<Candidate> candidates;
  for (const schema::Executable *exe : *root.executables()) {
    if (exe->target()->str() != "cuda")
      continue;
    Candidate c;
    c.exe = exe;
    absl::StatusOr<LaunchPlan> p =
        planLaunches(root, *exe, *root.prefill(), exe->prefill(), "prefill");
    if (!p.ok())
      return p.status();
    c.prefill = std::move(*p);
    absl::StatusOr<LaunchPlan> d =
        planLaunches(root, *exe, *root.decode(), exe->decode(), "decode");
    if (!d.ok())
      return d.status();
    c.decode = std::move(*d);
    if (exe->format() && exe->format()->str() == "ptx" && exe->data()) {
      std::string ptx(reinterpret_cast<const char *>(exe->data()->data()),
                      exe->data()->size());
      if (absl::Status s = checkPtxEntryPoints(ptx, *exe); !s.ok())
        return s;
    }
    candidates.push_back(std::move(c));
  }
  return candidates;
}

class CudaBackend final : public Backend {
public:
  CudaBackend(const Artifact &artifact, const BackendOptions &options,
              std::shared_ptr<const Driver> driver,
              std::vector<Candidate> candidates)
      : artifact(artifact), profiling(options.profile),
        driver(std::move(driver)), d(*this->driver),
        candidates(std::move(candidates)) {}
  ~CudaBackend() override;

  absl::Status init();

  std::string name() const override { return "cuda"; }
  absl::Status prefill(absl::Span<const int32_t> tokens, int64_t start,
                       bool allLogits, const LogitsCallback &onLogits) override;
  absl::StatusOr<const float *> decode(int32_t token,
                                       int64_t position) override;
  BackendMemory memory() const override { return mem; }
  bool prefillLogitsLastOnly() const override { return prefillProgram.lastRow; }
  std::vector<KernelProfile> profile() const override;

private:
  absl::Status check(const char *call, CUresult result) const {
    if (result == CUDA_SUCCESS)
      return absl::OkStatus();
    return absl::InternalError(
        absl::StrCat("cuda: ", d.describe(call, result)));
  }
  absl::Status openDevice();
  absl::Status loadModule();
  absl::Status allocate(CUdeviceptr &pointer, uint64_t bytes, const char *what);
  absl::Status bind(BoundProgram &bound, const schema::Program &program,
                    LaunchPlan plan, const std::string &name);
  absl::Status launchAll(BoundProgram &bound);
  absl::Status copyInputs(BoundProgram &bound, int64_t rows);
  absl::Status copyLogits(BoundProgram &bound, float *logits, int64_t row,
                          int64_t rows);
  absl::Status writeRunRecord(BoundProgram &bound, int64_t rows);
  absl::Status execute(BoundProgram &bound, int64_t rows, float *logits,
                       int64_t logitsRow, int64_t logitsRows);
  absl::Status checkInputs(absl::Span<const int32_t> tokens,
                           int64_t start) const;

  const Artifact &artifact;
  bool profiling;
  std::shared_ptr<const Driver> driver;
  const Driver &d;
  std::vector<Candidate> candidates;
  size_t chosen = 0; ///< The candidate whose code loaded.

  CUdevice device = 0;
  CUcontext context = nullptr;
  bool retained = false;
  std::string deviceName;
  int major = 0, minor = 0;
  CUmodule module = nullptr;
  const schema::Executable *exe = nullptr;
  std::vector<CUfunction> functions;
  CUstream stream = nullptr;
  std::vector<CUdeviceptr> blocks; ///< Everything allocated, freed at exit.
  CUdeviceptr arena = 0, weights = 0, scratch = 0;
  std::vector<CUdeviceptr> caches;
  // Pinned staging: token ids, positions, run record, one logits row.
  void *staging = nullptr;
  int32_t *hostTokens = nullptr, *hostPositions = nullptr, *hostRun = nullptr;
  float *hostLogits = nullptr;
  std::vector<float> prefillLogits;

  BoundProgram prefillProgram, decodeProgram;
  int64_t vocab = 0, maxContext = 0;
  BackendMemory mem;
  KernelFamilyTimes familyTimes;
};

CudaBackend::~CudaBackend() {
  if (!context)
    return;
  // Best effort: nothing to report to at exit.
  d.cuCtxSetCurrent(context);
  if (stream)
    d.cuStreamSynchronize(stream);
  for (BoundProgram *p : {&prefillProgram, &decodeProgram}) {
    if (p->graph)
      d.cuGraphExecDestroy(p->graph);
    for (CUevent e : p->events)
      d.cuEventDestroy(e);
  }
  for (CUdeviceptr b : blocks)
    d.cuMemFree(b);
  if (staging)
    d.cuMemFreeHost(staging);
  if (stream)
    d.cuStreamDestroy(stream);
  if (module)
    d.cuModuleUnload(module);
  if (retained)
    d.cuDevicePrimaryCtxRelease(device);
}

std::vector<KernelProfile> CudaBackend::profile() const {
  return familyTimes.profile();
}

absl::Status CudaBackend::openDevice() {
  if (CUresult r = d.cuInit(0); r != CUDA_SUCCESS)
    return absl::UnavailableError(
        absl::StrCat("no CUDA device (", d.describe("cuInit", r), ")"));
  int count = 0;
  if (CUresult r = d.cuDeviceGetCount(&count); r != CUDA_SUCCESS)
    return absl::UnavailableError(absl::StrCat(
        "no CUDA device (", d.describe("cuDeviceGetCount", r), ")"));
  if (count == 0)
    return absl::UnavailableError("no CUDA device (the driver reports none)");
  if (auto s = check("cuDeviceGet", d.cuDeviceGet(&device, 0)); !s.ok())
    return s;
  char nameBuffer[256] = {0};
  if (d.cuDeviceGetName(nameBuffer, sizeof nameBuffer - 1, device) ==
      CUDA_SUCCESS)
    deviceName = nameBuffer;
  d.cuDeviceGetAttribute(&major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR,
                         device);
  d.cuDeviceGetAttribute(&minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR,
                         device);
  if (auto s = check("cuDevicePrimaryCtxRetain",
                     d.cuDevicePrimaryCtxRetain(&context, device));
      !s.ok())
    return s;
  retained = true;
  return check("cuCtxSetCurrent", d.cuCtxSetCurrent(context));
}

absl::Status CudaBackend::loadModule() {
  // Every "cuda" executable, the device's own code first (loadOrder); the
  // first this device loads wins (a cubin for another architecture or PTX
  // of a newer ISA than the driver's fails to load, and the next is tried).
  std::vector<CodeImage> images;
  for (const Candidate &c : candidates)
    images.push_back(
        {c.exe->format() ? c.exe->format()->str() : "", codeArch(*c.exe)});
  std::string failures;
  for (size_t index : loadOrder(images, major, minor)) {
    const schema::Executable *candidate = candidates[index].exe;
    std::string format = candidate->format() ? candidate->format()->str() : "";
    if (format != "ptx" && format != "cubin") {
      absl::StrAppend(&failures, "; format '", format, "' is not ptx or cubin");
      continue;
    }
    if (!candidate->data() || candidate->data()->size() == 0) {
      absl::StrAppend(&failures, "; a ", format, " executable is empty");
      continue;
    }
    // PTX is text the driver reads up to a NUL; the copy also aligns a cubin.
    std::string image(reinterpret_cast<const char *>(candidate->data()->data()),
                      candidate->data()->size());
    std::array<char, 16384> errorLog{}, infoLog{};
    int keys[] = {CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES,
                  CU_JIT_INFO_LOG_BUFFER, CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES};
    void *values[] = {errorLog.data(),
                      reinterpret_cast<void *>(uintptr_t{errorLog.size() - 1}),
                      infoLog.data(),
                      reinterpret_cast<void *>(uintptr_t{infoLog.size() - 1})};
    CUmodule loaded = nullptr;
    CUresult r = d.cuModuleLoadDataEx(&loaded, image.c_str(), 4, keys, values);
    if (r != CUDA_SUCCESS) {
      absl::StrAppend(&failures, "; ", format, ": ",
                      d.describe("cuModuleLoadDataEx", r));
      if (errorLog[0])
        absl::StrAppend(&failures, ": ", errorLog.data());
      continue;
    }
    module = loaded;
    exe = candidate;
    chosen = index;
    break;
  }
  if (!module)
    return absl::FailedPreconditionError(
        absl::StrCat("cannot load the artifact's cuda code on ", deviceName,
                     " (sm_", major, minor, ")", failures));
  const auto *entries = exe->entry_points();
  for (uint32_t i = 0; entries && i < entries->size(); ++i) {
    CUfunction f = nullptr;
    const std::string entryName =
        entries->Get(i)->name() ? entries->Get(i)->name()->str() : "";
    if (CUresult r = d.cuModuleGetFunction(&f, module, entryName.c_str());
        r != CUDA_SUCCESS)
      return absl::DataLossError(
          absl::StrCat("corrupt artifact: cuda executable: entry point '",
                       entryName, "' is not a kernel of its code (",
                       d.describe("cuModuleGetFunction", r), ")"));
    functions.push_back(f);
  }
  return absl::OkStatus();
}

absl::Status CudaBackend::allocate(CUdeviceptr &pointer, uint64_t bytes,
                                   const char *what) {
  bytes = alignUp(std::max<uint64_t>(bytes, 16), kBlockAlignment);
  if (CUresult r = d.cuMemAlloc(&pointer, bytes); r != CUDA_SUCCESS)
    return absl::ResourceExhaustedError(absl::StrCat(
        "cuda: cannot allocate ", bytes, " bytes of device memory for ", what,
        " (", d.describe("cuMemAlloc", r), ")"));
  blocks.push_back(pointer);
  return absl::OkStatus();
}

absl::Status CudaBackend::bind(BoundProgram &bound,
                               const schema::Program &program, LaunchPlan plan,
                               const std::string &name) {
  bound.program = &program;
  bound.name = name;
  bound.plan = std::move(plan);
  bound.maxTokens = program.max_tokens();
  bound.lastRow = hasLastRow(program);
  bound.tokensOffset = program.buffers()->Get(program.tokens())->offset();
  bound.positionsOffset = program.buffers()->Get(program.positions())->offset();
  bound.logitsOffset = program.buffers()->Get(program.logits())->offset();
  return allocate(bound.run, 16, "a run record");
}

absl::Status CudaBackend::launchAll(BoundProgram &bound) {
  bool timed = !bound.events.empty();
  if (timed)
    if (auto s =
            check("cuEventRecord", d.cuEventRecord(bound.events[0], stream));
        !s.ok())
      return s;
  for (size_t i = 0; i < bound.plan.launches.size(); ++i) {
    const Launch &l = bound.plan.launches[i];
    void **params = bound.paramPointers.data() + l.firstParam;
    if (auto s = check("cuLaunchKernel",
                       d.cuLaunchKernel(functions[l.entry], l.grid[0],
                                        l.grid[1], l.grid[2], l.block[0],
                                        l.block[1], l.block[2], 0, stream,
                                        l.params ? params : nullptr, nullptr));
        !s.ok())
      return absl::InternalError(
          absl::StrCat(s.message(), " (", bound.name, " dispatch ", i, ", '",
                       exe->entry_points()->Get(l.entry)->name()->str(), "')"));
    if (timed)
      if (auto s = check("cuEventRecord",
                         d.cuEventRecord(bound.events[i + 1], stream));
          !s.ok())
        return s;
  }
  return absl::OkStatus();
}

absl::Status CudaBackend::init() {
  const schema::Artifact &root = artifact.root();
  vocab = root.config()->vocab_size();
  maxContext = root.config()->max_context();
  if (auto s = openDevice(); !s.ok())
    return s;
  if (auto s = loadModule(); !s.ok())
    return s;
  if (auto s = bind(prefillProgram, *root.prefill(),
                    std::move(candidates[chosen].prefill), "prefill");
      !s.ok())
    return s;
  if (auto s = bind(decodeProgram, *root.decode(),
                    std::move(candidates[chosen].decode), "decode");
      !s.ok())
    return s;

  // Device memory: say up front when the model cannot fit.
  uint64_t arenaBytes =
      std::max(root.prefill()->arena_bytes(), root.decode()->arena_bytes());
  uint64_t scratchBytes = std::max(prefillProgram.plan.scratchBytes,
                                   decodeProgram.plan.scratchBytes);
  uint64_t cacheBytes = 0;
  for (const schema::KVCache *c : *root.kv_caches())
    cacheBytes += alignUp(c->bytes(), kBlockAlignment);
  uint64_t need = artifact.weightsBytes() + cacheBytes + arenaBytes +
                  scratchBytes + 4 * kBlockAlignment;
  size_t freeBytes = 0, totalBytes = 0;
  if (d.cuMemGetInfo(&freeBytes, &totalBytes) == CUDA_SUCCESS &&
      need > freeBytes)
    return absl::ResourceExhaustedError(absl::StrCat(
        "cuda: the model needs ", need, " bytes of device memory (weights ",
        artifact.weightsBytes(), ", KV caches ", cacheBytes, ", arena ",
        arenaBytes, "), ", deviceName, " has ", freeBytes, " free"));

  if (auto s = allocate(arena, arenaBytes, "the arena"); !s.ok())
    return s;
  if (auto s = allocate(scratch, scratchBytes, "kernel scratch"); !s.ok())
    return s;
  if (auto s = allocate(weights, artifact.weightsBytes(), "the weights");
      !s.ok())
    return s;
  for (uint32_t i = 0; i < root.tensors()->size(); ++i) {
    const schema::Tensor *t = root.tensors()->Get(i);
    if (t->bytes() == 0)
      continue;
    if (auto s = check("cuMemcpyHtoD",
                       d.cuMemcpyHtoD(weights + t->offset(),
                                      artifact.tensorData(i), t->bytes()));
        !s.ok())
      return s;
  }
  for (const schema::KVCache *c : *root.kv_caches()) {
    CUdeviceptr cache = 0;
    if (auto s = allocate(cache, c->bytes(), "a KV cache"); !s.ok())
      return s;
    if (auto s = check("cuMemsetD8", d.cuMemsetD8(cache, 0, c->bytes()));
        !s.ok())
      return s;
    caches.push_back(cache);
    mem.kvBytesTotal += c->bytes() - c->scale_bytes();
    mem.kvScaleBytesTotal += c->scale_bytes();
    if (c->kind() != schema::CacheKind::Ring) {
      mem.kvBytesPerToken += (c->bytes() - c->scale_bytes()) / c->capacity();
      mem.kvScaleBytesPerToken += c->scale_bytes() / c->capacity();
    }
  }
  // The arena starts zeroed like the cpu backend's (nothing should read it
  // before writing, but a stray read then sees zeros, not old memory).
  if (auto s = check("cuMemsetD8", d.cuMemsetD8(arena, 0, arenaBytes)); !s.ok())
    return s;
  mem.weightsBytes = artifact.weightsBytes();
  mem.arenaBytes = arenaBytes;

  // Pinned staging for the per-run copies.
  int64_t rows = std::max(prefillProgram.maxTokens, decodeProgram.maxTokens);
  uint64_t stagingBytes =
      alignUp(2 * rows * sizeof(int32_t) + 16, 64) + vocab * sizeof(float);
  if (auto s =
          check("cuMemHostAlloc", d.cuMemHostAlloc(&staging, stagingBytes,
                                                   CU_MEMHOSTALLOC_PORTABLE));
      !s.ok())
    return s;
  hostRun = static_cast<int32_t *>(staging);
  hostTokens = hostRun + 4;
  hostPositions = hostTokens + rows;
  hostLogits =
      reinterpret_cast<float *>(static_cast<char *>(staging) +
                                alignUp(2 * rows * sizeof(int32_t) + 16, 64));

  if (auto s = check("cuStreamCreate",
                     d.cuStreamCreate(&stream, CU_STREAM_NON_BLOCKING));
      !s.ok())
    return s;
  const char *graphsEnv = std::getenv("FMC_CUDA_GRAPHS");
  for (BoundProgram *p : {&prefillProgram, &decodeProgram}) {
    DeviceBases bases;
    bases.arena = arena;
    bases.weights = weights;
    bases.scratch = scratch;
    bases.run = p->run;
    bases.caches.assign(caches.begin(), caches.end());
    p->paramValues = resolveParams(p->plan, bases);
    for (uint64_t &v : p->paramValues)
      p->paramPointers.push_back(&v);
    if (profiling) {
      p->events.resize(p->plan.launches.size() + 1);
      for (CUevent &e : p->events)
        if (auto s =
                check("cuEventCreate", d.cuEventCreate(&e, CU_EVENT_DEFAULT));
            !s.ok())
          return s;
    }
    if (!useGraph(p->plan, profiling, graphsEnv))
      continue;
    // Record the program once; each run replays it. Decode always runs one
    // row: its run record is written once, here, and its graph copies the
    // inputs in and the logits out itself.
    p->graphCopies = p == &decodeProgram;
    if (p->graphCopies)
      if (auto s = writeRunRecord(*p, 1); !s.ok())
        return s;
    if (auto s = check("cuStreamSynchronize", d.cuStreamSynchronize(stream));
        !s.ok())
      return s;
    if (auto s = check("cuStreamBeginCapture",
                       d.cuStreamBeginCapture(
                           stream, CU_STREAM_CAPTURE_MODE_THREAD_LOCAL));
        !s.ok())
      return s;
    absl::Status launched =
        p->graphCopies ? copyInputs(*p, 1) : absl::OkStatus();
    if (launched.ok())
      launched = launchAll(*p);
    if (launched.ok() && p->graphCopies)
      launched = copyLogits(*p, hostLogits, 0, 1);
    CUgraph graph = nullptr;
    CUresult ended = d.cuStreamEndCapture(stream, &graph);
    if (!launched.ok())
      return launched;
    if (auto s = check("cuStreamEndCapture", ended); !s.ok())
      return s;
    CUresult made = d.cuGraphInstantiateWithFlags(&p->graph, graph, 0);
    d.cuGraphDestroy(graph);
    if (auto s = check("cuGraphInstantiate", made); !s.ok())
      return s;
  }
  return check("cuStreamSynchronize", d.cuStreamSynchronize(stream));
}

absl::Status CudaBackend::checkInputs(absl::Span<const int32_t> tokens,
                                      int64_t start) const {
  return checkRunInputs(tokens, start, vocab, maxContext);
}

/// Runs `bound` on the `rows` token ids and positions in the staging
/// buffers, then copies logits rows [logitsRow, logitsRow + logitsRows) to
/// `logits` (none when logitsRows is 0).
absl::Status CudaBackend::copyInputs(BoundProgram &bound, int64_t rows) {
  if (auto s = check("cuMemcpyHtoDAsync",
                     d.cuMemcpyHtoDAsync(arena + bound.tokensOffset, hostTokens,
                                         rows * sizeof(int32_t), stream));
      !s.ok())
    return s;
  if (auto s = check("cuMemcpyHtoDAsync",
                     d.cuMemcpyHtoDAsync(arena + bound.positionsOffset,
                                         hostPositions, rows * sizeof(int32_t),
                                         stream));
      !s.ok())
    return s;
  return absl::OkStatus();
}

absl::Status CudaBackend::writeRunRecord(BoundProgram &bound, int64_t rows) {
  if (bound.runRows == rows)
    return absl::OkStatus();
  hostRun[0] = static_cast<int32_t>(rows);
  hostRun[1] = 1;
  hostRun[2] = hostRun[3] = 0;
  if (auto s = check("cuMemcpyHtoDAsync",
                     d.cuMemcpyHtoDAsync(bound.run, hostRun, 16, stream));
      !s.ok())
    return s;
  bound.runRows = rows;
  return absl::OkStatus();
}

absl::Status CudaBackend::copyLogits(BoundProgram &bound, float *logits,
                                     int64_t row, int64_t rows) {
  return check("cuMemcpyDtoHAsync",
               d.cuMemcpyDtoHAsync(logits,
                                   arena + bound.logitsOffset +
                                       row * vocab * sizeof(float),
                                   rows * vocab * sizeof(float), stream));
}

absl::Status CudaBackend::execute(BoundProgram &bound, int64_t rows,
                                  float *logits, int64_t logitsRow,
                                  int64_t logitsRows) {
  if (bound.graphCopies) {
    // Decode's graph copies its own inputs and logits (into hostLogits).
    if (auto s = check("cuGraphLaunch", d.cuGraphLaunch(bound.graph, stream));
        !s.ok())
      return s;
    return check("cuStreamSynchronize", d.cuStreamSynchronize(stream));
  }
  if (auto s = copyInputs(bound, rows); !s.ok())
    return s;
  // The run record is read by the first dispatch, after this copy (one
  // stream); the pinned record is not touched again before the sync below.
  if (auto s = writeRunRecord(bound, rows); !s.ok())
    return s;
  if (bound.graph) {
    if (auto s = check("cuGraphLaunch", d.cuGraphLaunch(bound.graph, stream));
        !s.ok())
      return s;
  } else if (auto s = launchAll(bound); !s.ok()) {
    return s;
  }
  if (logitsRows > 0)
    if (auto s = copyLogits(bound, logits, logitsRow, logitsRows); !s.ok())
      return s;
  if (auto s = check("cuStreamSynchronize", d.cuStreamSynchronize(stream));
      !s.ok())
    return absl::InternalError(
        absl::StrCat(s.message(), " after the ", bound.name, " program"));
  if (!bound.events.empty()) {
    for (size_t i = 0; i < bound.plan.launches.size(); ++i) {
      float ms = 0;
      if (auto s = check(
              "cuEventElapsedTime",
              d.cuEventElapsedTime(&ms, bound.events[i], bound.events[i + 1]));
          !s.ok())
        return s;
      uint32_t kernel = bound.plan.launches[i].kernel;
      familyTimes.add(bound.program->kernels()->Get(kernel)->spec_type(),
                      ms * 1e-3);
    }
  }
  return absl::OkStatus();
}

absl::Status CudaBackend::prefill(absl::Span<const int32_t> tokens,
                                  int64_t start, bool allLogits,
                                  const LogitsCallback &onLogits) {
  if (auto s = checkInputs(tokens, start); !s.ok())
    return s;
  d.cuCtxSetCurrent(context);
  BoundProgram &p = prefillProgram;
  int64_t n = tokens.size();
  for (int64_t done = 0; done < n; done += p.maxTokens) {
    int64_t rows = std::min(p.maxTokens, n - done);
    bool lastChunk = done + rows == n;
    for (int64_t i = 0; i < rows; ++i) {
      hostTokens[i] = tokens[done + i];
      hostPositions[i] = static_cast<int32_t>(start + done + i);
    }
    if (p.lastRow) {
      // The logits hold one row, the last position's (after last_row).
      bool want = onLogits && lastChunk;
      if (want)
        prefillLogits.resize(vocab);
      if (auto s = execute(p, rows, prefillLogits.data(), 0, want ? 1 : 0);
          !s.ok())
        return s;
      if (want)
        onLogits(start + n - 1, prefillLogits.data());
      continue;
    }
    int64_t from = allLogits ? 0 : (lastChunk ? rows - 1 : rows);
    int64_t wanted = onLogits ? rows - from : 0;
    prefillLogits.resize(std::max<int64_t>(wanted, 1) * vocab);
    if (auto s = execute(p, rows, prefillLogits.data(), from, wanted); !s.ok())
      return s;
    for (int64_t r = 0; r < wanted; ++r)
      onLogits(start + done + from + r, prefillLogits.data() + r * vocab);
  }
  return absl::OkStatus();
}

absl::StatusOr<const float *> CudaBackend::decode(int32_t token,
                                                  int64_t position) {
  if (auto s = checkInputs({&token, 1}, position); !s.ok())
    return s;
  d.cuCtxSetCurrent(context);
  hostTokens[0] = token;
  hostPositions[0] = static_cast<int32_t>(position);
  if (auto s = execute(decodeProgram, 1, hostLogits, 0, 1); !s.ok())
    return s;
  return hostLogits;
}

} // namespace

absl::StatusOr<std::unique_ptr<Backend>>
createCudaBackend(const Artifact &artifact, const BackendOptions &options) {
  // The artifact first: its executables are checked on any machine.
  // Errors about the artifact name its file, as Artifact::open's do.
  auto named = [&](const absl::Status &s) {
    if (s.code() != absl::StatusCode::kDataLoss)
      return s;
    return absl::Status(s.code(),
                        absl::StrCat("'", artifact.path(), "': ", s.message()));
  };
  absl::StatusOr<std::vector<Candidate>> candidates =
      checkExecutables(artifact);
  if (!candidates.ok())
    return named(candidates.status());
  absl::StatusOr<std::shared_ptr<const Driver>> driver = loadDriver();
  if (!driver.ok())
    return driver.status();
  auto backend = std::make_unique<CudaBackend>(artifact, options, *driver,
                                               std::move(*candidates));
  if (absl::Status s = backend->init(); !s.ok())
    return named(s);
  return std::unique_ptr<Backend>(std::move(backend));
}

} // namespace fmc
