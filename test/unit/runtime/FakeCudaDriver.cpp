//===- FakeCudaDriver.cpp - a CUDA driver over host memory, for tests -----===//

#include "FakeCudaDriver.h"

#include "TinyGpuArtifact.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <map>

namespace fmc::test {

namespace {

using namespace cuda; // NOLINT: the driver API's names, in this file only.

/// The fake the entry points act on (FakeCuda's constructor sets it).
FakeCuda *active = nullptr;

constexpr CUresult kInvalidValue = 1;
constexpr CUresult kNotFound = 500;
constexpr CUresult kCaptureInvalidated = 901;

template <typename T> T *host(CUdeviceptr p) {
  return reinterpret_cast<T *>(static_cast<uintptr_t>(p));
}

/// The tiny counter kernels (TinyGpuArtifact.h) on their parameters.
void runKernel(const std::string &entry, std::array<unsigned, 3> grid,
               const std::vector<uint64_t> &p) {
  const int64_t vocab = kTinyVocab;
  if (entry == "count") {
    float *counter = host<float>(p[0]), *scratch = host<float>(p[1]);
    for (int64_t v = 0; v < vocab; ++v) {
      scratch[v] = counter[v];
      counter[v] += 1;
    }
  } else if (entry == "rows") {
    const int32_t *run = host<int32_t>(p[0]), *tokens = host<int32_t>(p[1]),
                  *positions = host<int32_t>(p[2]);
    const float *table = host<float>(p[3]), *scratch = host<float>(p[4]);
    float *logits = host<float>(p[5]);
    for (int64_t r = 0; r < grid[0] && r < run[0]; ++r)
      for (int64_t v = 0; v < vocab; ++v)
        logits[vocab * r + v] = table[vocab * tokens[r] + v] +
                                static_cast<float>(positions[r]) + scratch[v];
  } else {
    ADD_FAILURE() << "the fake driver has no kernel '" << entry << "'";
  }
}

size_t paramCount(const std::string &entry) {
  return entry == "count" ? 2 : entry == "rows" ? 6 : 0;
}

std::vector<uint64_t> paramValues(const std::string &entry, void **params) {
  std::vector<uint64_t> values(paramCount(entry));
  for (size_t i = 0; i < values.size(); ++i)
    std::memcpy(&values[i], params[i], sizeof(uint64_t));
  return values;
}

const std::string &entryOf(CUfunction f) {
  return active->functions.at(reinterpret_cast<uintptr_t>(f) - 1);
}

using Graph = std::vector<FakeCuda::Work>;

CUresult ok() { return CUDA_SUCCESS; }

CUresult init(unsigned) { return ok(); }
CUresult driverVersion(int *v) {
  *v = 13000;
  return ok();
}
CUresult errorName(CUresult, const char **) { return kInvalidValue; }
CUresult errorString(CUresult, const char **) { return kInvalidValue; }
CUresult deviceCount(int *n) {
  *n = 1;
  return ok();
}
CUresult deviceGet(CUdevice *d, int) {
  *d = 0;
  return ok();
}
CUresult deviceName(char *name, int length, CUdevice) {
  std::strncpy(name, "Fake GPU", length);
  return ok();
}
CUresult deviceAttribute(int *value, int attribute, CUdevice) {
  if (attribute == CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR)
    *value = active->major;
  else if (attribute == CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR)
    *value = active->minor;
  else
    *value = 0;
  return ok();
}
CUresult retain(CUcontext *c, CUdevice) {
  *c = reinterpret_cast<CUcontext>(uintptr_t{1});
  return ok();
}
CUresult release(CUdevice) { return ok(); }
CUresult setCurrent(CUcontext) { return ok(); }
CUresult loadModule(CUmodule *m, const void *, unsigned, int *, void **) {
  *m = reinterpret_cast<CUmodule>(uintptr_t{1});
  return ok();
}
CUresult unloadModule(CUmodule) { return ok(); }
CUresult getFunction(CUfunction *f, CUmodule, const char *name) {
  if (paramCount(name) == 0)
    return kNotFound;
  active->functions.push_back(name);
  *f = reinterpret_cast<CUfunction>(active->functions.size());
  return ok();
}
CUresult memInfo(size_t *freeBytes, size_t *total) {
  *freeBytes = *total = size_t{1} << 30;
  return ok();
}
CUresult memAlloc(CUdeviceptr *p, size_t bytes) {
  *p = reinterpret_cast<uintptr_t>(std::aligned_alloc(256, bytes));
  ++active->liveAllocations;
  return *p ? ok() : 2;
}
CUresult memFree(CUdeviceptr p) {
  std::free(host<void>(p));
  --active->liveAllocations;
  return ok();
}
CUresult hostAlloc(void **p, size_t bytes, unsigned) {
  *p = std::aligned_alloc(64, (bytes + 63) / 64 * 64);
  ++active->liveAllocations;
  return ok();
}
CUresult freeHost(void *p) {
  std::free(p);
  --active->liveAllocations;
  return ok();
}
CUresult memset8(CUdeviceptr p, unsigned char value, size_t n) {
  active->memsets.push_back(n);
  std::memset(host<void>(p), value, n);
  return ok();
}
CUresult copyHtoD(CUdeviceptr dst, const void *src, size_t n) {
  std::memcpy(host<void>(dst), src, n);
  return ok();
}
CUresult copyDtoH(void *dst, CUdeviceptr src, size_t n) {
  std::memcpy(dst, host<void>(src), n);
  return ok();
}
CUresult copyDtoDAsync(CUdeviceptr dst, CUdeviceptr src, size_t n, CUstream) {
  active->submit([=] { std::memcpy(host<void>(dst), host<void>(src), n); });
  return ok();
}
CUresult copyHtoDAsync(CUdeviceptr dst, const void *src, size_t n, CUstream) {
  // Captured copies read the host memory when the graph runs, as CUDA's do.
  active->submit([=] { std::memcpy(host<void>(dst), src, n); });
  return ok();
}
CUresult copyDtoHAsync(void *dst, CUdeviceptr src, size_t n, CUstream) {
  active->submit([=] { std::memcpy(dst, host<void>(src), n); });
  return ok();
}
CUresult streamCreate(CUstream *s, unsigned) {
  *s = reinterpret_cast<CUstream>(uintptr_t{1});
  return ok();
}
CUresult streamDestroy(CUstream) { return ok(); }
CUresult streamSynchronize(CUstream) { return ok(); }
CUresult launchKernel(CUfunction f, unsigned gx, unsigned gy, unsigned gz,
                      unsigned bx, unsigned by, unsigned bz, unsigned, CUstream,
                      void **params, void **) {
  FakeLaunch l;
  l.entry = entryOf(f);
  l.grid = {gx, gy, gz};
  l.block = {bx, by, bz};
  l.captured = active->capturing;
  active->launches.push_back(l);
  active->launch(l.entry, l.grid, paramValues(l.entry, params));
  return ok();
}
CUresult launchKernelEx(const CUlaunchConfig *config, CUfunction f,
                        void **params, void **) {
  FakeLaunch l;
  l.entry = entryOf(f);
  l.grid = {config->gridDimX, config->gridDimY, config->gridDimZ};
  l.block = {config->blockDimX, config->blockDimY, config->blockDimZ};
  l.viaLaunchKernelEx = true;
  l.captured = active->capturing;
  for (unsigned i = 0; i < config->numAttrs; ++i) {
    const CUlaunchAttribute &a = config->attrs[i];
    if (a.id == CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION &&
        a.value.programmaticStreamSerializationAllowed == 1)
      l.programmatic = true;
    else
      ++l.otherAttributes;
  }
  active->launches.push_back(l);
  if (active->failLaunchKernelEx) {
    active->captureFailed |= active->capturing;
    return kInvalidValue;
  }
  active->launch(l.entry, l.grid, paramValues(l.entry, params));
  return ok();
}
CUresult streamQuery(CUstream) {
  ++active->streamQueries;
  if (active->streamBusyQueries == 0)
    return ok();
  if (active->streamBusyQueries > 0)
    --active->streamBusyQueries;
  return 600; // CUDA_ERROR_NOT_READY
}
CUresult beginCapture(CUstream, int) {
  active->capturing = true;
  active->captureFailed = false;
  active->capture.clear();
  return ok();
}
CUresult endCapture(CUstream, CUgraph *graph) {
  active->capturing = false;
  if (active->captureFailed) {
    *graph = nullptr;
    return kCaptureInvalidated;
  }
  *graph = reinterpret_cast<CUgraph>(new Graph(std::move(active->capture)));
  ++active->liveAllocations;
  return ok();
}
CUresult instantiate(CUgraphExec *exec, CUgraph graph, unsigned long long) {
  *exec = reinterpret_cast<CUgraphExec>(
      new Graph(*reinterpret_cast<Graph *>(graph)));
  ++active->liveAllocations;
  return ok();
}
CUresult graphLaunch(CUgraphExec exec, CUstream) {
  ++active->graphLaunches;
  for (const FakeCuda::Work &work : *reinterpret_cast<Graph *>(exec))
    work();
  return ok();
}
CUresult destroyExec(CUgraphExec exec) {
  delete reinterpret_cast<Graph *>(exec);
  --active->liveAllocations;
  return ok();
}
CUresult destroyGraph(CUgraph graph) {
  delete reinterpret_cast<Graph *>(graph);
  --active->liveAllocations;
  return ok();
}
CUresult eventCreate(CUevent *e, unsigned) {
  *e = reinterpret_cast<CUevent>(uintptr_t{1});
  return ok();
}
CUresult eventDestroy(CUevent) { return ok(); }
CUresult eventRecord(CUevent, CUstream) { return ok(); }
CUresult eventElapsed(float *ms, CUevent, CUevent) {
  *ms = 0.5f;
  return ok();
}

} // namespace

FakeCuda::FakeCuda() {
  EXPECT_EQ(active, nullptr) << "one FakeCuda at a time";
  active = this;
}

FakeCuda::~FakeCuda() { active = nullptr; }

void FakeCuda::submit(Work work) {
  if (capturing)
    capture.push_back(std::move(work));
  else
    work();
}

void FakeCuda::launch(const std::string &entry, std::array<unsigned, 3> grid,
                      std::vector<uint64_t> params) {
  submit([=] { runKernel(entry, grid, params); });
}

std::shared_ptr<const cuda::Driver> FakeCuda::driver() const {
  auto d = std::make_shared<Driver>();
  d->cuInit = init;
  d->cuDriverGetVersion = driverVersion;
  d->cuGetErrorName = errorName;
  d->cuGetErrorString = errorString;
  d->cuDeviceGetCount = deviceCount;
  d->cuDeviceGet = deviceGet;
  d->cuDeviceGetName = deviceName;
  d->cuDeviceGetAttribute = deviceAttribute;
  d->cuDevicePrimaryCtxRetain = retain;
  d->cuDevicePrimaryCtxRelease = release;
  d->cuCtxSetCurrent = setCurrent;
  d->cuModuleLoadDataEx = loadModule;
  d->cuModuleUnload = unloadModule;
  d->cuModuleGetFunction = getFunction;
  d->cuMemGetInfo = memInfo;
  d->cuMemAlloc = memAlloc;
  d->cuMemFree = memFree;
  d->cuMemHostAlloc = hostAlloc;
  d->cuMemFreeHost = freeHost;
  d->cuMemsetD8 = memset8;
  d->cuMemcpyHtoD = copyHtoD;
  d->cuMemcpyDtoH = copyDtoH;
  d->cuMemcpyDtoDAsync = copyDtoDAsync;
  d->cuMemcpyHtoDAsync = copyHtoDAsync;
  d->cuMemcpyDtoHAsync = copyDtoHAsync;
  d->cuStreamCreate = streamCreate;
  d->cuStreamDestroy = streamDestroy;
  d->cuStreamSynchronize = streamSynchronize;
  d->cuStreamQuery = streamQuery;
  d->cuLaunchKernel = launchKernel;
  d->cuStreamBeginCapture = beginCapture;
  d->cuStreamEndCapture = endCapture;
  d->cuGraphInstantiateWithFlags = instantiate;
  d->cuGraphLaunch = graphLaunch;
  d->cuGraphExecDestroy = destroyExec;
  d->cuGraphDestroy = destroyGraph;
  d->cuEventCreate = eventCreate;
  d->cuEventDestroy = eventDestroy;
  d->cuEventRecord = eventRecord;
  d->cuEventElapsedTime = eventElapsed;
  d->cuLaunchKernelEx = haveLaunchKernelEx ? launchKernelEx : nullptr;
  return d;
}

} // namespace fmc::test
