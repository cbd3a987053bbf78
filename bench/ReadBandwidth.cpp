//===- ReadBandwidth.cpp - this machine's memory read bandwidth -----------===//

#include "bench/ReadBandwidth.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <string>
#include <sys/mman.h>
#include <thread>
#include <vector>

namespace fmc::bench {

namespace {

constexpr uint64_t kHugePage = 2ull << 20;

/// Sums 64-bit words with eight independent chains: integer adds vectorize
/// and never bound the loop, so it runs at the memory's read speed.
uint64_t sumWords(const uint64_t *words, uint64_t count) {
  uint64_t acc[8] = {};
  uint64_t i = 0;
  for (; i + 8 <= count; i += 8)
    for (int j = 0; j < 8; ++j)
      acc[j] += words[i + j];
  uint64_t total = 0;
  for (int j = 0; j < 8; ++j)
    total += acc[j];
  for (; i < count; ++i)
    total += words[i];
  return total;
}

/// AnonHugePages of this process, in kB (from /proc/self/smaps_rollup).
uint64_t anonHugePagesKb() {
  std::ifstream in("/proc/self/smaps_rollup");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("AnonHugePages:", 0) == 0)
      return std::stoull(line.substr(14));
  return 0;
}

} // namespace

Bandwidth measureReadBandwidth(uint64_t bytes, int threads, int passes) {
  Bandwidth result;
  bytes = std::max<uint64_t>(bytes / kHugePage * kHugePage, kHugePage);
  uint64_t mapped = bytes + kHugePage;
  void *raw = ::mmap(nullptr, mapped, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED)
    return result;
  auto *base = reinterpret_cast<uint8_t *>(
      (reinterpret_cast<uintptr_t>(raw) + kHugePage - 1) / kHugePage *
      kHugePage);
  uint64_t hugeBefore = anonHugePagesKb();
  ::madvise(base, bytes, MADV_HUGEPAGE);
  std::memset(base, 1, bytes);
  result.hugePages = anonHugePagesKb() > hugeBefore;

  const uint64_t words = bytes / 8;
  std::atomic<uint64_t> sink{0};
  for (int pass = 0; pass < passes; ++pass) {
    auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t)
      workers.emplace_back([&, t] {
        uint64_t begin = words * t / threads, end = words * (t + 1) / threads;
        sink += sumWords(reinterpret_cast<const uint64_t *>(base) + begin,
                         end - begin);
      });
    for (std::thread &w : workers)
      w.join();
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    result.gbPerSecond = std::max(result.gbPerSecond, bytes / seconds / 1e9);
  }
  ::munmap(raw, mapped);
  return result;
}

} // namespace fmc::bench
