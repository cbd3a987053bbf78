//===- Collective.h - the processes of one track-parallel model -----------===//
//
// A model compiled with fmc-compile --track-ranks=N runs as N processes,
// each with its part of the artifact (schema TrackPartition): its tracks'
// weights and KV caches. The parts meet only at parallel-tracks block
// boundaries, where the AllReduce kernels sum the tracks' outputs across
// processes. This is the interface those kernels call; an engine implements
// it (runtime/mpi: MPI over CPU ranks; runtime/nccl: NCCL over CUDA ranks,
// on top of MPI), and the session never sees which.
//
// Host memory goes through allReduceSum. Device memory (the cuda backend's
// collective dispatches) goes through attachCudaDevice once, then
// enqueueDeviceAllReduce on the device's stream; the device waits for the
// stream itself and asks deviceError while it waits, so a rank that failed
// or stalled ends the wait (abortDevice after the timeout) instead of
// hanging it.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_RUNTIME_COLLECTIVE_H
#define FMC_RUNTIME_COLLECTIVE_H

#include "absl/status/status.h"

#include "absl/types/span.h"

#include <cstddef>
#include <cstdint>

namespace fmc {

class Collective {
public:
  virtual ~Collective() = default;

  /// This process's rank, from 0 to size() - 1.
  virtual int rank() const = 0;
  /// Processes in the group.
  virtual int size() const = 0;

  /// out[i] = the sum over every rank of that rank's in[i], on every rank
  /// (in == out sums in place; otherwise they may not overlap). Fails,
  /// rather than waiting forever, when another rank does not join within
  /// the engine's timeout.
  virtual absl::Status allReduceSum(const float *in, float *out,
                                    size_t count) = 0;

  /// Rank 0's `bytes` bytes of `data` on every rank (what must agree before
  /// the ranks compute, like a sampling seed).
  virtual absl::Status broadcast(void *data, size_t bytes) = 0;

  /// How long a collective may wait for the other ranks, in milliseconds.
  virtual int64_t timeoutMs() const = 0;
  /// This process's index among the ranks on its machine (a GPU each).
  virtual int localRank() const { return rank(); }

  /// One buffer of a device all-reduce: `count` f32 at device address `in`,
  /// summed into `out` (which may equal `in`).
  struct DeviceBuffer {
    uint64_t in = 0, out = 0;
    size_t count = 0;
  };
  /// Makes device all-reduces possible on CUDA device `ordinal`, whose
  /// context is current (every rank calls it together, once). Engines for
  /// host memory only say so.
  virtual absl::Status attachCudaDevice(int ordinal);
  /// Enqueues on `stream` (a CUstream) out = scale * the sum over ranks of
  /// in, for every buffer, as one exchange. Returns once enqueued.
  virtual absl::Status enqueueDeviceAllReduce(absl::Span<const DeviceBuffer> buffers,
                                              float scale, void *stream);
  /// While a stream with enqueued device all-reduces is not done: an error
  /// the engine found meanwhile (another rank failed), else OK.
  virtual absl::Status deviceError() { return absl::OkStatus(); }
  /// After the wait for such a stream passed timeoutMs(): ends the device
  /// collectives so the stream drains (the run cannot go on).
  virtual void abortDevice() {}

  /// All-reduces run and the bytes this rank sent into them, for --stats.
  int64_t allReduces() const { return calls; }
  uint64_t bytesSent() const { return bytes; }

protected:
  /// Engines count each all-reduce here.
  void count(size_t floats) {
    ++calls;
    bytes += floats * sizeof(float);
  }

private:
  int64_t calls = 0;
  uint64_t bytes = 0;
};

inline absl::Status Collective::attachCudaDevice(int) {
  return absl::FailedPreconditionError(
      "this run's collective engine sums host memory only (MPI); CUDA ranks "
      "need NCCL");
}

inline absl::Status
Collective::enqueueDeviceAllReduce(absl::Span<const DeviceBuffer>, float,
                                   void *) {
  return absl::FailedPreconditionError(
      "no CUDA device is attached to this run's collective engine");
}

} // namespace fmc

#endif // FMC_RUNTIME_COLLECTIVE_H
