//===- NcclLibrary.cpp - dlopen libnccl and resolve its entry points ------===//

#include "runtime/nccl/NcclLibrary.h"

#include "absl/strings/str_cat.h"

#include <cstdlib>
#include <cstring>
#include <dlfcn.h>

namespace fmc::nccl {

std::string libraryPath() {
  const char *path = std::getenv("FMC_NCCL_LIBRARY");
  return path && *path ? path : "libnccl.so.2";
}

std::string Library::describe(const char *call, ncclResult_t result) const {
  const char *text = ncclGetErrorString ? ncclGetErrorString(result) : nullptr;
  return absl::StrCat(call, ": ", text && *text ? text : "NCCL error", " (",
                      result, ")");
}

namespace {

template <typename Fn>
bool resolve(void *library, Fn &slot, const char *name, std::string &missing) {
  slot = reinterpret_cast<Fn>(dlsym(library, name));
  if (!slot && missing.empty())
    missing = name;
  return slot != nullptr;
}

} // namespace

absl::StatusOr<std::shared_ptr<const Library>>
loadLibrary(const std::string &path) {
  // Global: NCCL's network plugins, which it dlopens, may resolve symbols
  // of the library that loaded them.
  void *handle = dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL);
  if (!handle) {
    const char *why = dlerror();
    return absl::UnavailableError(absl::StrCat(
        "CUDA ranks need NCCL: cannot load ", path, " (",
        why ? why : "not found",
        "; install libnccl2 or name the library with FMC_NCCL_LIBRARY)"));
  }
  auto lib = std::make_shared<Library>();
  lib->path = path;
  std::string missing;
  resolve(handle, lib->ncclGetVersion, "ncclGetVersion", missing);
  resolve(handle, lib->ncclGetErrorString, "ncclGetErrorString", missing);
  resolve(handle, lib->ncclGetUniqueId, "ncclGetUniqueId", missing);
  resolve(handle, lib->ncclCommInitRank, "ncclCommInitRank", missing);
  resolve(handle, lib->ncclCommGetAsyncError, "ncclCommGetAsyncError",
          missing);
  resolve(handle, lib->ncclCommAbort, "ncclCommAbort", missing);
  resolve(handle, lib->ncclCommDestroy, "ncclCommDestroy", missing);
  resolve(handle, lib->ncclGroupStart, "ncclGroupStart", missing);
  resolve(handle, lib->ncclGroupEnd, "ncclGroupEnd", missing);
  resolve(handle, lib->ncclAllReduce, "ncclAllReduce", missing);
  resolve(handle, lib->ncclRedOpCreatePreMulSum, "ncclRedOpCreatePreMulSum",
          missing);
  resolve(handle, lib->ncclRedOpDestroy, "ncclRedOpDestroy", missing);
  if (!missing.empty()) {
    dlclose(handle);
    return absl::UnavailableError(
        absl::StrCat("CUDA ranks need NCCL 2.11 or later: ", path, " lacks ",
                     missing));
  }
  if (lib->ncclGetVersion(&lib->version) != ncclSuccess ||
      lib->version < kOldestVersion) {
    dlclose(handle);
    return absl::UnavailableError(absl::StrCat(
        "CUDA ranks need NCCL 2.11 or later: ", path, " is version code ",
        lib->version));
  }
  return std::shared_ptr<const Library>(std::move(lib));
}

} // namespace fmc::nccl
