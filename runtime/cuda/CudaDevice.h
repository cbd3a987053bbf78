//===- CudaDevice.h - the cuda backend's device over a given driver -------===//
//
// createCudaDevice (Backend.h) loads libcuda and calls this; tests call it
// with a driver of their own (function pointers over host memory) to run
// the device's host logic, graph recording and launches included, on
// machines without a GPU.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_RUNTIME_CUDA_CUDADEVICE_H
#define FMC_RUNTIME_CUDA_CUDADEVICE_H

#include "runtime/Backend.h"
#include "runtime/cuda/CudaDriver.h"

#include <memory>

namespace fmc::cuda {

/// The cuda device for `artifact` on device 0 of `driver`. The artifact's
/// cuda executables are checked first (errors name the artifact's file).
absl::StatusOr<std::unique_ptr<Device>>
createCudaDevice(const Artifact &artifact, const BackendOptions &options,
                 std::shared_ptr<const Driver> driver);

} // namespace fmc::cuda

#endif // FMC_RUNTIME_CUDA_CUDADEVICE_H
