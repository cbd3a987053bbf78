//===- Backend.cpp - the backend registry ---------------------------------===//

#include "runtime/Backend.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include <algorithm>

namespace fmc {

namespace {

struct Entry {
  const char *name;
  absl::StatusOr<std::unique_ptr<Device>> (*create)(const Artifact &,
                                                    const BackendOptions &);
  absl::Status (*probe)();
};

absl::Status cpuIsAlwaysThere() { return absl::OkStatus(); }

/// Built backends in the order "auto" tries them: GPUs first, cpu last.
const std::vector<Entry> &registry() {
  static const std::vector<Entry> entries = {
#ifdef FMC_HAVE_CUDA
      {"cuda", &createCudaDevice, &probeCudaDevice},
#endif
#ifdef __APPLE__
      {"metal", &createMetalDevice, &probeMetalDevice},
#endif
#ifdef FMC_HAVE_VULKAN
      {"vulkan", &createVulkanDevice, &probeVulkanDevice},
#endif
      {"cpu", &createCpuDevice, &cpuIsAlwaysThere},
  };
  return entries;
}

} // namespace

std::vector<std::string> knownBackends() {
  return {"cpu", "cuda", "vulkan", "metal"};
}

std::vector<std::string> builtBackends() {
  std::vector<std::string> names;
  for (const Entry &e : registry())
    names.push_back(e.name);
  return names;
}

absl::Status checkBackendName(const std::string &name) {
  if (name == "auto")
    return absl::OkStatus();
  const std::vector<Entry> &entries = registry();
  if (std::any_of(entries.begin(), entries.end(),
                  [&](const Entry &e) { return name == e.name; }))
    return absl::OkStatus();
  std::vector<std::string> known = knownBackends();
  if (std::find(known.begin(), known.end(), name) == known.end())
    return absl::InvalidArgumentError(
        absl::StrCat("unknown backend '", name, "' (known: auto, ",
                     absl::StrJoin(known, ", "), ")"));
  return absl::UnavailableError(absl::StrCat(
      "backend '", name, "' is not present in this build of fmc-run (built: ",
      absl::StrJoin(builtBackends(), ", "), ")"));
}

absl::Status probeBackend(const std::string &name) {
  if (absl::Status s = checkBackendName(name); !s.ok())
    return s;
  for (const Entry &e : registry())
    if (name == e.name)
      return e.probe();
  return absl::InvalidArgumentError("probeBackend needs a backend, not auto");
}

std::string bestBackendHere() {
  for (const Entry &e : registry())
    if (e.probe().ok())
      return e.name;
  return "cpu";
}

absl::Status checkTrackPartition(const Artifact &artifact,
                                 const BackendOptions &options) {
  const schema::TrackPartition *part = artifact.root().track_partition();
  Collective *group = options.collective;
  if (!part) {
    if (group && group->size() > 1)
      return absl::FailedPreconditionError(absl::StrCat(
          "the artifact is a whole model, not a part of a split one, but ",
          group->size(),
          " processes run it: compile it with fmc-compile --track-ranks=",
          group->size(), " (or --tensor-ranks=", group->size(),
          ") or run it without mpirun"));
    return absl::OkStatus();
  }
  if (!group)
    return absl::FailedPreconditionError(absl::StrCat(
        "this artifact is rank ", part->rank(), "'s part of a model split "
        "over ", part->ranks(),
        " processes (fmc-compile ",
        part->kind() == schema::PartitionKind::Tensor ? "--tensor-ranks"
                                                      : "--track-ranks",
        "); run the parts together: "
        "mpirun -np ", part->ranks(), " fmc-run MODEL.fmc"));
  if (group->size() != part->ranks())
    return absl::FailedPreconditionError(
        absl::StrCat("the model is split over ", part->ranks(),
                     " processes, but ", group->size(),
                     " run it: use mpirun -np ", part->ranks()));
  if (group->rank() != part->rank())
    return absl::FailedPreconditionError(
        absl::StrCat("process ", group->rank(), " was given rank ",
                     part->rank(), "'s part of the model"));
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Device>>
createDevice(const std::string &name, const Artifact &artifact,
             const BackendOptions &options, std::string *why) {
  if (absl::Status s = checkContextOption(artifact, options); !s.ok())
    return s;
  if (absl::Status s = checkTrackPartition(artifact, options); !s.ok())
    return s;
  const std::vector<Entry> &entries = registry();
  if (name == "auto") {
    BackendOptions autoOptions = options;
    autoOptions.autoSelected = true;
    // Why each backend that was tried could not run it.
    std::string reasons;
    // Why each backend before the chosen one was passed over.
    std::vector<std::string> passedOver;
    for (const Entry &e : entries) {
      if (!artifact.hasTarget(e.name)) {
        passedOver.push_back(absl::StrCat(e.name, ": not compiled for"));
        continue;
      }
      absl::StatusOr<std::unique_ptr<Device>> device =
          e.create(artifact, autoOptions);
      if (device.ok() || std::string(e.name) == "cpu") {
        if (why)
          *why = passedOver.empty()
                     ? "auto: the first backend of this build"
                     : absl::StrCat("auto; ", absl::StrJoin(passedOver, "; "));
        return device;
      }
      absl::StrAppend(&reasons, "; ", e.name, ": ",
                      device.status().message());
      passedOver.push_back(
          absl::StrCat(e.name, ": ", device.status().message()));
    }
    return absl::NotFoundError(absl::StrCat(
        "no backend of this build (", absl::StrJoin(builtBackends(), ", "),
        ") runs an artifact compiled for ",
        absl::StrJoin(artifact.targets(), ", "), reasons));
  }
  if (absl::Status s = checkBackendName(name); !s.ok())
    return s;
  auto it = std::find_if(entries.begin(), entries.end(),
                         [&](const Entry &e) { return name == e.name; });
  if (!artifact.hasTarget(name))
    return absl::FailedPreconditionError(absl::StrCat(
        "the artifact has no executables for backend '", name,
        "' (compiled for: ", absl::StrJoin(artifact.targets(), ", "),
        "); recompile with ",
        name == "cpu" ? std::string("fmc-compile without --no-cpu")
                      : absl::StrCat("--target=", name)));
  if (why)
    *why = "--backend";
  return it->create(artifact, options);
}

absl::Status checkContextOption(const Artifact &artifact,
                                const BackendOptions &options) {
  int64_t compiled = artifact.root().config()->max_context();
  if (options.context < 0 || options.context > compiled)
    return absl::InvalidArgumentError(absl::StrCat(
        "a context of ", options.context, " positions is outside the ",
        compiled, " this artifact was compiled for (1 to ", compiled,
        "; recompile with fmc-compile --context N for more)"));
  return absl::OkStatus();
}

int64_t cacheCapacity(const schema::KVCache &cache, int64_t context) {
  if (cache.kind() == schema::CacheKind::Ring || context <= 0)
    return cache.capacity();
  return std::min(cache.capacity(), context);
}

uint64_t cacheBytes(const schema::KVCache &cache, int64_t context) {
  // Validation checked that bytes is a whole number of positions.
  return cache.bytes() / static_cast<uint64_t>(cache.capacity()) *
         static_cast<uint64_t>(cacheCapacity(cache, context));
}

} // namespace fmc
