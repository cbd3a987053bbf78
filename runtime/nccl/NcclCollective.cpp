//===- NcclCollective.cpp - CUDA ranks: NCCL over the MPI ranks -----------===//

#include "runtime/nccl/NcclCollective.h"

#include "absl/strings/str_cat.h"

#include <cstring>

namespace fmc {

using namespace nccl; // NOLINT: NCCL's names, in this file only.

namespace {

/// What rank 0 broadcasts at attach: the unique id, or why there is none.
struct Bootstrap {
  int32_t ok = 0;
  ncclUniqueId id{};
  char error[256] = "";
};

} // namespace

NcclCollective::~NcclCollective() {
  if (comm)
    lib->ncclCommDestroy(comm);
}

absl::Status NcclCollective::attachCudaDevice(int ordinal) {
  if (comm)
    return absl::OkStatus();
  Bootstrap boot;
  absl::Status loaded = absl::OkStatus();
  if (!lib) {
    absl::StatusOr<std::shared_ptr<const Library>> opened =
        loadLibrary(libraryPath());
    if (opened.ok())
      lib = *std::move(opened);
    else
      loaded = opened.status();
  }
  if (rank() == 0) {
    std::string why;
    if (!loaded.ok())
      why = std::string(loaded.message());
    else if (ncclResult_t r = lib->ncclGetUniqueId(&boot.id); r != ncclSuccess)
      why = lib->describe("ncclGetUniqueId", r);
    boot.ok = why.empty();
    std::strncpy(boot.error, why.c_str(), sizeof boot.error - 1);
  }
  // Every rank takes part in the broadcast, even one that could not load
  // NCCL: the others would wait for it otherwise.
  if (absl::Status s = broadcast(&boot, sizeof boot); !s.ok())
    return s;
  if (!boot.ok)
    return absl::FailedPreconditionError(
        absl::StrCat("rank 0 could not start NCCL: ", boot.error));
  if (!loaded.ok())
    return loaded;
  if (ncclResult_t r = lib->ncclCommInitRank(&comm, size(), boot.id, rank());
      r != ncclSuccess) {
    comm = nullptr;
    return absl::UnavailableError(absl::StrCat(
        "rank ", rank(), " (CUDA device ", ordinal,
        ") could not join the NCCL communicator: ",
        lib->describe("ncclCommInitRank", r)));
  }
  return absl::OkStatus();
}

absl::Status
NcclCollective::enqueueDeviceAllReduce(absl::Span<const DeviceBuffer> buffers,
                                       float scale, void *stream) {
  if (!comm)
    return Collective::enqueueDeviceAllReduce(buffers, scale, stream);
  // A mean's scale is applied before the sum (PreMulSum): the same value
  // up to rounding, and no kernel after the exchange.
  ncclRedOp_t op = ncclSum;
  if (scale != 1.0f)
    if (ncclResult_t r = lib->ncclRedOpCreatePreMulSum(
            &op, &scale, ncclFloat32, ncclScalarHostImmediate, comm);
        r != ncclSuccess)
      return absl::InternalError(
          lib->describe("ncclRedOpCreatePreMulSum", r));
  // Several buffers travel as one exchange, as on CPU ranks.
  ncclResult_t r = lib->ncclGroupStart();
  size_t floats = 0;
  for (const DeviceBuffer &b : buffers) {
    if (r != ncclSuccess)
      break;
    r = lib->ncclAllReduce(reinterpret_cast<const void *>(b.in),
                           reinterpret_cast<void *>(b.out), b.count,
                           ncclFloat32, op, comm, stream);
    floats += b.count;
  }
  ncclResult_t ended = lib->ncclGroupEnd();
  // Legal once the last call that takes the operator has returned.
  if (op != ncclSum)
    lib->ncclRedOpDestroy(op, comm);
  if (r != ncclSuccess)
    return absl::InternalError(lib->describe("ncclAllReduce", r));
  if (ended != ncclSuccess)
    return absl::InternalError(lib->describe("ncclGroupEnd", ended));
  count(floats);
  return absl::OkStatus();
}

absl::Status NcclCollective::deviceError() {
  if (!comm)
    return absl::OkStatus();
  ncclResult_t state = ncclSuccess;
  ncclResult_t r = lib->ncclCommGetAsyncError(comm, &state);
  if (r != ncclSuccess)
    state = r;
  if (state == ncclSuccess || state == ncclInProgress)
    return absl::OkStatus();
  return absl::UnavailableError(absl::StrCat(
      "rank ", rank(), ": NCCL failed while the ranks exchanged activations "
      "(another rank may have failed): ",
      lib->describe("ncclCommGetAsyncError", state)));
}

void NcclCollective::abortDevice() {
  if (!comm)
    return;
  lib->ncclCommAbort(comm);
  comm = nullptr;
}

} // namespace fmc
