//===- MetalPlan.cpp - the metal backend's host logic ---------------------===//

#include "runtime/metal/MetalPlan.h"

#include "runtime/GpuDispatchPlan.h"

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"

namespace fmc::metal {

namespace {

absl::Status corrupt(const std::string &message) {
  return absl::DataLossError(
      absl::StrCat("corrupt artifact: metal executable: ", message));
}

} // namespace

absl::StatusOr<const schema::Executable *>
findMetalExecutable(const schema::Artifact &artifact) {
  const schema::Executable *exe = nullptr;
  if (artifact.executables())
    for (const schema::Executable *candidate : *artifact.executables())
      if (candidate->target() && candidate->target()->str() == "metal") {
        exe = candidate;
        break;
      }
  if (!exe)
    return absl::FailedPreconditionError(
        "the artifact has no metal executable; recompile with "
        "--target=metal");
  std::string format = exe->format() ? exe->format()->str() : "";
  if (format != "msl" && format != "metallib")
    return corrupt(absl::StrCat("format '", format,
                                "' is neither msl nor metallib"));
  if (!exe->data() || exe->data()->size() == 0)
    return corrupt(absl::StrCat("the ", format, " code is empty"));
  if (!exe->entry_points() || exe->entry_points()->size() == 0)
    return corrupt("no entry points");
  absl::flat_hash_set<std::string> names;
  for (uint32_t e = 0; e < exe->entry_points()->size(); ++e) {
    const schema::EntryPoint *entry = exe->entry_points()->Get(e);
    if (!entry->name() || entry->name()->size() == 0)
      return corrupt(absl::StrCat("entry point ", e, " has no name"));
    std::string name = entry->name()->str();
    if (!names.insert(name).second)
      return corrupt(absl::StrCat("entry point '", name, "' appears twice"));
  }
  return exe;
}

absl::StatusOr<DispatchPlan> planDispatches(const schema::Artifact &artifact,
                                            const schema::Executable &exe,
                                            const schema::DispatchList *list,
                                            const std::string &programName,
                                            int64_t context) {
  DispatchPlan plan;
  GpuLimits limits;
  limits.api = "Metal";
  limits.maxThreadsPerWorkgroup = kMaxThreadsPerThreadgroup;
  limits.maxWorkgroup = {1024, 1024, 1024};
  limits.maxGrid = {UINT32_MAX, UINT32_MAX, UINT32_MAX};
  limits.maxBindings = kMaxBufferArguments;
  absl::StatusOr<GpuDispatchPlan> flat =
      planGpuDispatches(artifact, exe, list, programName, limits, context);
  if (!flat.ok())
    return flat.status();
  plan.scratchBytes = flat->scratchBytes;
  for (const GpuDispatch &dispatch : flat->dispatches) {
    PlannedDispatch planned;
    planned.entry = dispatch.entry;
    planned.kernel = dispatch.kernel;
    planned.threadgroups = dispatch.grid;
    planned.threadsPerThreadgroup = dispatch.workgroup;
    planned.firstArgument = dispatch.firstBinding;
    planned.arguments = dispatch.bindings;
    plan.dispatches.push_back(planned);
  }
  for (const GpuBindingRef &binding : flat->bindings)
    plan.arguments.push_back({binding.memory, binding.index, binding.offset});
  return plan;
}

WeightsBuffer planWeightsBuffer(uintptr_t base, uint64_t bytes,
                                uint64_t pageSize) {
  WeightsBuffer result;
  // Metal buffers cannot be empty.
  result.length = bytes == 0 ? 16 : bytes;
  if (bytes == 0 || pageSize == 0 || base % pageSize != 0)
    return result;
  result.noCopy = true;
  result.length = (bytes + pageSize - 1) / pageSize * pageSize;
  return result;
}

} // namespace fmc::metal
