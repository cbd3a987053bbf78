//===- Backend.h - what runs a model's programs ---------------------------===//
//
// A backend owns the device state of one loaded model (arena, KV caches,
// uploaded weights or executables) and runs the artifact's prefill and
// decode programs. Backends register by name; fmc-run picks one with
// --backend. The cpu backend is always built; GPU backends (cuda, vulkan,
// metal) come with their own build options.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_RUNTIME_BACKEND_H
#define FMC_RUNTIME_BACKEND_H

#include "runtime/Artifact.h"

#include "absl/status/statusor.h"
#include "absl/types/span.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace fmc {

struct BackendOptions {
  /// Threads for the CPU backend; 0 picks the machine's core count.
  int threads = 0;
  /// Time every kernel and sum the times per kernel family (see profile()).
  bool profile = false;
  /// Set by createBackend for "auto": a GPU backend then declines devices
  /// that are CPU implementations (lavapipe), so auto moves on to cpu.
  bool autoSelected = false;
};

/// Time spent per kernel family since the backend was created.
struct KernelProfile {
  std::string family;
  int64_t calls = 0;
  double seconds = 0;
};

/// Calls and seconds per kernel family, as a profiling backend sums them
/// (one slot per KernelSpec value).
class KernelFamilyTimes {
public:
  void add(schema::KernelSpec family, double seconds) {
    auto &slot = times[static_cast<size_t>(family)];
    slot.first += 1;
    slot.second += seconds;
  }
  /// The families that ran, for Backend::profile().
  std::vector<KernelProfile> profile() const;

private:
  std::vector<std::pair<int64_t, double>> times =
      std::vector<std::pair<int64_t, double>>(
          static_cast<size_t>(schema::KernelSpec::MAX) + 1, {0, 0.0});
};

/// Memory a loaded model holds, for --stats.
struct BackendMemory {
  uint64_t weightsBytes = 0;
  uint64_t kvBytesTotal = 0;
  uint64_t kvBytesPerToken = 0;
  uint64_t arenaBytes = 0;
  /// Of the KV figures above (elements only), the f32 scales of int8 caches.
  uint64_t kvScaleBytesTotal = 0;
  uint64_t kvScaleBytesPerToken = 0;
};

/// Receives logits rows: the position they predict from and `vocab` floats,
/// valid only during the call.
using LogitsCallback = std::function<void(int64_t position, const float *row)>;

class Backend {
public:
  virtual ~Backend() = default;

  virtual std::string name() const = 0;

  /// Runs `tokens` at positions start, start + 1, ... through the prefill
  /// program, in chunks of at most its max_tokens, appending their keys and
  /// values to the caches. Calls `onLogits` for every position when
  /// `allLogits`, else for the last one only.
  virtual absl::Status prefill(absl::Span<const int32_t> tokens, int64_t start,
                               bool allLogits,
                               const LogitsCallback &onLogits) = 0;

  /// Runs one token at `position` through the decode program and returns its
  /// logits (vocab floats, valid until the next call).
  virtual absl::StatusOr<const float *> decode(int32_t token,
                                               int64_t position) = 0;

  virtual BackendMemory memory() const = 0;

  /// Whether prefill computes the logits of the prompt's last position only
  /// (the artifact's prefill skips the other positions in the layers after
  /// the last cache-writing one): prefill then calls `onLogits` once even
  /// with `allLogits`.
  virtual bool prefillLogitsLastOnly() const { return false; }

  /// Per-family kernel times, when created with BackendOptions::profile.
  virtual std::vector<KernelProfile> profile() const { return {}; }
};

/// What every backend checks before a run: each token id inside the
/// vocabulary, positions start .. start + n - 1 inside the context.
absl::Status checkRunInputs(absl::Span<const int32_t> tokens, int64_t start,
                            int64_t vocab, int64_t maxContext);

/// Backend names fmc-run knows, built here or not.
std::vector<std::string> knownBackends();
/// Backends compiled into this build.
std::vector<std::string> builtBackends();

/// Creates backend `name` ("auto" picks the first built backend the artifact
/// has executables for and this machine can run) for `artifact`.
absl::StatusOr<std::unique_ptr<Backend>>
createBackend(const std::string &name, const Artifact &artifact,
              const BackendOptions &options);

/// The cpu backend (runtime/cpu).
absl::StatusOr<std::unique_ptr<Backend>>
createCpuBackend(const Artifact &artifact, const BackendOptions &options);

/// The cuda backend (runtime/cuda; built with -DFMC_CUDA=ON, the default).
absl::StatusOr<std::unique_ptr<Backend>>
createCudaBackend(const Artifact &artifact, const BackendOptions &options);

/// The metal backend (runtime/metal; Objective-C++, built on Apple platforms
/// only).
absl::StatusOr<std::unique_ptr<Backend>>
createMetalBackend(const Artifact &artifact, const BackendOptions &options);

/// The vulkan backend (runtime/vulkan; built with FMC_VULKAN).
absl::StatusOr<std::unique_ptr<Backend>>
createVulkanBackend(const Artifact &artifact, const BackendOptions &options);

} // namespace fmc

#endif // FMC_RUNTIME_BACKEND_H
