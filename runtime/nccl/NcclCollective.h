//===- NcclCollective.h - CUDA ranks: NCCL over the MPI ranks -------------===//
//
// The collective of a split model's processes when they run on GPUs, one
// per rank. Host memory and the start-up exchange go through the host
// collective the ranks already share (MPI under mpirun); device memory
// goes through NCCL, whose communicator is made when the cuda device
// attaches (its unique id travels over the host collective's broadcast).
// NCCL is loaded then, not before, so CPU ranks never need it.
//
// A device all-reduce is only enqueued; the device waits for its stream
// and polls deviceError meanwhile (ncclCommGetAsyncError: a peer that
// failed), and after the timeout calls abortDevice (ncclCommAbort), which
// makes the stuck stream finish so the run can end with a message.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_RUNTIME_NCCL_NCCLCOLLECTIVE_H
#define FMC_RUNTIME_NCCL_NCCLCOLLECTIVE_H

#include "runtime/Collective.h"
#include "runtime/nccl/NcclLibrary.h"

#include <memory>

namespace fmc {

class NcclCollective final : public Collective {
public:
  /// Over `host`, which outlives it; NCCL from nccl::libraryPath(), loaded
  /// by attachCudaDevice.
  explicit NcclCollective(Collective &host) : host(host) {}
  /// With a library already loaded (tests load a stand-in).
  NcclCollective(Collective &host, std::shared_ptr<const nccl::Library> lib)
      : host(host), lib(std::move(lib)) {}
  /// Destroys the communicator (aborted ones are gone already).
  ~NcclCollective() override;

  int rank() const override { return host.rank(); }
  int size() const override { return host.size(); }
  int64_t timeoutMs() const override { return host.timeoutMs(); }
  int localRank() const override { return host.localRank(); }
  absl::Status allReduceSum(const float *in, float *out,
                            size_t count) override {
    absl::Status s = host.allReduceSum(in, out, count);
    if (s.ok())
      this->count(count);
    return s;
  }
  absl::Status broadcast(void *data, size_t bytes) override {
    return host.broadcast(data, bytes);
  }

  /// Rank 0 makes the NCCL unique id and broadcasts it (or why it could
  /// not, so every rank fails alike); every rank then joins the
  /// communicator on the device whose context is current.
  absl::Status attachCudaDevice(int ordinal) override;
  absl::Status enqueueDeviceAllReduce(absl::Span<const DeviceBuffer> buffers,
                                      float scale, void *stream) override;
  absl::Status deviceError() override;
  void abortDevice() override;

private:
  Collective &host;
  std::shared_ptr<const nccl::Library> lib;
  nccl::ncclComm_t comm = nullptr;
};

} // namespace fmc

#endif // FMC_RUNTIME_NCCL_NCCLCOLLECTIVE_H
