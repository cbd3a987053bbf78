//===- TrackRanks.cpp - fmc-run as one rank of a track-parallel run -------===//

#include "tools/fmc-run/TrackRanks.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

#include <cmath>
#include <sys/stat.h>

namespace fmc::run {

namespace {

bool isFile(const std::string &path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

/// MODEL.rank<rank>.fmc for MODEL.fmc (none for another name).
std::optional<std::string> rankPart(const std::string &path, int rank) {
  absl::string_view stem = path;
  if (!absl::ConsumeSuffix(&stem, ".fmc") || stem.empty())
    return std::nullopt;
  return absl::StrCat(stem, ".rank", rank, ".fmc");
}

} // namespace

absl::StatusOr<std::unique_ptr<TrackRanks>>
TrackRanks::joinIfLaunched(double timeoutSeconds) {
  if (!launchedByMpi())
    return nullptr;
  absl::StatusOr<std::unique_ptr<MpiCollective>> group =
      MpiCollective::open(std::llround(timeoutSeconds * 1000));
  if (!group.ok())
    return group.status();
  return std::unique_ptr<TrackRanks>(new TrackRanks(std::move(*group)));
}

TrackRanks::~TrackRanks() {
  if (!started)
    (void)group->agree(false, 0); // This rank's own message says why.
}

std::string TrackRanks::partPath(const std::string &path) const {
  if (size() == 1 || isFile(path))
    return path;
  return rankPart(path, rank()).value_or(path);
}

absl::Status TrackRanks::ready(const Artifact &artifact, uint64_t &seed) {
  const schema::TrackPartition *part = artifact.root().track_partition();
  started = true;
  if (absl::Status s = group->agree(true, part ? part->model_id() : 0);
      !s.ok())
    return s;
  return group->broadcast(&seed, sizeof seed);
}

std::optional<std::string> trackPartsHint(const std::string &path) {
  if (isFile(path))
    return std::nullopt;
  std::optional<std::string> first = rankPart(path, 0);
  if (!first || !isFile(*first))
    return std::nullopt;
  return absl::StrCat(path,
                      " was compiled with --track-ranks or --tensor-ranks "
                      "into parts (",
                      *first, ", ...): run them together with mpirun -np N "
                      "fmc-run ", path);
}

} // namespace fmc::run
