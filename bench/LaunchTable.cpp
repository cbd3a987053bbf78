//===- LaunchTable.cpp - decode launches timed one by one, by shape --------===//

#include "bench/LaunchTable.h"

#include "runtime/Device.h"

#include "absl/strings/str_format.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <utility>

namespace fmc::bench {
namespace {

double median(std::vector<double> values) {
  if (values.empty())
    return 0;
  size_t middle = values.size() / 2;
  std::nth_element(values.begin(), values.begin() + middle, values.end());
  return values[middle];
}

} // namespace

/// The group key of collective dispatches, which have no entry point.
constexpr uint32_t kCollective = UINT32_MAX;

std::vector<LaunchGroup>
groupDecodeLaunches(const schema::Executable &exe,
                    const std::vector<std::vector<double>> &samples) {
  const schema::DispatchList *list = dispatchListOf(exe, ProgramKind::Decode);
  if (!list || !list->dispatches() ||
      list->dispatches()->size() != samples.size())
    return {};
  // (entry, weight bytes) -> every sample of every such launch.
  std::map<std::pair<uint32_t, uint64_t>, std::pair<int64_t, std::vector<double>>>
      groups;
  for (size_t i = 0; i < samples.size(); ++i) {
    const schema::Dispatch *d = list->dispatches()->Get(i);
    uint64_t weightBytes = 0;
    for (const schema::Binding *b : *d->bindings())
      if (b->memory() == schema::BindingMemory::Weights)
        weightBytes += b->bytes();
    // Collective dispatches launch no entry point.
    uint32_t entry = d->collective() ? kCollective : d->entry();
    auto &[launches, times] = groups[{entry, weightBytes}];
    ++launches;
    times.insert(times.end(), samples[i].begin(), samples[i].end());
  }
  std::vector<LaunchGroup> result;
  for (auto &[key, value] : groups) {
    LaunchGroup g;
    g.entry = key.first == kCollective
                  ? "all_reduce (collective)"
                  : exe.entry_points()->Get(key.first)->name()->str();
    g.launches = value.first;
    g.weightBytes = key.second;
    g.medianSeconds = median(std::move(value.second));
    if (g.weightBytes && g.medianSeconds > 0)
      g.gbPerSecond = g.weightBytes / g.medianSeconds / 1e9;
    result.push_back(g);
  }
  std::sort(result.begin(), result.end(),
            [](const LaunchGroup &a, const LaunchGroup &b) {
              return a.launches * a.medianSeconds >
                     b.launches * b.medianSeconds;
            });
  return result;
}

void printLaunchTable(const std::vector<LaunchGroup> &groups,
                      double bandwidthGbs) {
  double total = 0;
  for (const LaunchGroup &g : groups)
    total += g.launches * g.medianSeconds;
  std::printf("  decode launches, timed one by one (medians; weight bytes "
              "per launch / time, %% of %.1f GB/s):\n",
              bandwidthGbs);
  std::printf("    %-32s %8s %12s %10s %10s %6s %6s\n", "kernel", "launches",
              "weights MB", "us/launch", "GB/s", "bw %", "time %");
  for (const LaunchGroup &g : groups) {
    std::string rate = g.gbPerSecond > 0
                           ? absl::StrFormat("%10.1f %6.1f", g.gbPerSecond,
                                             100 * g.gbPerSecond / bandwidthGbs)
                           : absl::StrFormat("%10s %6s", "-", "-");
    std::printf("    %-32s %8lld %12.3f %10.2f %s %6.1f\n", g.entry.c_str(),
                static_cast<long long>(g.launches), g.weightBytes / 1e6,
                g.medianSeconds * 1e6, rate.c_str(),
                total > 0 ? 100 * g.launches * g.medianSeconds / total : 0.0);
  }
  std::printf("    sum of the medians: %.1f us per decode run\n", total * 1e6);
}

std::string launchTableJson(const std::vector<LaunchGroup> &groups,
                            double bandwidthGbs) {
  std::string json = "[";
  for (size_t i = 0; i < groups.size(); ++i) {
    const LaunchGroup &g = groups[i];
    json += absl::StrFormat(
        "%s\n    {\"kernel\": \"%s\", \"launches\": %d, \"weight_bytes\": %d, "
        "\"median_us\": %.3f, \"gb_per_s\": %.3f, \"bandwidth_fraction\": "
        "%.4f}",
        i ? "," : "", g.entry, g.launches, g.weightBytes,
        g.medianSeconds * 1e6, g.gbPerSecond, g.gbPerSecond / bandwidthGbs);
  }
  return json + "\n  ]";
}

} // namespace fmc::bench
