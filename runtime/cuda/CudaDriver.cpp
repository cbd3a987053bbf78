//===- CudaDriver.cpp - dlopen libcuda and resolve its entry points -------===//

#include "runtime/cuda/CudaDriver.h"

#include "absl/strings/str_cat.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <initializer_list>

namespace fmc::cuda {

std::string driverLibraryPath() {
  const char *path = std::getenv("FMC_CUDA_DRIVER");
  return path && *path ? path : "libcuda.so.1";
}

const char *knownErrorName(CUresult result) {
  switch (result) {
  case 1:
    return "CUDA_ERROR_INVALID_VALUE";
  case 2:
    return "CUDA_ERROR_OUT_OF_MEMORY";
  case 3:
    return "CUDA_ERROR_NOT_INITIALIZED";
  case 34:
    return "CUDA_ERROR_STUB_LIBRARY";
  case 35:
    return "CUDA_ERROR_INSUFFICIENT_DRIVER";
  case 100:
    return "CUDA_ERROR_NO_DEVICE";
  case 101:
    return "CUDA_ERROR_INVALID_DEVICE";
  case 200:
    return "CUDA_ERROR_INVALID_IMAGE";
  case 209:
    return "CUDA_ERROR_NO_BINARY_FOR_GPU";
  case 218:
    return "CUDA_ERROR_INVALID_PTX";
  case 222:
    return "CUDA_ERROR_UNSUPPORTED_PTX_VERSION";
  case 500:
    return "CUDA_ERROR_NOT_FOUND";
  case 600:
    return "CUDA_ERROR_NOT_READY";
  case 700:
    return "CUDA_ERROR_ILLEGAL_ADDRESS";
  case 701:
    return "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES";
  case 719:
    return "CUDA_ERROR_LAUNCH_FAILED";
  default:
    return nullptr;
  }
}

std::string Driver::describe(const char *call, CUresult result) const {
  const char *name = nullptr, *text = nullptr;
  // A stub or broken driver may not name its own errors.
  if (cuGetErrorName(result, &name) != CUDA_SUCCESS || !name)
    name = knownErrorName(result);
  if (!name)
    name = "unknown CUDA error";
  if (cuGetErrorString(result, &text) != CUDA_SUCCESS || !text)
    text = "";
  return absl::StrCat(call, ": ", name, " (", result, *text ? ", " : "", text,
                      ")");
}

namespace {

/// Resolves `slot` from the first of `names` the library exports.
template <typename Fn>
bool resolve(void *library, Fn &slot, std::initializer_list<const char *> names,
             std::string &missing) {
  for (const char *name : names) {
    if (void *symbol = dlsym(library, name)) {
      slot = reinterpret_cast<Fn>(symbol);
      return true;
    }
  }
  missing = *names.begin();
  return false;
}

absl::StatusOr<std::shared_ptr<const Driver>> load() {
  std::string path = driverLibraryPath();
  void *library = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    const char *why = dlerror();
    if (!why || std::strstr(why, "No such file"))
      return absl::UnavailableError(
          absl::StrCat("no CUDA driver (", path, " not found)"));
    return absl::UnavailableError(
        absl::StrCat("no CUDA driver (cannot load ", path, ": ", why, ")"));
  }
  auto d = std::make_shared<Driver>();
  d->library = library;
  std::string missing;
  bool ok =
      resolve(library, d->cuInit, {"cuInit"}, missing) &&
      resolve(library, d->cuDriverGetVersion, {"cuDriverGetVersion"},
              missing) &&
      resolve(library, d->cuGetErrorName, {"cuGetErrorName"}, missing) &&
      resolve(library, d->cuGetErrorString, {"cuGetErrorString"}, missing) &&
      resolve(library, d->cuDeviceGetCount, {"cuDeviceGetCount"}, missing) &&
      resolve(library, d->cuDeviceGet, {"cuDeviceGet"}, missing) &&
      resolve(library, d->cuDeviceGetName, {"cuDeviceGetName"}, missing) &&
      resolve(library, d->cuDeviceGetAttribute, {"cuDeviceGetAttribute"},
              missing) &&
      resolve(library, d->cuDevicePrimaryCtxRetain,
              {"cuDevicePrimaryCtxRetain"}, missing) &&
      resolve(library, d->cuDevicePrimaryCtxRelease,
              {"cuDevicePrimaryCtxRelease_v2", "cuDevicePrimaryCtxRelease"},
              missing) &&
      resolve(library, d->cuCtxSetCurrent, {"cuCtxSetCurrent"}, missing) &&
      resolve(library, d->cuModuleLoadDataEx, {"cuModuleLoadDataEx"},
              missing) &&
      resolve(library, d->cuModuleUnload, {"cuModuleUnload"}, missing) &&
      resolve(library, d->cuModuleGetFunction, {"cuModuleGetFunction"},
              missing) &&
      resolve(library, d->cuMemGetInfo, {"cuMemGetInfo_v2"}, missing) &&
      resolve(library, d->cuMemAlloc, {"cuMemAlloc_v2"}, missing) &&
      resolve(library, d->cuMemFree, {"cuMemFree_v2"}, missing) &&
      resolve(library, d->cuMemHostAlloc, {"cuMemHostAlloc"}, missing) &&
      resolve(library, d->cuMemFreeHost, {"cuMemFreeHost"}, missing) &&
      resolve(library, d->cuMemsetD8, {"cuMemsetD8_v2"}, missing) &&
      resolve(library, d->cuMemcpyHtoD, {"cuMemcpyHtoD_v2"}, missing) &&
      resolve(library, d->cuMemcpyDtoH, {"cuMemcpyDtoH_v2"}, missing) &&
      resolve(library, d->cuMemcpyDtoDAsync, {"cuMemcpyDtoDAsync_v2"},
              missing) &&
      resolve(library, d->cuMemcpyHtoDAsync, {"cuMemcpyHtoDAsync_v2"},
              missing) &&
      resolve(library, d->cuMemcpyDtoHAsync, {"cuMemcpyDtoHAsync_v2"},
              missing) &&
      resolve(library, d->cuStreamCreate, {"cuStreamCreate"}, missing) &&
      resolve(library, d->cuStreamDestroy,
              {"cuStreamDestroy_v2", "cuStreamDestroy"}, missing) &&
      resolve(library, d->cuStreamSynchronize, {"cuStreamSynchronize"},
              missing) &&
      resolve(library, d->cuStreamQuery, {"cuStreamQuery"}, missing) &&
      resolve(library, d->cuLaunchKernel, {"cuLaunchKernel"}, missing) &&
      resolve(library, d->cuStreamBeginCapture, {"cuStreamBeginCapture_v2"},
              missing) &&
      resolve(library, d->cuStreamEndCapture, {"cuStreamEndCapture"},
              missing) &&
      resolve(library, d->cuGraphInstantiateWithFlags,
              {"cuGraphInstantiateWithFlags"}, missing) &&
      resolve(library, d->cuGraphLaunch, {"cuGraphLaunch"}, missing) &&
      resolve(library, d->cuGraphExecDestroy, {"cuGraphExecDestroy"},
              missing) &&
      resolve(library, d->cuGraphDestroy, {"cuGraphDestroy"}, missing) &&
      resolve(library, d->cuEventCreate, {"cuEventCreate"}, missing) &&
      resolve(library, d->cuEventDestroy,
              {"cuEventDestroy_v2", "cuEventDestroy"}, missing) &&
      resolve(library, d->cuEventRecord, {"cuEventRecord"}, missing) &&
      resolve(library, d->cuEventElapsedTime,
              {"cuEventElapsedTime_v2", "cuEventElapsedTime"}, missing);
  // Optional: programmatic dependent launch needs it; plain launches do not.
  d->cuLaunchKernelEx = reinterpret_cast<decltype(d->cuLaunchKernelEx)>(
      dlsym(library, "cuLaunchKernelEx"));
  if (!ok) {
    dlclose(library);
    return absl::UnavailableError(
        absl::StrCat("no usable CUDA driver (", path, " lacks ", missing,
                     "; fmc needs a driver of CUDA 11.4 or later)"));
  }
  return std::shared_ptr<const Driver>(std::move(d));
}

} // namespace

