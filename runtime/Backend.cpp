//===- Backend.cpp - the backend registry ---------------------------------===//

#include "runtime/Backend.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include <algorithm>

namespace fmc {

namespace {

struct Entry {
  const char *name;
  absl::StatusOr<std::unique_ptr<Backend>> (*create)(const Artifact &,
                                                     const BackendOptions &);
};

/// Built backends in the order "auto" tries them: GPUs first, cpu last.
const std::vector<Entry> &registry() {
  static const std::vector<Entry> entries = {
#ifdef FMC_HAVE_CUDA
      {"cuda", &createCudaBackend},
#endif
#ifdef __APPLE__
      {"metal", &createMetalBackend},
#endif
#ifdef FMC_HAVE_VULKAN
      {"vulkan", &createVulkanBackend},
#endif
      {"cpu", &createCpuBackend},
  };
  return entries;
}

} // namespace

std::vector<KernelProfile> KernelFamilyTimes::profile() const {
  std::vector<KernelProfile> result;
  for (size_t i = 0; i < times.size(); ++i)
    if (times[i].first)
      result.push_back(
          {schema::EnumNameKernelSpec(static_cast<schema::KernelSpec>(i)),
           times[i].first, times[i].second});
  return result;
}

absl::Status checkRunInputs(absl::Span<const int32_t> tokens, int64_t start,
                            int64_t vocab, int64_t maxContext) {
  for (int32_t token : tokens)
    if (token < 0 || token >= vocab)
      return absl::InvalidArgumentError(absl::StrCat(
          "token id ", token, " is outside the vocabulary of ", vocab));
  int64_t end = start + static_cast<int64_t>(tokens.size());
  if (start < 0 || end > maxContext)
    return absl::OutOfRangeError(
        absl::StrCat("positions ", start, " to ", end - 1,
                     " exceed the model's context of ", maxContext));
  return absl::OkStatus();
}

std::vector<std::string> knownBackends() {
  return {"cpu", "cuda", "vulkan", "metal"};
}

std::vector<std::string> builtBackends() {
  std::vector<std::string> names;
  for (const Entry &e : registry())
    names.push_back(e.name);
  return names;
}

absl::StatusOr<std::unique_ptr<Backend>>
createBackend(const std::string &name, const Artifact &artifact,
              const BackendOptions &options) {
  const std::vector<Entry> &entries = registry();
  if (name == "auto") {
    BackendOptions autoOptions = options;
    autoOptions.autoSelected = true;
    // Why each backend that was tried could not run it.
    std::string reasons;
    for (const Entry &e : entries) {
      if (!artifact.hasTarget(e.name))
        continue;
      absl::StatusOr<std::unique_ptr<Backend>> backend =
          e.create(artifact, autoOptions);
      if (backend.ok() || std::string(e.name) == "cpu")
        return backend;
      absl::StrAppend(&reasons, "; ", e.name, ": ",
                      backend.status().message());
    }
    return absl::NotFoundError(absl::StrCat(
        "no backend of this build (", absl::StrJoin(builtBackends(), ", "),
        ") runs an artifact compiled for ",
        absl::StrJoin(artifact.targets(), ", "), reasons));
  }
  auto it = std::find_if(entries.begin(), entries.end(),
                         [&](const Entry &e) { return name == e.name; });
  if (it == entries.end()) {
    std::vector<std::string> known = knownBackends();
    if (std::find(known.begin(), known.end(), name) == known.end())
      return absl::InvalidArgumentError(
          absl::StrCat("unknown backend '", name, "' (known: auto, ",
                       absl::StrJoin(known, ", "), ")"));
    return absl::UnavailableError(absl::StrCat(
        "backend '", name, "' is not present in this build of fmc-run (built: ",
        absl::StrJoin(builtBackends(), ", "), ")"));
  }
  if (!artifact.hasTarget(name))
    return absl::FailedPreconditionError(absl::StrCat(
        "the artifact has no executables for backend '", name,
        "' (compiled for: ", absl::StrJoin(artifact.targets(), ", "),
        "); recompile with --target=", name));
  return it->create(artifact, options);
}

} // namespace fmc
