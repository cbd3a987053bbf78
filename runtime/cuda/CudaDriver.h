//===- CudaDriver.h - the CUDA driver API, loaded at run time -------------===//
//
// fmc-run must start on machines without CUDA (and build without the
// toolkit), so the cuda backend never links libcuda: it dlopens
// libcuda.so.1 and looks up exactly the entry points below. The types and
// constants are our own declarations with the driver API's meaning and
// values (cuda.h of CUDA 13; they have been stable since CUDA 11); no CUDA
// header is included.
//
// Symbol names: cuda.h maps several functions to versioned symbols
// (cuMemAlloc -> cuMemAlloc_v2, ...). We look up those versioned names
// directly (checked with `nm -D` against CUDA 13's libcuda stub), which
// every driver since CUDA 11.4 exports; a function with two names lists
// both, newest first. The per-thread-stream variants (_ptsz/_ptds) are not
// used: every call names its stream. Entry points newer than CUDA 11.4
// (cuLaunchKernelEx, CUDA 11.8) are optional: null when the driver lacks
// them, and the backend does without.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_RUNTIME_CUDA_CUDADRIVER_H
#define FMC_RUNTIME_CUDA_CUDADRIVER_H

#include "absl/status/statusor.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace fmc::cuda {

// Opaque handles and scalar types, as the driver API defines them (64-bit).
using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
using CUcontext = struct CUctx_st *;
using CUmodule = struct CUmod_st *;
using CUfunction = struct CUfunc_st *;
using CUstream = struct CUstream_st *;
using CUevent = struct CUevent_st *;
using CUgraph = struct CUgraph_st *;
using CUgraphExec = struct CUgraphExec_st *;

// Values of the driver API's enums we use.
constexpr CUresult CUDA_SUCCESS = 0;
constexpr CUresult CUDA_ERROR_NO_DEVICE = 100;
constexpr int CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16;
constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
constexpr int CU_JIT_INFO_LOG_BUFFER = 3;
constexpr int CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES = 4;
constexpr int CU_JIT_ERROR_LOG_BUFFER = 5;
constexpr int CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES = 6;
constexpr unsigned CU_STREAM_NON_BLOCKING = 1;
constexpr int CU_STREAM_CAPTURE_MODE_THREAD_LOCAL = 1;
constexpr unsigned CU_EVENT_DEFAULT = 0;
constexpr unsigned CU_MEMHOSTALLOC_PORTABLE = 1;
/// CUlaunchAttributeID: the launch may overlap its predecessor in the
/// stream up to the kernel's griddepcontrol.wait (programmatic dependent
/// launch, sm_90 and later).
constexpr int CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION = 6;

/// CUlaunchAttribute: an attribute id, padding to 8 bytes, and a 64-byte
/// value union of which fmc sets one int
/// (programmaticStreamSerializationAllowed).
struct CUlaunchAttribute {
  int id;
  char pad[8 - sizeof(int)];
  union {
    char bytes[64];
    int programmaticStreamSerializationAllowed;
    // The union holds pointers (accessPolicyWindow, events): 8-aligned.
    unsigned long long alignment;
  } value;
};
static_assert(sizeof(CUlaunchAttribute) == 72 &&
                  offsetof(CUlaunchAttribute, value) == 8,
              "cuda.h's CUlaunchAttribute");

/// CUlaunchConfig, cuLaunchKernelEx's launch description.
struct CUlaunchConfig {
  unsigned gridDimX, gridDimY, gridDimZ;
  unsigned blockDimX, blockDimY, blockDimZ;
  unsigned sharedMemBytes;
  CUstream hStream;
  CUlaunchAttribute *attrs;
  unsigned numAttrs;
};
static_assert(sizeof(CUlaunchConfig) == 56 &&
                  offsetof(CUlaunchConfig, hStream) == 32 &&
                  offsetof(CUlaunchConfig, attrs) == 40,
              "cuda.h's CUlaunchConfig");

