//===- TrackRanks.h - fmc-run as one rank of a track-parallel run ---------===//
//
// Under `mpirun -np N fmc-run MODEL.fmc`, each process runs the part of
// its rank (MODEL.rank<r>.fmc, fmc-compile --track-ranks=N). The ranks
// start together: none computes before every one has opened its part, so a
// rank that cannot start makes all of them exit with a message instead of
// leaving the others waiting in an all-reduce. Rank 0 speaks for the run.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_TOOLS_FMC_RUN_TRACKRANKS_H
#define FMC_TOOLS_FMC_RUN_TRACKRANKS_H

#include "runtime/Artifact.h"
#include "runtime/mpi/MpiCollective.h"
#include "runtime/nccl/NcclCollective.h"

#include "absl/status/statusor.h"

#include <memory>
#include <optional>
#include <string>

namespace fmc::run {

class TrackRanks {
public:
  /// Joins the other ranks when an MPI launcher started this process;
  /// null otherwise.
  static absl::StatusOr<std::unique_ptr<TrackRanks>>
  joinIfLaunched(double timeoutSeconds);
  /// Before ready() succeeded (this rank failed to start), tells the others
  /// so, and they stop too.
  ~TrackRanks();

  /// MPI for host memory (cpu ranks); NCCL, loaded when a cuda device
  /// attaches, for device memory (cuda ranks).
  Collective *collective() { return &devices; }
  int rank() const { return group->rank(); }
  int size() const { return group->size(); }

  /// The artifact this rank runs for `path`: the path itself when it is a
  /// file, else, for MODEL.fmc, MODEL.rank<rank>.fmc.
  std::string partPath(const std::string &path) const;

  /// The start-up check (every rank opened its part, parts of one
  /// compilation), then rank 0's sampling seed on every rank: the ranks
  /// sample the same tokens from the same logits.
  absl::Status ready(const Artifact &artifact, uint64_t &seed);

  /// Ends every rank now, after a failure that left them out of step.
  [[noreturn]] void abortAll() { group->abortJob(1); }

private:
  explicit TrackRanks(std::unique_ptr<MpiCollective> group)
      : group(std::move(group)), devices(*this->group) {}

  std::unique_ptr<MpiCollective> group;
  NcclCollective devices;
  bool started = false;
};

/// For a plain run of MODEL.fmc that does not exist where MODEL.rank0.fmc
/// does: how to run the parts.
std::optional<std::string> trackPartsHint(const std::string &path);

} // namespace fmc::run

#endif // FMC_TOOLS_FMC_RUN_TRACKRANKS_H
