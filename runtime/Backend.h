//===- Backend.h - the backends: which device runs a model ----------------===//
//
// A backend is a kind of device (Device.h) registered under the name
// fmc-run's --backend takes. The cpu backend is always built; GPU backends
// (cuda, vulkan, metal) come with their own build options. Sessions
// (Session.h) create their device here.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_RUNTIME_BACKEND_H
#define FMC_RUNTIME_BACKEND_H

#include "runtime/Artifact.h"
#include "runtime/Collective.h"
#include "runtime/Device.h"

#include "absl/status/statusor.h"

#include <memory>
#include <string>
#include <vector>

namespace fmc {

struct BackendOptions {
  /// Threads for the cpu backend; 0 picks the machine's core count.
  int threads = 0;
  /// Time every dispatch (kernel) of every run (Session::profile()).
  bool profile = false;
  /// Set by createDevice for "auto": a GPU backend then declines devices
  /// that are CPU implementations (lavapipe), so auto moves on to cpu.
  bool autoSelected = false;
  /// Positions the linear KV caches hold (fmc-run --ctx-size): from 1 to the
  /// artifact's compiled max_context, 0 for that maximum. Devices size those
  /// caches to it (cacheCapacity); ring caches keep their window.
  int64_t context = 0;
  /// The processes of a track-parallel artifact part (schema
  /// TrackPartition), which the cpu device's AllReduce kernels sum across;
  /// null for a whole model. Must outlive the device.
  Collective *collective = nullptr;
};

/// A track-parallel part runs with a collective of its world size, as the
/// rank it was compiled for, on the cpu backend; a whole model with none.
absl::Status checkTrackPartition(const Artifact &artifact,
                                 const BackendOptions &options);

/// An error unless `options.context` is 0 or within `artifact`'s compiled
/// context.
absl::Status checkContextOption(const Artifact &artifact,
                                const BackendOptions &options);

/// Positions KV cache `cache` holds on a device opened with a context of
/// `context` positions (0: the compiled maximum): a ring cache its
/// capacity, a linear cache min(capacity, context).
int64_t cacheCapacity(const schema::KVCache &cache, int64_t context);

/// Bytes of `cache` at cacheCapacity(cache, context) positions (elements
/// and int8 scales both grow by position).
uint64_t cacheBytes(const schema::KVCache &cache, int64_t context);

/// Backend names fmc-run knows, built here or not.
std::vector<std::string> knownBackends();
/// Backends compiled into this build.
std::vector<std::string> builtBackends();

/// OK for "auto" and the backends built here; otherwise the error
/// createDevice gives for `name` (unknown, or not in this build).
absl::Status checkBackendName(const std::string &name);

/// Whether this machine has a device that backend `name` runs a model on
/// when "auto" picks it (a GPU backend declines a CPU implementation such as
/// lavapipe), found without an artifact: fmc-run compiles a model for the
/// best backend present before it has one. The cpu backend is always OK.
absl::Status probeBackend(const std::string &name);

/// The first built backend, in "auto"'s order, whose probe finds a device
/// here: a GPU backend, else "cpu".
std::string bestBackendHere();

/// The device of backend `name` for `artifact`, loaded ("auto" picks the
/// first built backend, in the order cuda, metal, vulkan, cpu, that the
/// artifact has executables for and this machine can run). `why`, when
/// given, receives how the backend was chosen: for "auto", why each backend
/// before it was passed over.
absl::StatusOr<std::unique_ptr<Device>>
createDevice(const std::string &name, const Artifact &artifact,
             const BackendOptions &options, std::string *why = nullptr);

/// Each GPU backend's probe (probeBackend): its driver loads and lists a
/// device that is not a CPU implementation.
absl::Status probeCudaDevice();
absl::Status probeMetalDevice();
absl::Status probeVulkanDevice();

/// The cpu backend (runtime/cpu).
absl::StatusOr<std::unique_ptr<Device>>
createCpuDevice(const Artifact &artifact, const BackendOptions &options);

/// The cuda backend (runtime/cuda; built with -DFMC_CUDA=ON, the default).
absl::StatusOr<std::unique_ptr<Device>>
createCudaDevice(const Artifact &artifact, const BackendOptions &options);

/// The metal backend (runtime/metal; Objective-C++, built on Apple
/// platforms only).
absl::StatusOr<std::unique_ptr<Device>>
createMetalDevice(const Artifact &artifact, const BackendOptions &options);

/// The vulkan backend (runtime/vulkan; built with FMC_VULKAN).
absl::StatusOr<std::unique_ptr<Device>>
createVulkanDevice(const Artifact &artifact, const BackendOptions &options);

} // namespace fmc

#endif // FMC_RUNTIME_BACKEND_H
