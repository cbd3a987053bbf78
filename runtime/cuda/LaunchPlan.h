//===- LaunchPlan.h - a dispatch list checked and ready to launch ---------===//
//
// The host half of the cuda backend, with no driver call in it (unit-tested
// without a GPU): a program's DispatchList checked against the artifact
// (entry points, grid and workgroup sizes, every binding inside the memory
// it names, 16-byte offsets), then, once device memory exists, turned into
// the kernel parameter values (one device pointer per binding, in entry
// point order) of every launch.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_RUNTIME_CUDA_LAUNCHPLAN_H
#define FMC_RUNTIME_CUDA_LAUNCHPLAN_H

#include "runtime/schema/fmc_generated.h"

#include "absl/status/statusor.h"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace fmc::cuda {

/// Where one kernel parameter points: `offset` bytes into memory `memory`
/// (for Weights, already relative to the weight segment: tensor offset plus
/// binding offset).
struct ParamRef {
  schema::BindingMemory memory = schema::BindingMemory::Arena;
  uint32_t index = 0; ///< KV cache index for Caches.
  uint64_t offset = 0;
  uint64_t bytes = 0; ///< What the binding covers.
};

struct Launch {
  /// An all-reduce across the ranks, handed to the run's collective on the
  /// stream: params are its inputs, then its outputs (arena); no entry.
  bool collective = false;
  float scale = 1.0f;
  uint32_t entry = 0;
  std::array<uint32_t, 3> grid = {1, 1, 1};
  std::array<uint32_t, 3> block = {1, 1, 1};
  uint32_t firstParam = 0; ///< Into LaunchPlan::params.
  uint32_t params = 0;
  uint32_t kernel = 0; ///< The program kernel it implements.
};

struct LaunchPlan {
  std::vector<Launch> launches;
  std::vector<ParamRef> params;
  uint64_t scratchBytes = 0;
  /// Whether any launch is collective.
  bool hasCollectives() const;
};

/// Checks `list` (the dispatches of `program`, named `programName` in
/// messages) of executable `exe` against `artifact` and flattens it, for a
/// device whose linear KV caches hold `context` positions (0: compiled;
/// planGpuDispatches). Errors are DataLoss "corrupt artifact: cuda
/// executable: ..." naming the program, the dispatch and the binding.
absl::StatusOr<LaunchPlan> planLaunches(const schema::Artifact &artifact,
                                        const schema::Executable &exe,
                                        const schema::Program &program,
                                        const schema::DispatchList *list,
                                        const std::string &programName,
                                        int64_t context = 0);

/// Checks PTX text against the executable's entry points before the driver
/// sees it: every entry point is a `.entry` of the PTX taking exactly its
/// bindings, each a 64-bit pointer parameter (the one-pointer-per-binding
/// calling convention of fmc.fbs), and a `.reqntid` / `.maxntid` the PTX
/// declares admits the workgroup size. A mismatch would otherwise show
/// only as a failed or wrong launch on a GPU.
absl::Status checkPtxEntryPoints(const std::string &ptx,
                                 const schema::Executable &exe);

/// The device addresses bindings resolve against.
struct DeviceBases {
  uint64_t arena = 0;
  uint64_t weights = 0; ///< The weight segment (tensor offsets apply).
  uint64_t scratch = 0;
  uint64_t run = 0; ///< This program's 16-byte run record.
  std::vector<uint64_t> caches;
};

/// Every launch's kernel parameters, concatenated in launch order
/// (Launch::firstParam indexes it).
std::vector<uint64_t> resolveParams(const LaunchPlan &plan,
                                    const DeviceBases &bases);

/// Whether the backend records `plan` once as a CUDA graph and replays it
/// (the default), rather than launching every dispatch each run: not when
/// profiling (each launch is timed between events), nor when the user turned
/// graphs off (FMC_CUDA_GRAPHS=0, `graphsEnv`, for debugging a kernel), nor
/// when it has collectives (their counts follow each run's rows, and the
/// wait for them must be able to give up).
bool useGraph(const LaunchPlan &plan, bool profiling, const char *graphsEnv);

/// A cuda executable's code as the loader sees it.
struct CodeImage {
  std::string format; ///< "ptx" or "cubin".
  std::string arch;   ///< "sm_90"; empty when not stated.
};

/// The order to try `images` in on a device of compute capability
/// major.minor: a cubin built for it (or for an earlier minor of its major:
/// cubins run there), the newest PTX not newer than the device (the driver
/// JIT-compiles it) or PTX of no stated architecture, then the rest in
/// artifact order (their load errors explain why nothing ran).
std::vector<size_t> loadOrder(const std::vector<CodeImage> &images, int major,
                              int minor);

/// Whether the backend records a program's graph with programmatic
/// dependent launch (every launch after the first may start before its
/// predecessor ends, up to the kernel's griddepcontrol.wait): the loaded
/// executable says its kernels wait (Executable.programmatic_dependent_launch),
/// the device has griddepcontrol (compute capability 9.0 or later) and the
/// driver has cuLaunchKernelEx. Anything else launches as before.
bool useProgrammaticLaunch(bool executableWaits, int deviceMajor,
                           bool driverHasLaunchKernelEx);

} // namespace fmc::cuda

#endif // FMC_RUNTIME_CUDA_LAUNCHPLAN_H
