//===- MpiCollective.h - CPU ranks under mpirun ---------------------------===//
//
// The Collective of processes mpirun started: MPI through libfmc-mpi.so
// (MpiPlugin.h), loaded only when a launcher started this process, so a
// plain fmc-run neither needs nor initializes MPI.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_RUNTIME_MPI_MPICOLLECTIVE_H
#define FMC_RUNTIME_MPI_MPICOLLECTIVE_H

#include "runtime/Collective.h"

#include "absl/status/statusor.h"

#include <memory>

struct FmcMpiPlugin;

namespace fmc {

/// Whether an MPI launcher started this process: Open MPI's mpirun sets
/// OMPI_COMM_WORLD_SIZE, PMIx and PMI launchers PMIX_RANK and PMI_RANK.
bool launchedByMpi();

class MpiCollective final : public Collective {
public:
  /// Loads libfmc-mpi.so ($FMC_MPI_PLUGIN, else beside the executable:
  /// ../lib/ or its own directory, else the loader's search path) and
  /// initializes MPI. Collectives give up after `timeoutMs`.
  static absl::StatusOr<std::unique_ptr<MpiCollective>> open(int64_t timeoutMs);
  /// Finalizes MPI.
  ~MpiCollective() override;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int64_t timeoutMs() const override { return timeout; }
  /// OMPI_COMM_WORLD_LOCAL_RANK (MPI_LOCALRANKID, ...), else the rank.
  int localRank() const override;
  absl::Status allReduceSum(const float *in, float *out,
                            size_t count) override;
  absl::Status broadcast(void *data, size_t bytes) override;

  /// The start-up check every rank makes before computing: whether each
  /// rank is ready (`ok`) and holds a part with the same `modelId`. Fails
  /// on every rank, naming the first rank that was not ready, or saying
  /// the parts come from different compilations.
  absl::Status agree(bool ok, uint64_t modelId);

  /// Ends every rank now (MPI_Abort), after a failure that left the ranks
  /// out of step: waiting for them would hang.
  [[noreturn]] void abortJob(int exitCode);

private:
  MpiCollective(const FmcMpiPlugin *plugin, void *library, int64_t timeoutMs)
      : plugin(plugin), library(library), timeout(timeoutMs) {}

  const FmcMpiPlugin *plugin;
  void *library;
  int64_t timeout;
  int rank_ = 0, size_ = 1;
};

} // namespace fmc

#endif // FMC_RUNTIME_MPI_MPICOLLECTIVE_H
