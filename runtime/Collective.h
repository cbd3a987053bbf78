//===- Collective.h - the processes of one track-parallel model -----------===//
//
// A model compiled with fmc-compile --track-ranks=N runs as N processes,
// each with its part of the artifact (schema TrackPartition): its tracks'
// weights and KV caches. The parts meet only at parallel-tracks block
// boundaries, where the AllReduce kernels sum the tracks' outputs across
// processes. This is the interface those kernels call; an engine implements
// it (runtime/mpi: MPI over CPU ranks), and the session never sees which.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_RUNTIME_COLLECTIVE_H
#define FMC_RUNTIME_COLLECTIVE_H

#include "absl/status/status.h"

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

  /// All-reduces run and the bytes this rank sent into them, for --stats.
  int64_t allReduces() const { return calls; }
  uint64_t bytesSent() const { return bytes; }

protected:
  /// Engines count each completed all-reduce here.
  void count(size_t floats) {
    ++calls;
    bytes += floats * sizeof(float);
  }

private:
  int64_t calls = 0;
  uint64_t bytes = 0;
};

} // namespace fmc

#endif // FMC_RUNTIME_COLLECTIVE_H
