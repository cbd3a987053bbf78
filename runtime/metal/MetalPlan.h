//===- MetalPlan.h - the metal backend's host logic -----------------------===//
//
// Everything the metal device decides without calling Metal, in plain C++
// so it builds and is unit-tested on every platform (MetalDevice.mm builds
// on Apple platforms only): which executable it runs, each program's
// dispatch list checked against the artifact and Metal's limits and
// flattened into (buffer, offset) arguments per dispatch, and whether the
// weight segment can be wrapped by a Metal buffer without a copy. Which
// logits rows a run reads is the session's (runtime/Session.h), as for
// every backend.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_RUNTIME_METAL_METALPLAN_H
#define FMC_RUNTIME_METAL_METALPLAN_H

#include "runtime/schema/fmc_generated.h"

#include "absl/status/statusor.h"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace fmc::metal {

/// Buffer argument indices a Metal kernel has ([[buffer(0)]] to
/// [[buffer(30)]]).
inline constexpr uint32_t kMaxBufferArguments = 31;
/// Threads per threadgroup every Metal device runs (Apple GPUs, Mac2).
inline constexpr uint64_t kMaxThreadsPerThreadgroup = 1024;

/// One buffer argument: `offset` bytes into the MTLBuffer of `memory`
/// (for Weights the whole weight segment, so tensor offset plus binding
/// offset; for Caches KV cache `cache`'s buffer).
struct BufferArgument {
  schema::BindingMemory memory = schema::BindingMemory::Arena;
  uint32_t cache = 0;
  uint64_t offset = 0;
};

/// One dispatchThreadgroups:threadsPerThreadgroup: call.
struct PlannedDispatch {
  uint32_t entry = 0;
  std::array<uint32_t, 3> threadgroups = {1, 1, 1};
  std::array<uint32_t, 3> threadsPerThreadgroup = {1, 1, 1};
  uint32_t firstArgument = 0; ///< Into DispatchPlan::arguments.
  uint32_t arguments = 0;     ///< Buffer indices 0 .. arguments - 1.
  uint32_t kernel = 0;        ///< The program kernel it implements.
};

/// A program's dispatch list, checked and flattened.
struct DispatchPlan {
  std::vector<PlannedDispatch> dispatches;
  std::vector<BufferArgument> arguments;
  uint64_t scratchBytes = 0;
};

/// The artifact's first "metal" executable, checked: format "msl" or
/// "metallib", code present, entry points named (uniquely), with workgroup
/// sizes Metal runs and at most kMaxBufferArguments bindings. Errors name
/// the executable's field ("corrupt artifact: metal executable: ...").
absl::StatusOr<const schema::Executable *>
findMetalExecutable(const schema::Artifact &artifact);

/// Checks `list` (the dispatches of program `programName`) of the checked
/// executable `exe` against `artifact` and Metal's limits: entry indices,
/// grids, binding counts, the tensors bindings name, cache bindings inside
/// linear caches of `context` positions (0: compiled; planGpuDispatches)
/// (ArtifactValidation.cpp has checked every binding's range and
/// alignment). Errors name the program, the dispatch and the binding.
absl::StatusOr<DispatchPlan> planDispatches(const schema::Artifact &artifact,
                                            const schema::Executable &exe,
                                            const schema::DispatchList *list,
                                            const std::string &programName,
                                            int64_t context = 0);

/// How the weight segment (at `base`, `bytes` long) becomes a Metal buffer:
/// wrapped without a copy (newBufferWithBytesNoCopy needs a page-aligned
/// address and a length of whole pages; the loaded segment's memory extends
/// to its last page) or copied.
struct WeightsBuffer {
  bool noCopy = false;
  uint64_t length = 0; ///< Bytes the Metal buffer spans.
};
WeightsBuffer planWeightsBuffer(uintptr_t base, uint64_t bytes,
                                uint64_t pageSize);

} // namespace fmc::metal

#endif // FMC_RUNTIME_METAL_METALPLAN_H
