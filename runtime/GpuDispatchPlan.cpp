//===- GpuDispatchPlan.cpp - a GPU dispatch list flattened for a device ---===//

#include "runtime/GpuDispatchPlan.h"

#include "runtime/Backend.h"

#include "absl/strings/str_cat.h"

#include <algorithm>

namespace fmc {

bool gpuDims(const flatbuffers::Vector<uint32_t> *v,
             std::array<uint32_t, 3> &out) {
  if (!v || v->size() == 0 || v->size() > 3)
    return false;
  out = {1, 1, 1};
  for (uint32_t i = 0; i < v->size(); ++i) {
    if (v->Get(i) == 0)
      return false;
    out[i] = v->Get(i);
  }
  return true;
}

std::string gpuDimsText(const std::array<uint32_t, 3> &d) {
  return absl::StrCat(d[0], "x", d[1], "x", d[2]);
}

namespace {

/// A collective dispatch: the all-reduce kernel it runs (validated at
/// open; its scale read here) and whether this backend runs collectives.
absl::StatusOr<GpuDispatch> planCollective(const schema::Artifact &artifact,
                                           const schema::Dispatch &dispatch,
                                           const std::string &programName,
                                           const std::string &where,
                                           const GpuLimits &limits) {
  if (!limits.collectives)
    return absl::FailedPreconditionError(absl::StrCat(
        "the ", limits.api, " backend has no collective engine, and ", where,
        " is an all-reduce across the ranks of a split model: run the parts "
        "on cuda (NCCL) or cpu (MPI) ranks"));
  const schema::Program *program =
      programName == "decode" ? artifact.decode() : artifact.prefill();
  const auto *kernels = program ? program->kernels() : nullptr;
  const schema::Kernel *kernel =
      kernels && dispatch.kernel() < kernels->size()
          ? kernels->Get(dispatch.kernel())
          : nullptr;
  if (!kernel || kernel->spec_type() != schema::KernelSpec::AllReduceSpec)
    return absl::DataLossError(absl::StrCat(
        "corrupt artifact: ", where, " is collective but its kernel is no "
        "all-reduce"));
  GpuDispatch planned;
  planned.collective = true;
  planned.kernel = dispatch.kernel();
  planned.scale = kernel->spec_as_AllReduceSpec()->scale();
  return planned;
}

} // namespace

absl::StatusOr<GpuDispatchPlan>
planGpuDispatches(const schema::Artifact &artifact,
                  const schema::Executable &exe,
                  const schema::DispatchList *list,
                  const std::string &programName, const GpuLimits &limits,
                  int64_t context) {
  std::string target = exe.target() ? exe.target()->str() : "";
  auto corrupt = [&](const std::string &message) {
    return absl::DataLossError(absl::StrCat(
        "corrupt artifact: ", target, " executable: ", message));
  };
  if (!list || !list->dispatches())
    return corrupt(absl::StrCat("no ", programName, " dispatch list"));

  // Entry points: validated to have names and workgroup sizes; here, what
  // the device runs.
  const auto *entries = exe.entry_points();
  uint32_t entryCount = entries ? entries->size() : 0;
  std::vector<std::array<uint32_t, 3>> workgroups(entryCount);
  for (uint32_t e = 0; e < entryCount; ++e) {
    const schema::EntryPoint *entry = entries->Get(e);
    std::string name = entry->name() ? entry->name()->str() : "";
    std::array<uint32_t, 3> &size = workgroups[e];
    if (!gpuDims(entry->workgroup_size(), size))
      return corrupt(
          absl::StrCat("entry point '", name, "' has no valid workgroup size"));
    uint64_t threads = uint64_t{size[0]} * size[1] * size[2];
    if (threads > limits.maxThreadsPerWorkgroup ||
        size[0] > limits.maxWorkgroup[0] || size[1] > limits.maxWorkgroup[1] ||
        size[2] > limits.maxWorkgroup[2])
      return corrupt(absl::StrCat("entry point '", name, "' has workgroup size ",
                                  gpuDimsText(size), ", more than a ", limits.api,
                                  " workgroup holds"));
    if (entry->bindings() > limits.maxBindings)
      return corrupt(absl::StrCat("entry point '", name, "' takes ",
                                  entry->bindings(), " buffers; a ", limits.api,
                                  " kernel takes at most ",
                                  limits.maxBindings));
  }

  const auto *tensors = artifact.tensors();
  const auto *caches = artifact.kv_caches();
  GpuDispatchPlan plan;
  plan.scratchBytes = list->scratch_bytes();
  for (uint32_t d = 0; d < list->dispatches()->size(); ++d) {
    const schema::Dispatch *dispatch = list->dispatches()->Get(d);
    std::string where = absl::StrCat(programName, " dispatch ", d);
    // Validated at open; checked again because a wrong index here would
    // read out of bounds.
    uint32_t count = dispatch->bindings() ? dispatch->bindings()->size() : 0;
    if (dispatch->collective()) {
      absl::StatusOr<GpuDispatch> planned =
          planCollective(artifact, *dispatch, programName, where, limits);
      if (!planned.ok())
        return planned.status();
      planned->firstBinding = static_cast<uint32_t>(plan.bindings.size());
      planned->bindings = count;
      for (uint32_t b = 0; b < count; ++b) {
        const schema::Binding *binding = dispatch->bindings()->Get(b);
        plan.bindings.push_back({binding->memory(), binding->index(),
                                 binding->offset(), binding->bytes()});
      }
      plan.dispatches.push_back(*planned);
      continue;
    }
    if (dispatch->entry() >= entryCount ||
        count != entries->Get(dispatch->entry())->bindings())
      return corrupt(
          absl::StrCat(where, " does not match its entry point"));
    GpuDispatch planned;
    planned.entry = dispatch->entry();
    planned.kernel = dispatch->kernel();
    planned.workgroup = workgroups[dispatch->entry()];
    if (!gpuDims(dispatch->grid(), planned.grid))
      return corrupt(absl::StrCat(where, " has no valid grid"));
    for (int i = 0; i < 3; ++i)
      if (planned.grid[i] > limits.maxGrid[i])
        return corrupt(absl::StrCat(where, " has grid ",
                                    gpuDimsText(planned.grid), ", more than a ",
                                    limits.api, " launch allows"));
    planned.firstBinding = static_cast<uint32_t>(plan.bindings.size());
    planned.bindings = count;
    for (uint32_t b = 0; b < count; ++b) {
      const schema::Binding *binding = dispatch->bindings()->Get(b);
      GpuBindingRef ref;
      ref.memory = binding->memory();
      ref.index = binding->index();
      ref.offset = binding->offset();
      ref.bytes = binding->bytes();
      if (ref.memory == schema::BindingMemory::Weights) {
        if (!tensors || ref.index >= tensors->size())
          return corrupt(absl::StrCat(where, " binding ", b, " names tensor ",
                                      ref.index, " of ",
                                      tensors ? tensors->size() : 0));
        ref.offset += tensors->Get(ref.index)->offset();
      } else if (ref.memory == schema::BindingMemory::Caches) {
        if (!caches || ref.index >= caches->size())
          return corrupt(absl::StrCat(where, " binding ", b, " names KV cache ",
                                      ref.index, " of ",
                                      caches ? caches->size() : 0));
        // The kernels address a cache slot-major, so one of fewer positions
        // is a prefix: a binding is cut to it (the kernels read no slot
        // past the run's positions), and one starting past it has nothing
        // to bind.
        const schema::KVCache *cache = caches->Get(ref.index);
        uint64_t held = cacheBytes(*cache, context);
        if (ref.offset >= held)
          return absl::FailedPreconditionError(absl::StrCat(
              target, " executable: ", where, " binding ", b,
              " starts at byte ", ref.offset, " of KV cache '",
              cache->name() ? cache->name()->str() : "", "', past the ", held,
              " bytes it holds in a context of ",
              cacheCapacity(*cache, context), " positions"));
        ref.bytes = std::min(ref.bytes, held - ref.offset);
      }
      plan.bindings.push_back(ref);
    }
    plan.dispatches.push_back(planned);
  }
  return plan;
}

} // namespace fmc
