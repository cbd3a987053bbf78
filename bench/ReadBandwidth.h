//===- ReadBandwidth.h - this machine's memory read bandwidth -------------===//

#ifndef FMC_BENCH_READBANDWIDTH_H
#define FMC_BENCH_READBANDWIDTH_H

#include <cstdint>

namespace fmc::bench {

struct Bandwidth {
  double gbPerSecond = 0; ///< Best of the passes.
  bool hugePages = false; ///< Whether the buffer got transparent huge pages.
};

/// Reads a `bytes`-byte buffer (2 MB aligned, advised for huge pages) with
/// `threads` threads, `passes` times, and reports the best pass: the
/// bandwidth a weight-streaming decode step can hope for.
Bandwidth measureReadBandwidth(uint64_t bytes, int threads, int passes);

} // namespace fmc::bench

#endif // FMC_BENCH_READBANDWIDTH_H
