//===- CudaDevice.cpp - the cuda backend: a generic dispatch executor -----===//
//
// Loads the artifact's "cuda" executable (PTX, JIT-compiled by the driver,
// or a cubin) and runs the programs' dispatch lists; it knows no kernel
// family. Creating it checks the executables first (no driver call: a
// corrupt one is reported on any machine), then loads the driver and opens
// device 0 ("no CUDA driver" / "no CUDA device", Unavailable, so --backend
// auto moves on). At load: one device block each for the arena (the larger of
// the two programs'), the weight segment (uploaded once from the loaded
// artifact), the KV caches (zeroed; linear ones of the context the device
// is opened with, BackendOptions::context), the scratch and one 16-byte run
// record per program; every dispatch's parameters resolved to device
// pointers; each program recorded once as a CUDA graph (stream capture). On
// sm_90 and later, code whose kernels wait for their predecessors
// (griddepcontrol.wait) is recorded with programmatic dependent launches, so
// each kernel may start (and load weights) while the one before it
// finishes.
//
// The parts of a split model (fmc-compile --track-ranks / --tensor-ranks)
// have collective dispatches: all-reduces the run's collective (NCCL, one
// GPU per rank: the local rank's device) enqueues on the stream between the
// kernels. Such programs run launch by launch, not as graphs, and their
// wait polls the stream and the collective's error state until the
// collective timeout, so a rank that failed or stalls ends every run with
// a message instead of a hang.
//
// A prefill run copies its token ids, positions and (when it changed) run
// record into device memory, replays the graph, and copies the wanted
// logits rows back; the decode graph holds those copies too (from pinned
// staging), so a decode step is one graph launch and one synchronization.
//
//===----------------------------------------------------------------------===//

#include "runtime/cuda/CudaDevice.h"

#include "runtime/cuda/LaunchPlan.h"

#include "absl/strings/str_cat.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>