/// The driver entry points the backend calls, resolved from libcuda.
struct Driver {
  CUresult (*cuInit)(unsigned flags);
  CUresult (*cuDriverGetVersion)(int *version);
  CUresult (*cuGetErrorName)(CUresult error, const char **name);
  CUresult (*cuGetErrorString)(CUresult error, const char **text);
  CUresult (*cuDeviceGetCount)(int *count);
  CUresult (*cuDeviceGet)(CUdevice *device, int ordinal);
  CUresult (*cuDeviceGetName)(char *name, int length, CUdevice device);
  CUresult (*cuDeviceGetAttribute)(int *value, int attribute, CUdevice device);
  CUresult (*cuDevicePrimaryCtxRetain)(CUcontext *context, CUdevice device);
  CUresult (*cuDevicePrimaryCtxRelease)(CUdevice device);
  CUresult (*cuCtxSetCurrent)(CUcontext context);
  CUresult (*cuModuleLoadDataEx)(CUmodule *module, const void *image,
                                 unsigned options, int *optionKeys,
                                 void **optionValues);
  CUresult (*cuModuleUnload)(CUmodule module);
  CUresult (*cuModuleGetFunction)(CUfunction *function, CUmodule module,
                                  const char *name);
  CUresult (*cuMemGetInfo)(size_t *free, size_t *total);
  CUresult (*cuMemAlloc)(CUdeviceptr *pointer, size_t bytes);
  CUresult (*cuMemFree)(CUdeviceptr pointer);
  CUresult (*cuMemHostAlloc)(void **pointer, size_t bytes, unsigned flags);
  CUresult (*cuMemFreeHost)(void *pointer);
  CUresult (*cuMemsetD8)(CUdeviceptr pointer, unsigned char value,
                         size_t count);
  CUresult (*cuMemcpyHtoD)(CUdeviceptr dst, const void *src, size_t bytes);
  CUresult (*cuMemcpyDtoH)(void *dst, CUdeviceptr src, size_t bytes);
  CUresult (*cuMemcpyDtoDAsync)(CUdeviceptr dst, CUdeviceptr src, size_t bytes,
                                CUstream stream);
  CUresult (*cuMemcpyHtoDAsync)(CUdeviceptr dst, const void *src, size_t bytes,
                                CUstream stream);
  CUresult (*cuMemcpyDtoHAsync)(void *dst, CUdeviceptr src, size_t bytes,
                                CUstream stream);
  CUresult (*cuStreamCreate)(CUstream *stream, unsigned flags);
  CUresult (*cuStreamDestroy)(CUstream stream);
  CUresult (*cuStreamSynchronize)(CUstream stream);
  /// CUDA_SUCCESS when everything enqueued on `stream` finished,
  /// CUDA_ERROR_NOT_READY (600) while some of it runs.
  CUresult (*cuStreamQuery)(CUstream stream);
  CUresult (*cuLaunchKernel)(CUfunction function, unsigned gridX,
                             unsigned gridY, unsigned gridZ, unsigned blockX,
                             unsigned blockY, unsigned blockZ,
                             unsigned sharedBytes, CUstream stream,
                             void **params, void **extra);
  CUresult (*cuStreamBeginCapture)(CUstream stream, int mode);
  CUresult (*cuStreamEndCapture)(CUstream stream, CUgraph *graph);
  CUresult (*cuGraphInstantiateWithFlags)(CUgraphExec *exec, CUgraph graph,
                                          unsigned long long flags);
  CUresult (*cuGraphLaunch)(CUgraphExec exec, CUstream stream);
  CUresult (*cuGraphExecDestroy)(CUgraphExec exec);
  CUresult (*cuGraphDestroy)(CUgraph graph);
  CUresult (*cuEventCreate)(CUevent *event, unsigned flags);
  CUresult (*cuEventDestroy)(CUevent event);
  CUresult (*cuEventRecord)(CUevent event, CUstream stream);
  CUresult (*cuEventElapsedTime)(float *milliseconds, CUevent start,
                                 CUevent end);
  /// Optional (CUDA 11.8): null when the driver lacks it.
  CUresult (*cuLaunchKernelEx)(const CUlaunchConfig *config,
                               CUfunction function, void **params,
                               void **extra) = nullptr;

  /// "cuMemAlloc: CUDA_ERROR_OUT_OF_MEMORY (out of memory)".
  std::string describe(const char *call, CUresult result) const;

  void *library = nullptr;
};

/// The driver API's name of `result` for the errors a load or launch
/// commonly meets (nullptr for others); used when the driver cannot name
/// its own error (the toolkit's stub library cannot).
const char *knownErrorName(CUresult result);

/// The library the backend loads: $FMC_CUDA_DRIVER when set (tests force
/// the no-driver path with a path that does not exist), else libcuda.so.1.
std::string driverLibraryPath();

/// Loads the driver library and resolves every entry point of Driver.
/// Unavailable "no CUDA driver (libcuda.so.1 not found)" when the library
/// does not load; Unavailable naming the symbol when one is missing (a
/// driver older than CUDA 11.4). A loaded library stays loaded
/// for the process (dlopen counts references; we never unload it).
absl::StatusOr<std::shared_ptr<const Driver>> loadDriver();

/// Device memory bandwidth as a large device-to-device copy achieves it
/// (bytes read plus bytes written per second, best of `passes` copies of
/// `bytes` bytes): the ceiling a weight-streaming decode step is measured
/// against. Opens device 0 like the backend (its errors when there is none).
absl::StatusOr<double> measureDeviceCopyBandwidth(uint64_t bytes, int passes);

} // namespace fmc::cuda

#endif // FMC_RUNTIME_CUDA_CUDADRIVER_H
