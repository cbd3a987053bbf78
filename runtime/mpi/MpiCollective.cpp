//===- MpiCollective.cpp - CPU ranks under mpirun -------------------------===//

#include "runtime/mpi/MpiCollective.h"

#include "runtime/mpi/MpiPlugin.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include <cstdlib>
#include <dlfcn.h>
#include <limits>
#include <string>
#include <unistd.h>
#include <vector>

namespace fmc {

namespace {

constexpr char kPluginName[] = "libfmc-mpi.so";

/// Where libfmc-mpi.so may be, in the order tried.
std::vector<std::string> pluginCandidates() {
  if (const char *path = std::getenv("FMC_MPI_PLUGIN"); path && *path)
    return {path};
  std::vector<std::string> candidates;
  char exe[4096];
  ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) {
    std::string dir(exe, static_cast<size_t>(n));
    dir = dir.substr(0, dir.find_last_of('/'));
    candidates.push_back(absl::StrCat(dir, "/../lib/", kPluginName));
    candidates.push_back(absl::StrCat(dir, "/", kPluginName));
  }
  candidates.push_back(kPluginName); // The loader's search path.
  return candidates;
}

absl::Status pluginError(const char *error) {
  return absl::UnavailableError(error);
}

} // namespace

bool launchedByMpi() {
  for (const char *name : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK"})
    if (std::getenv(name))
      return true;
  return false;
}

absl::StatusOr<std::unique_ptr<MpiCollective>>
MpiCollective::open(int64_t timeoutMs) {
  std::vector<std::string> tried;
  void *library = nullptr;
  for (const std::string &path : pluginCandidates()) {
    // Global: Open MPI's own components, which it dlopens in MPI_Init,
    // resolve symbols of the libmpi this plugin brought in.
    library = ::dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL);
    if (library)
      break;
    tried.push_back(::dlerror());
  }
  if (!library)
    return absl::UnavailableError(absl::StrCat(
        "track-parallel runs need MPI through ", kPluginName,
        " (built with fmc when Open MPI is installed; FMC_MPI_PLUGIN names "
        "another): ",
        absl::StrJoin(tried, "; ")));
  using Entry = const FmcMpiPlugin *(*)();
  auto entry = reinterpret_cast<Entry>(::dlsym(library, "fmc_mpi_plugin"));
  const FmcMpiPlugin *plugin = entry ? entry() : nullptr;
  if (!plugin || plugin->version != FMC_MPI_PLUGIN_VERSION) {
    ::dlclose(library);
    return absl::FailedPreconditionError(absl::StrCat(
        kPluginName, " is not a plugin of this fmc (",
        entry ? "plugin version differs" : "no fmc_mpi_plugin symbol", ")"));
  }
  std::unique_ptr<MpiCollective> group(
      new MpiCollective(plugin, library, timeoutMs));
  char error[512] = "";
  if (plugin->init(&group->rank_, &group->size_, error, sizeof error))
    return pluginError(error);
  return group;
}

int MpiCollective::localRank() const {
  for (const char *name :
       {"OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "PMIX_LOCAL_RANK"})
    if (const char *value = std::getenv(name); value && *value)
      return std::atoi(value);
  return rank_;
}

MpiCollective::~MpiCollective() {
  plugin->finalize();
  // The library stays loaded: MPI may have started threads inside it.
}

absl::Status MpiCollective::allReduceSum(const float *in, float *out,
                                         size_t count) {
  char error[512] = "";
  if (plugin->all_reduce_sum(in, out, count, timeout, error, sizeof error))
    return absl::DeadlineExceededError(error);
  this->count(count);
  return absl::OkStatus();
}

absl::Status MpiCollective::broadcast(void *data, size_t bytes) {
  char error[512] = "";
  if (plugin->broadcast(data, bytes, timeout, error, sizeof error))
    return absl::DeadlineExceededError(error);
  return absl::OkStatus();
}

absl::Status MpiCollective::agree(bool ok, uint64_t modelId) {
  constexpr int64_t kReady = std::numeric_limits<int64_t>::max();
  // [first rank not ready, model id] as minima, then the same as maxima.
  int64_t values[4] = {ok ? kReady : rank_, static_cast<int64_t>(modelId)};
  char error[512] = "";
  if (plugin->all_min_max(values, 2, timeout, error, sizeof error))
    return absl::DeadlineExceededError(error);
  if (values[0] != kReady)
    return absl::FailedPreconditionError(
        absl::StrCat("rank ", values[0], " could not start (its message says "
                     "why)"));
  if (values[1] != values[3])
    return absl::FailedPreconditionError(
        "the ranks hold parts of different compilations of the model "
        "(their track_partition model ids differ): compile once with "
        "--track-ranks and run all of that compilation's parts");
  return absl::OkStatus();
}

void MpiCollective::abortJob(int exitCode) {
  plugin->abort_job(exitCode);
  std::_Exit(exitCode); // MPI_Abort does not return; in case it does.
}

} // namespace fmc
