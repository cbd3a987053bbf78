//===- LaunchTable.h - decode launches timed one by one, by shape ----------===//
//
// The kernel benchmark of the GPU backends: fmc-bench --kernels groups the
// profiled decode dispatches by kernel and weight bytes (one group per
// fused matvec shape: q/k/v, o, gate+up, down, logits; attention and the
// rest read no weights) and prints, per group, the median time of one
// launch and the weight bytes it streams per second against the copy
// bandwidth measured in the same run.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_BENCH_LAUNCHTABLE_H
#define FMC_BENCH_LAUNCHTABLE_H

#include "runtime/schema/fmc_generated.h"

#include <cstdint>
#include <string>
#include <vector>

namespace fmc::bench {

/// Dispatches of one kernel reading the same weight bytes.
struct LaunchGroup {
  std::string entry;          ///< The kernel's entry point.
  int64_t launches = 0;       ///< Dispatches per decode run.
  uint64_t weightBytes = 0;   ///< Weight bytes one launch reads.
  double medianSeconds = 0;   ///< Median over every sample of every launch.
  double gbPerSecond = 0;     ///< weightBytes / medianSeconds (0: none read).
};

/// Groups the decode dispatches of `exe` by (entry point, weight bytes),
/// with `samples[i]` the profiled seconds of dispatch i; largest total time
/// first. Empty when the sample count does not match the dispatch count.
std::vector<LaunchGroup>
groupDecodeLaunches(const schema::Executable &exe,
                    const std::vector<std::vector<double>> &samples);

/// Prints `groups` as a table, fractions against `bandwidthGbs`.
void printLaunchTable(const std::vector<LaunchGroup> &groups,
                      double bandwidthGbs);

/// `groups` as a JSON array (for --json).
std::string launchTableJson(const std::vector<LaunchGroup> &groups,
                            double bandwidthGbs);

} // namespace fmc::bench

#endif // FMC_BENCH_LAUNCHTABLE_H