absl::StatusOr<std::shared_ptr<const Driver>> loadDriver() { return load(); }

absl::StatusOr<double> measureDeviceCopyBandwidth(uint64_t bytes, int passes) {
  absl::StatusOr<std::shared_ptr<const Driver>> loaded = loadDriver();
  if (!loaded.ok())
    return loaded.status();
  const Driver &d = **loaded;
  auto fail = [&](const char *call, CUresult r) {
    return absl::InternalError(absl::StrCat("cuda: ", d.describe(call, r)));
  };
  CUresult r;
  int count = 0;
  if ((r = d.cuInit(0)) != CUDA_SUCCESS ||
      (r = d.cuDeviceGetCount(&count)) != CUDA_SUCCESS || count == 0)
    return absl::UnavailableError("no CUDA device");
  CUdevice device = 0;
  CUcontext context = nullptr;
  if ((r = d.cuDeviceGet(&device, 0)) != CUDA_SUCCESS)
    return fail("cuDeviceGet", r);
  if ((r = d.cuDevicePrimaryCtxRetain(&context, device)) != CUDA_SUCCESS)
    return fail("cuDevicePrimaryCtxRetain", r);
  d.cuCtxSetCurrent(context);
  CUdeviceptr a = 0, b = 0;
  CUstream stream = nullptr;
  CUevent start = nullptr, end = nullptr;
  double best = 0;
  absl::Status status = absl::OkStatus();
  if ((r = d.cuMemAlloc(&a, bytes)) != CUDA_SUCCESS ||
      (r = d.cuMemAlloc(&b, bytes)) != CUDA_SUCCESS)
    status = fail("cuMemAlloc", r);
  else if ((r = d.cuMemsetD8(a, 1, bytes)) != CUDA_SUCCESS)
    status = fail("cuMemsetD8", r);
  else if ((r = d.cuStreamCreate(&stream, CU_STREAM_NON_BLOCKING)) !=
               CUDA_SUCCESS ||
           (r = d.cuEventCreate(&start, CU_EVENT_DEFAULT)) != CUDA_SUCCESS ||
           (r = d.cuEventCreate(&end, CU_EVENT_DEFAULT)) != CUDA_SUCCESS)
    status = fail("cuStreamCreate/cuEventCreate", r);
  // One warm-up copy, then `passes` timed ones.
  for (int pass = -1; status.ok() && pass < passes; ++pass) {
    float ms = 0;
    if ((r = d.cuEventRecord(start, stream)) != CUDA_SUCCESS ||
        (r = d.cuMemcpyDtoDAsync(b, a, bytes, stream)) != CUDA_SUCCESS ||
        (r = d.cuEventRecord(end, stream)) != CUDA_SUCCESS ||
        (r = d.cuStreamSynchronize(stream)) != CUDA_SUCCESS ||
        (r = d.cuEventElapsedTime(&ms, start, end)) != CUDA_SUCCESS) {
      status = fail("device copy", r);
      break;
    }
    if (pass >= 0 && ms > 0)
      best = std::max(best, 2.0 * bytes / (ms * 1e-3) / 1e9);
  }
  if (start)
    d.cuEventDestroy(start);
  if (end)
    d.cuEventDestroy(end);
  if (stream)
    d.cuStreamDestroy(stream);
  if (a)
    d.cuMemFree(a);
  if (b)
    d.cuMemFree(b);
  d.cuDevicePrimaryCtxRelease(device);
  if (!status.ok())
    return status;
  return best;
}

} // namespace fmc::cuda
