//===- NcclLibrary.h - libnccl loaded at run time -------------------------===//
//
// The cuda backend's collectives call NCCL, loaded like the CUDA driver:
// dlopen at run time, so fmc-run builds and runs where NCCL is not
// installed and only CUDA ranks need it. The few types and entry points
// fmc calls are declared here as nccl.h (NCCL 2.11 or later, for
// PreMulSum) defines them; their values are NCCL's stable ABI.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_RUNTIME_NCCL_NCCLLIBRARY_H
#define FMC_RUNTIME_NCCL_NCCLLIBRARY_H

#include "absl/status/statusor.h"

#include <cstddef>
#include <memory>
#include <string>

namespace fmc::nccl {

using ncclResult_t = int;
constexpr ncclResult_t ncclSuccess = 0;
constexpr ncclResult_t ncclInProgress = 7;
using ncclDataType_t = int;
constexpr ncclDataType_t ncclFloat32 = 7;
using ncclRedOp_t = int;
constexpr ncclRedOp_t ncclSum = 0;
using ncclScalarResidence_t = int;
constexpr ncclScalarResidence_t ncclScalarHostImmediate = 1;
struct ncclComm;
using ncclComm_t = ncclComm *;
struct ncclUniqueId {
  char internal[128];
};

/// The oldest NCCL fmc runs on: 2.11 brought ncclRedOpCreatePreMulSum,
/// which folds a track mean's 1/T into the sum. ncclGetVersion's code is
/// major * 10000 + minor * 100 + patch from 2.9 on.
constexpr int kOldestVersion = 21100;

struct Library {
  ncclResult_t (*ncclGetVersion)(int *version);
  const char *(*ncclGetErrorString)(ncclResult_t result);
  ncclResult_t (*ncclGetUniqueId)(ncclUniqueId *id);
  ncclResult_t (*ncclCommInitRank)(ncclComm_t *comm, int ranks,
                                   ncclUniqueId id, int rank);
  ncclResult_t (*ncclCommGetAsyncError)(ncclComm_t comm,
                                        ncclResult_t *result);
  ncclResult_t (*ncclCommAbort)(ncclComm_t comm);
  ncclResult_t (*ncclCommDestroy)(ncclComm_t comm);
  ncclResult_t (*ncclGroupStart)();
  ncclResult_t (*ncclGroupEnd)();
  ncclResult_t (*ncclAllReduce)(const void *in, void *out, size_t count,
                                ncclDataType_t type, ncclRedOp_t op,
                                ncclComm_t comm, void *stream);
  ncclResult_t (*ncclRedOpCreatePreMulSum)(ncclRedOp_t *op, void *scalar,
                                           ncclDataType_t type,
                                           ncclScalarResidence_t residence,
                                           ncclComm_t comm);
  ncclResult_t (*ncclRedOpDestroy)(ncclRedOp_t op, ncclComm_t comm);

  std::string path;
  int version = 0;

  /// "ncclAllReduce: unhandled system error (2)".
  std::string describe(const char *call, ncclResult_t result) const;
};

/// $FMC_NCCL_LIBRARY when set, else libnccl.so.2 (the loader's path).
std::string libraryPath();

/// Loads the NCCL library at `path` and resolves every entry point;
/// Unavailable naming the library (not found, or lacking an entry point)
/// or its version (older than kOldestVersion). It stays loaded for the
/// process.
absl::StatusOr<std::shared_ptr<const Library>>
loadLibrary(const std::string &path);

} // namespace fmc::nccl

#endif // FMC_RUNTIME_NCCL_NCCLLIBRARY_H
