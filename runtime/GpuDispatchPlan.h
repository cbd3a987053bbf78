//===- GpuDispatchPlan.h - a GPU dispatch list flattened for a device -----===//
//
// The part of running a GPU executable every GPU backend shares: its
// dispatch list as flat arrays (each dispatch's workgroup size from its
// entry point, each binding as memory + cache index + byte offset, weights
// relative to the weight segment), checked against what the device can
// launch. The artifact itself was validated when it was opened
// (ArtifactValidation.cpp: every index, range and alignment); what is left
// to check here is the device's limits, and that every binding into a KV
// cache starts inside what the device allocates for it: a linear cache of a
// device opened with a shorter context (BackendOptions::context) holds only
// that many positions, the first slots of the kernels' layout.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_RUNTIME_GPUDISPATCHPLAN_H
#define FMC_RUNTIME_GPUDISPATCHPLAN_H

#include "runtime/schema/fmc_generated.h"

#include "absl/status/statusor.h"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace fmc {

/// What one kind of device launches.
struct GpuLimits {
  /// "CUDA", "Metal": for messages.
  std::string api;
  uint64_t maxThreadsPerWorkgroup = 1024;
  std::array<uint32_t, 3> maxWorkgroup = {1024, 1024, 64};
  std::array<uint32_t, 3> maxGrid = {2147483647u, 65535, 65535};
  uint32_t maxBindings = UINT32_MAX;
  /// Whether the backend runs collective dispatches (all-reduces across the
  /// ranks of a split model): the cuda backend, through NCCL.
  bool collectives = false;
};

/// Where one binding points: `offset` bytes into memory `memory` (Weights:
/// into the weight segment, the tensor's offset plus the binding's;
/// Caches: into KV cache `index`), and the `bytes` a device binds there
/// (the binding's, cut for a cache to the end of its allocation).
struct GpuBindingRef {
  schema::BindingMemory memory = schema::BindingMemory::Arena;
  uint32_t index = 0;
  uint64_t offset = 0;
  uint64_t bytes = 0;
};

struct GpuDispatch {
  /// An all-reduce across the ranks (Dispatch.collective): no entry point;
  /// its bindings are the inputs, then the outputs, and `scale` is the
  /// AllReduceSpec's.
  bool collective = false;
  float scale = 1.0f;
  uint32_t entry = 0;
  uint32_t kernel = 0; ///< The program kernel it implements.
  std::array<uint32_t, 3> grid = {1, 1, 1};
  std::array<uint32_t, 3> workgroup = {1, 1, 1};
  uint32_t firstBinding = 0; ///< Into GpuDispatchPlan::bindings.
  uint32_t bindings = 0;
};

struct GpuDispatchPlan {
  std::vector<GpuDispatch> dispatches;
  std::vector<GpuBindingRef> bindings;
  uint64_t scratchBytes = 0;
};

/// A workgroup size or grid (1 to 3 entries) padded with ones; false when
/// absent, empty, longer or holding a zero.
bool gpuDims(const flatbuffers::Vector<uint32_t> *v,
             std::array<uint32_t, 3> &out);
/// "64x1x1".
std::string gpuDimsText(const std::array<uint32_t, 3> &d);

/// Flattens `list` (the dispatches of program `programName`) of executable
/// `exe` for a device whose linear KV caches hold `context` positions
/// (BackendOptions::context; 0: the compiled maximum, cacheBytes) and checks
/// it against `limits`. Errors are DataLoss "corrupt artifact: <target>
/// executable: ...", naming the entry point or the dispatch, or
/// FailedPrecondition for a cache binding that starts past the context.
absl::StatusOr<GpuDispatchPlan>
planGpuDispatches(const schema::Artifact &artifact,
                  const schema::Executable &exe,
                  const schema::DispatchList *list,
                  const std::string &programName, const GpuLimits &limits,
                  int64_t context = 0);

} // namespace fmc

#endif // FMC_RUNTIME_GPUDISPATCHPLAN_H
