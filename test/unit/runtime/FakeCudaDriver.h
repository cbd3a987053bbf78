//===- FakeCudaDriver.h - a CUDA driver over host memory, for tests -------===//
//
// A cuda::Driver whose entry points act on host memory, so the cuda
// device's host logic runs on machines without a GPU: device pointers are
// host pointers, stream work runs at once (or, while a stream is being
// captured, goes into the graph that cuGraphLaunch replays), and kernels
// are the tiny counter artifact's two, 'count' and 'rows'
// (TinyGpuArtifact.h), computed in C++. Every launch is logged with how it
// was made (cuLaunchKernel or cuLaunchKernelEx, its attributes, captured
// or not).
//
// The driver's functions are plain function pointers, so they reach the
// fake's state through one pointer: one FakeCuda at a time (a test fixture
// member); its constructor installs it.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_TEST_UNIT_RUNTIME_FAKECUDADRIVER_H
#define FMC_TEST_UNIT_RUNTIME_FAKECUDADRIVER_H

#include "runtime/cuda/CudaDriver.h"

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace fmc::test {

/// One kernel launch as the driver saw it.
struct FakeLaunch {
  std::string entry;
  std::array<unsigned, 3> grid{}, block{};
  bool viaLaunchKernelEx = false;
  /// CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION set to 1.
  bool programmatic = false;
  /// Other attributes it carried.
  int otherAttributes = 0;
  bool captured = false;
};

class FakeCuda {
public:
  FakeCuda();
  ~FakeCuda();
  FakeCuda(const FakeCuda &) = delete;
  FakeCuda &operator=(const FakeCuda &) = delete;

  /// The driver (cuLaunchKernelEx null unless haveLaunchKernelEx).
  std::shared_ptr<const cuda::Driver> driver() const;

  // What the fake device is and does; set before creating a device.
  int major = 9, minor = 0;
  bool haveLaunchKernelEx = true;
  /// cuLaunchKernelEx fails (as a driver that cannot capture it might).
  bool failLaunchKernelEx = false;
  /// cuStreamQuery says CUDA_ERROR_NOT_READY this many times before it says
  /// done (-1: never, a stream whose collective another rank never joins).
  int streamBusyQueries = 0;

  // What happened.
  std::vector<FakeLaunch> launches;
  int graphLaunches = 0;
  int streamQueries = 0;
  int liveAllocations = 0;
  /// The byte count of every cuMemsetD8, in order.
  std::vector<size_t> memsets;

  // The driver's state (used by the entry points in FakeCudaDriver.cpp).
  using Work = std::function<void()>;
  void submit(Work work);
  void launch(const std::string &entry, std::array<unsigned, 3> grid,
              std::vector<uint64_t> params);
  std::vector<std::string> functions; ///< CUfunction i + 1 names entry i.
  bool capturing = false;
  bool captureFailed = false;
  std::vector<Work> capture;
};

} // namespace fmc::test

#endif // FMC_TEST_UNIT_RUNTIME_FAKECUDADRIVER_H