namespace fmc {

namespace {

using namespace cuda; // NOLINT: the driver API's names, in this file only.

/// cuStreamQuery's answer while work is still running.
constexpr CUresult kNotReady = 600;

/// Device memory blocks are aligned to this (the driver gives 256 or more).
constexpr uint64_t kBlockAlignment = 256;

uint64_t alignUp(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

/// A program of the artifact bound to device memory.
struct BoundProgram {
  std::string name;
  LaunchPlan plan;
  ProgramIO io;
  std::vector<uint64_t> paramValues;
  std::vector<void *>
      paramPointers; ///< &paramValues[i], as cuLaunchKernel takes.
  CUgraphExec graph = nullptr;
  /// Decode: the graph also copies the token id and position in (from the
  /// pinned staging) and the logits row out, so a step is one graph launch.
  bool graphCopies = false;
  CUdeviceptr run = 0; ///< Its run record.
  /// The record the device's run record holds (rows -1: none written yet)
  /// and the one the next run needs.
  RunRecord written{-1}, staged;
  /// Logits rows the last run copied back (graphCopies: the pinned row).
  std::vector<float> logits;
  int64_t logitsFrom = 0;
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
  LaunchPlan plans[2]; ///< Prefill, decode (ProgramKind order).
};

/// Checks every "cuda" executable of `artifact` (dispatch lists against
/// the artifact and a context of `context` positions, PTX against the entry
/// points) with no driver call, so a corrupt executable is reported on any
/// machine.
absl::StatusOr<std::vector<Candidate>>
checkExecutables(const Artifact &artifact, int64_t context) {
  const schema::Artifact &root = artifact.root();
  std::vector<Candidate> candidates;
  for (const schema::Executable *exe : *root.executables()) {
    if (exe->target()->str() != "cuda")
      continue;
    Candidate c;
    c.exe = exe;
    for (ProgramKind kind : {ProgramKind::Prefill, ProgramKind::Decode}) {
      absl::StatusOr<LaunchPlan> plan =
          planLaunches(root, *exe, programOf(root, kind),
                       dispatchListOf(*exe, kind), programName(kind), context);
      if (!plan.ok())
        return plan.status();
      c.plans[static_cast<size_t>(kind)] = std::move(*plan);
    }
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

class CudaDevice final : public Device {
public:
  CudaDevice(const Artifact &artifact, const BackendOptions &options,
             std::shared_ptr<const Driver> driver,
             std::vector<Candidate> candidates)
      : artifact(artifact), profiling(options.profile),
        runContext(options.context), collective(options.collective),
        driver(std::move(driver)),
        d(*this->driver),
        candidates(std::move(candidates)) {}
  ~CudaDevice() override;

  absl::Status init();

  std::string name() const override { return "cuda"; }
  absl::Status setInputs(ProgramKind kind, const RunInputs &inputs) override;
  absl::Status execute(ProgramKind kind, LogitsRows logits,
                       std::vector<DispatchTime> &times) override;
  const float *logitsRow(ProgramKind kind, int64_t row) const override {
    const BoundProgram &p = programs[static_cast<size_t>(kind)];
    if (p.graphCopies)
      return hostLogits;
    return p.logits.data() + (row - p.logitsFrom) * vocab;
  }
  absl::Status writeWeights(uint64_t offset,
                            absl::Span<const uint8_t> data) override {
    if (data.empty())
      return absl::OkStatus();
    // Synchronous: no run of a recorded graph is in flight between calls.
    return check("cuMemcpyHtoD",
                 d.cuMemcpyHtoD(weights + offset, data.data(), data.size()));
  }

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
  absl::Status allocateMemory();
  absl::Status launch(BoundProgram &bound, size_t index, bool programmatic);
  absl::Status launchAll(BoundProgram &bound, bool programmatic);
  absl::Status recordGraph(BoundProgram &bound, bool programmatic);
  absl::Status copyInputs(BoundProgram &bound, int64_t rows);
  absl::Status copyLogits(BoundProgram &bound, float *logits, int64_t row,
                          int64_t rows);
  absl::Status writeRunRecord(BoundProgram &bound);
  absl::Status enqueueCollective(BoundProgram &bound, const Launch &l);
  absl::Status waitForCollectives(BoundProgram &bound);
  bool hasCollectives() const {
    return programs[0].plan.hasCollectives() ||
           programs[1].plan.hasCollectives();
  }

  const Artifact &artifact;
  bool profiling;
  /// BackendOptions::context: positions of the linear caches (0: compiled).
  int64_t runContext;
  /// BackendOptions::collective: the ranks of a split model (or null).
  Collective *collective;
  std::shared_ptr<const Driver> driver;
  const Driver &d;
  std::vector<Candidate> candidates;
  size_t chosen = 0; ///< The candidate whose code loaded.

  CUdevice device = 0;
  int deviceOrdinal = 0;
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
  int32_t *hostTokens = nullptr, *hostPositions = nullptr;
  RunRecord *hostRun = nullptr;
  float *hostLogits = nullptr;

  /// Prefill, then decode (ProgramKind order).
  BoundProgram programs[2];
  int64_t vocab = 0;
};

CudaDevice::~CudaDevice() {
  if (!context)
    return;
  // Best effort: nothing to report to at exit.
  d.cuCtxSetCurrent(context);
  if (stream)
    d.cuStreamSynchronize(stream);
  for (BoundProgram &p : programs) {
    if (p.graph)
      d.cuGraphExecDestroy(p.graph);
    for (CUevent e : p.events)
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

/// Initialises the driver and checks it has a device: what opening a
/// device and probing for one (probeCudaDevice) both check first.
absl::Status initWithDevice(const Driver &d) {
  if (CUresult r = d.cuInit(0); r != CUDA_SUCCESS)
    return absl::UnavailableError(
        absl::StrCat("no CUDA device (", d.describe("cuInit", r), ")"));
  int count = 0;
  if (CUresult r = d.cuDeviceGetCount(&count); r != CUDA_SUCCESS)
    return absl::UnavailableError(absl::StrCat(
        "no CUDA device (", d.describe("cuDeviceGetCount", r), ")"));
  if (count == 0)
    return absl::UnavailableError("no CUDA device (the driver reports none)");
  return absl::OkStatus();
}

absl::Status CudaDevice::openDevice() {
  if (absl::Status s = initWithDevice(d); !s.ok())
    return s;
  // One GPU per rank: the ranks on a machine take its devices in turn.
  int ordinal = 0;
  if (collective && collective->size() > 1) {
    int count = 1;
    d.cuDeviceGetCount(&count);
    ordinal = collective->localRank() % std::max(count, 1);
  }
  if (auto s = check("cuDeviceGet", d.cuDeviceGet(&device, ordinal)); !s.ok())
    return s;
  deviceOrdinal = ordinal;
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

absl::Status CudaDevice::loadModule() {
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

absl::Status CudaDevice::allocate(CUdeviceptr &pointer, uint64_t bytes,
                                  const char *what) {
  bytes = alignUp(std::max<uint64_t>(bytes, 16), kBlockAlignment);
  if (CUresult r = d.cuMemAlloc(&pointer, bytes); r != CUDA_SUCCESS)
    return absl::ResourceExhaustedError(absl::StrCat(
        "cuda: cannot allocate ", bytes, " bytes of device memory for ", what,
        " (", d.describe("cuMemAlloc", r), ")"));
  blocks.push_back(pointer);
  return absl::OkStatus();
}

/// The arena, weights (uploaded), zeroed caches, scratch, run records and
/// pinned staging.
absl::Status CudaDevice::allocateMemory() {
  const schema::Artifact &root = artifact.root();
  // Device memory: say up front when the model cannot fit.
  uint64_t arenaBytes = sharedArenaBytes(root);
  uint64_t scratchBytes =
      std::max(programs[0].plan.scratchBytes, programs[1].plan.scratchBytes);
  // Linear caches of the context the device is opened with: the kernels'
  // slot-major layout makes them the first slots of the compiled cache.
  uint64_t allCaches = 0;
  for (const schema::KVCache *c : *root.kv_caches())
    allCaches += alignUp(cacheBytes(*c, runContext), kBlockAlignment);
  uint64_t need = artifact.weightsBytes() + allCaches + arenaBytes +
                  scratchBytes + 4 * kBlockAlignment;
  size_t freeBytes = 0, totalBytes = 0;
  if (d.cuMemGetInfo(&freeBytes, &totalBytes) == CUDA_SUCCESS &&
      need > freeBytes)
    return absl::ResourceExhaustedError(absl::StrCat(
        "cuda: the model needs ", need, " bytes of device memory (weights ",
        artifact.weightsBytes(), ", KV caches ", allCaches, ", arena ",
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
    uint64_t bytes = cacheBytes(*c, runContext);
    if (auto s = allocate(cache, bytes, "a KV cache"); !s.ok())
      return s;
    if (auto s = check("cuMemsetD8", d.cuMemsetD8(cache, 0, bytes)); !s.ok())
      return s;
    caches.push_back(cache);
  }
  // The arena starts zeroed like the cpu device's (nothing should read it
  // before writing, but a stray read then sees zeros, not old memory).
  if (auto s = check("cuMemsetD8", d.cuMemsetD8(arena, 0, arenaBytes)); !s.ok())
    return s;
  for (BoundProgram &p : programs)
    if (auto s = allocate(p.run, sizeof(RunRecord), "a run record"); !s.ok())
      return s;

  // Pinned staging for the per-run copies.
  int64_t rows = std::max(programs[0].io.maxTokens, programs[1].io.maxTokens);
  uint64_t inputBytes = alignUp(sizeof(RunRecord) + 2 * rows * sizeof(int32_t),
                                64);
  if (auto s = check("cuMemHostAlloc",
                     d.cuMemHostAlloc(&staging,
                                      inputBytes + vocab * sizeof(float),
                                      CU_MEMHOSTALLOC_PORTABLE));
      !s.ok())
    return s;
  hostRun = static_cast<RunRecord *>(staging);
  hostTokens = reinterpret_cast<int32_t *>(hostRun + 1);
  hostPositions = hostTokens + rows;
  hostLogits = reinterpret_cast<float *>(static_cast<char *>(staging) +
                                         inputBytes);
  return absl::OkStatus();
}

/// Launches dispatch `index` of `bound`; `programmatic`: with programmatic
/// stream serialization (it may start before its predecessor ends; its
/// kernel waits with griddepcontrol.wait).
absl::Status CudaDevice::launch(BoundProgram &bound, size_t index,
                                bool programmatic) {
  const Launch &l = bound.plan.launches[index];
  if (l.collective)
    return enqueueCollective(bound, l);
  void **params =
      l.params ? bound.paramPointers.data() + l.firstParam : nullptr;
  CUresult r;
  const char *call = "cuLaunchKernel";
  if (programmatic) {
    CUlaunchAttribute attribute{};
    attribute.id = CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION;
    attribute.value.programmaticStreamSerializationAllowed = 1;
    CUlaunchConfig config{l.grid[0],  l.grid[1],  l.grid[2],
                          l.block[0], l.block[1], l.block[2],
                          0,          stream,     &attribute,
                          1};
    call = "cuLaunchKernelEx";
    r = d.cuLaunchKernelEx(&config, functions[l.entry], params, nullptr);
  } else {
    r = d.cuLaunchKernel(functions[l.entry], l.grid[0], l.grid[1], l.grid[2],
                         l.block[0], l.block[1], l.block[2], 0, stream, params,
                         nullptr);
  }
  if (auto s = check(call, r); !s.ok())
    return absl::InternalError(
        absl::StrCat(s.message(), " (", bound.name, " dispatch ", index, ", '",
                     exe->entry_points()->Get(l.entry)->name()->str(), "')"));
  return absl::OkStatus();
}

absl::Status CudaDevice::launchAll(BoundProgram &bound, bool programmatic) {
  bool timed = !bound.events.empty();
  if (timed)
    if (auto s =
            check("cuEventRecord", d.cuEventRecord(bound.events[0], stream));
        !s.ok())
      return s;
  for (size_t i = 0; i < bound.plan.launches.size(); ++i) {
    // The first launch follows the input copies (or the previous run): it
    // waits for them in full.
    if (auto s = launch(bound, i, programmatic && i > 0); !s.ok())
      return s;
    if (timed)
      if (auto s = check("cuEventRecord",
                         d.cuEventRecord(bound.events[i + 1], stream));
          !s.ok())
        return s;
  }
  return absl::OkStatus();
}

/// Records `bound` once as a CUDA graph that each run replays.
absl::Status CudaDevice::recordGraph(BoundProgram &bound, bool programmatic) {
  if (auto s = check("cuStreamSynchronize", d.cuStreamSynchronize(stream));
      !s.ok())
    return s;
  if (auto s = check("cuStreamBeginCapture",
                     d.cuStreamBeginCapture(
                         stream, CU_STREAM_CAPTURE_MODE_THREAD_LOCAL));
      !s.ok())
    return s;
  absl::Status launched =
      bound.graphCopies ? copyInputs(bound, 1) : absl::OkStatus();
  if (launched.ok())
    launched = launchAll(bound, programmatic);
  if (launched.ok() && bound.graphCopies)
    launched = copyLogits(bound, hostLogits, 0, 1);
  CUgraph graph = nullptr;
  CUresult ended = d.cuStreamEndCapture(stream, &graph);
  if (!launched.ok()) {
    if (graph)
      d.cuGraphDestroy(graph);
    return launched;
  }
  if (auto s = check("cuStreamEndCapture", ended); !s.ok())
    return s;
  CUresult made = d.cuGraphInstantiateWithFlags(&bound.graph, graph, 0);
  d.cuGraphDestroy(graph);
  return check("cuGraphInstantiate", made);
}

absl::Status CudaDevice::init() {
  const schema::Artifact &root = artifact.root();
  vocab = root.config()->vocab_size();
  if (auto s = openDevice(); !s.ok())
    return s;
  if (auto s = loadModule(); !s.ok())
    return s;
  for (ProgramKind kind : {ProgramKind::Prefill, ProgramKind::Decode}) {
    BoundProgram &p = programs[static_cast<size_t>(kind)];
    p.name = programName(kind);
    p.plan = std::move(candidates[chosen].plans[static_cast<size_t>(kind)]);
    p.io = programIO(programOf(root, kind));
  }
  if (auto s = allocateMemory(); !s.ok())
    return s;
  if (auto s = check("cuStreamCreate",
                     d.cuStreamCreate(&stream, CU_STREAM_NON_BLOCKING));
      !s.ok())
    return s;
  if (hasCollectives()) {
    if (!collective)
      return absl::FailedPreconditionError(
          "this artifact's cuda code sums activations across the ranks of a "
          "split model: run its parts together under mpirun");
    if (auto s = collective->attachCudaDevice(deviceOrdinal); !s.ok())
      return s;
  }

  const char *graphsEnv = std::getenv("FMC_CUDA_GRAPHS");
  bool programmatic =
      useProgrammaticLaunch(exe->programmatic_dependent_launch(), major,
                            d.cuLaunchKernelEx != nullptr);
  for (BoundProgram &p : programs) {
    DeviceBases bases;
    bases.arena = arena;
    bases.weights = weights;
    bases.scratch = scratch;
    bases.run = p.run;
    bases.caches.assign(caches.begin(), caches.end());
    p.paramValues = resolveParams(p.plan, bases);
    for (uint64_t &v : p.paramValues)
      p.paramPointers.push_back(&v);
    if (profiling) {
      p.events.resize(p.plan.launches.size() + 1);
      for (CUevent &e : p.events)
        if (auto s =
                check("cuEventCreate", d.cuEventCreate(&e, CU_EVENT_DEFAULT));
            !s.ok())
          return s;
    }
    if (!useGraph(p.plan, profiling, graphsEnv))
      continue;
    // Decode always runs one row: its graph copies the inputs in and the
    // logits out itself (the run record is written before each launch when
    // it changed, which with one row is once).
    p.graphCopies = &p == &programs[static_cast<size_t>(ProgramKind::Decode)];
    absl::Status recorded = recordGraph(p, programmatic);
    // A driver that cannot capture programmatic launches (older than its
    // cuLaunchKernelEx) gets the plain graph.
    if (!recorded.ok() && programmatic)
      recorded = recordGraph(p, false);
    if (!recorded.ok())
      return recorded;
  }
  return check("cuStreamSynchronize", d.cuStreamSynchronize(stream));
}

/// Copies the staged token ids and positions of `rows` rows into the arena.
absl::Status CudaDevice::copyInputs(BoundProgram &bound, int64_t rows) {
  if (auto s = check("cuMemcpyHtoDAsync",
                     d.cuMemcpyHtoDAsync(arena + bound.io.tokensOffset,
                                         hostTokens, rows * sizeof(int32_t),
                                         stream));
      !s.ok())
    return s;
  return check("cuMemcpyHtoDAsync",
               d.cuMemcpyHtoDAsync(arena + bound.io.positionsOffset,
                                   hostPositions, rows * sizeof(int32_t),
                                   stream));
}

/// Copies the staged run record to the device when it differs from the one
/// there. The first dispatch reads it after this copy (one stream); the
/// pinned record is not touched again before the run's synchronization.
absl::Status CudaDevice::writeRunRecord(BoundProgram &bound) {
  if (bound.written == bound.staged)
    return absl::OkStatus();
  *hostRun = bound.staged;
  if (auto s = check("cuMemcpyHtoDAsync",
                     d.cuMemcpyHtoDAsync(bound.run, hostRun, sizeof(RunRecord),
                                         stream));
      !s.ok())
    return s;
  bound.written = bound.staged;
  return absl::OkStatus();
}

absl::Status CudaDevice::copyLogits(BoundProgram &bound, float *logits,
                                    int64_t row, int64_t rows) {
  return check("cuMemcpyDtoHAsync",
               d.cuMemcpyDtoHAsync(logits,
                                   arena + bound.io.logitsOffset +
                                       row * vocab * sizeof(float),
                                   rows * vocab * sizeof(float), stream));
}

/// Hands collective launch `l` to the run's collective on the stream: each
/// buffer's rows of this run only (a prefill chunk may hold fewer rows than
/// the program's maximum, which the bindings cover; after a last_row kernel
/// fewer still, and the rows past them are summed but never read).
absl::Status CudaDevice::enqueueCollective(BoundProgram &bound,
                                           const Launch &l) {
  int64_t rows = std::max<int64_t>(bound.staged.rows, 1);
  int64_t maxRows = std::max<int64_t>(bound.io.maxTokens, 1);
  std::vector<Collective::DeviceBuffer> buffers(l.params / 2);
  for (size_t i = 0; i < buffers.size(); ++i) {
    const ParamRef &in = bound.plan.params[l.firstParam + i];
    uint64_t rowFloats = in.bytes / sizeof(float) / maxRows;
    buffers[i].in = bound.paramValues[l.firstParam + i];
    buffers[i].out = bound.paramValues[l.firstParam + buffers.size() + i];
    buffers[i].count = static_cast<size_t>(rowFloats * std::min(rows, maxRows));
  }
  return collective->enqueueDeviceAllReduce(buffers, l.scale, stream);
}

/// Waits for a program with collectives: polls the stream and the
/// collective's error state, and gives up after the collective timeout
/// (aborting the collective, so the stream drains).
absl::Status CudaDevice::waitForCollectives(BoundProgram &bound) {
  using Clock = std::chrono::steady_clock;
  Clock::time_point deadline =
      Clock::now() + std::chrono::milliseconds(collective->timeoutMs());
  for (;;) {
    CUresult r = d.cuStreamQuery(stream);
    if (r == CUDA_SUCCESS)
      return absl::OkStatus();
    if (r != kNotReady)
      return check("cuStreamQuery", r);
    if (absl::Status s = collective->deviceError(); !s.ok()) {
      collective->abortDevice();
      return s;
    }
    if (Clock::now() >= deadline) {
      collective->abortDevice();
      return absl::DeadlineExceededError(absl::StrCat(
          "rank ", collective->rank(), ": the other ranks did not finish an "
          "all-reduce of the ", bound.name, " program within ",
          collective->timeoutMs() / 1000.0,
          " s (a rank failed or stalls; --collective-timeout sets the wait)"));
    }
    std::this_thread::sleep_for(std::chrono::microseconds(20));
  }
}

absl::Status CudaDevice::setInputs(ProgramKind kind, const RunInputs &inputs) {
  // The staging is free: every run synchronizes before it returns.
  std::copy(inputs.tokens.begin(), inputs.tokens.end(), hostTokens);
  std::copy(inputs.positions.begin(), inputs.positions.end(), hostPositions);
  programs[static_cast<size_t>(kind)].staged = inputs.record;
  return absl::OkStatus();
}

absl::Status CudaDevice::execute(ProgramKind kind, LogitsRows logits,
                                 std::vector<DispatchTime> &times) {
  d.cuCtxSetCurrent(context);
  BoundProgram &bound = programs[static_cast<size_t>(kind)];
  if (auto s = writeRunRecord(bound); !s.ok())
    return s;
  if (bound.graphCopies) {
    // The graph copies its own inputs and its one logits row (hostLogits).
    if (auto s = check("cuGraphLaunch", d.cuGraphLaunch(bound.graph, stream));
        !s.ok())
      return s;
    return check("cuStreamSynchronize", d.cuStreamSynchronize(stream));
  }
  if (auto s = copyInputs(bound, bound.staged.rows); !s.ok())
    return s;
  if (bound.graph) {
    if (auto s = check("cuGraphLaunch", d.cuGraphLaunch(bound.graph, stream));
        !s.ok())
      return s;
  } else if (auto s = launchAll(bound, /*programmatic=*/false); !s.ok()) {
    return s;
  }
  bound.logitsFrom = logits.from;
  if (logits.count > 0) {
    bound.logits.resize(logits.count * vocab);
    if (auto s = copyLogits(bound, bound.logits.data(), logits.from,
                            logits.count);
        !s.ok())
      return s;
  }
  absl::Status done = bound.plan.hasCollectives()
                          ? waitForCollectives(bound)
                          : check("cuStreamSynchronize",
                                  d.cuStreamSynchronize(stream));
  if (!done.ok())
    return absl::Status(done.code(), absl::StrCat(done.message(), " after the ",
                                                  bound.name, " program"));
  for (size_t i = 0; i + 1 < bound.events.size(); ++i) {
    float ms = 0;
    if (auto s = check(
            "cuEventElapsedTime",
            d.cuEventElapsedTime(&ms, bound.events[i], bound.events[i + 1]));
        !s.ok())
      return s;
    times.push_back({bound.plan.launches[i].kernel, ms * 1e-3});
  }
  return absl::OkStatus();
}

/// Errors about the artifact name its file, as Artifact::open's do.
absl::Status namingTheFile(const Artifact &artifact, const absl::Status &s) {
  if (s.code() != absl::StatusCode::kDataLoss)
    return s;
  return absl::Status(s.code(),
                      absl::StrCat("'", artifact.path(), "': ", s.message()));
}

absl::StatusOr<std::unique_ptr<Device>>
load(const Artifact &artifact, const BackendOptions &options,
     std::shared_ptr<const Driver> driver, std::vector<Candidate> candidates) {
  auto device = std::make_unique<CudaDevice>(
      artifact, options, std::move(driver), std::move(candidates));
  if (absl::Status s = device->init(); !s.ok())
    return namingTheFile(artifact, s);
  return std::unique_ptr<Device>(std::move(device));
}

} // namespace

namespace cuda {

absl::StatusOr<std::unique_ptr<Device>>
createCudaDevice(const Artifact &artifact, const BackendOptions &options,
                 std::shared_ptr<const Driver> driver) {
  absl::StatusOr<std::vector<Candidate>> candidates =
      checkExecutables(artifact, options.context);
  if (!candidates.ok())
    return namingTheFile(artifact, candidates.status());
  return load(artifact, options, std::move(driver), std::move(*candidates));
}

} // namespace cuda

absl::StatusOr<std::unique_ptr<Device>>
createCudaDevice(const Artifact &artifact, const BackendOptions &options) {
  // The artifact first: its executables are checked on any machine, before
  // the driver is looked for.
  absl::StatusOr<std::vector<Candidate>> candidates =
      checkExecutables(artifact, options.context);
  if (!candidates.ok())
    return namingTheFile(artifact, candidates.status());
  absl::StatusOr<std::shared_ptr<const Driver>> driver = loadDriver();
  if (!driver.ok())
    return driver.status();
  return load(artifact, options, std::move(*driver), std::move(*candidates));
}

absl::Status probeCudaDevice() {
  // What openDevice checks first, with its messages; no context is made.
  absl::StatusOr<std::shared_ptr<const Driver>> driver = loadDriver();
  if (!driver.ok())
    return driver.status();
  return initWithDevice(**driver);
}

} // namespace fmc
