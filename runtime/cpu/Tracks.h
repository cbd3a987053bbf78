//===- Tracks.h - parallel-track kernels on one CPU -----------------------===//
//
// On one device the T tracks of a parallel-tracks block run one after the
// other, each over its own buffers and KV caches (the plan lays them out);
// the only kernel that sees several tracks is the combine at the block's
// end. On several devices it is where the all-reduce goes.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_RUNTIME_CPU_TRACKS_H
#define FMC_RUNTIME_CPU_TRACKS_H

#include "runtime/cpu/Program.h"

#include <memory>
#include <vector>

namespace fmc::cpu {

/// out = mean (or sum) of the tracks' rows, summed in track order.
std::unique_ptr<KernelInstance>
makeTrackCombine(std::vector<const float *> tracks, float *out, int64_t width,
                 bool mean);

/// outs[i] = scale * (the sum over ranks of each rank's partials[i]),
/// through `memory`'s collective as one exchange (several buffers are packed
/// into one); a failure lands in memory.collectiveError and skips the
/// all-reduces after it. All buffers have `width` floats per row.
std::unique_ptr<KernelInstance>
makeAllReduce(std::vector<const float *> partials, std::vector<float *> outs,
              int64_t width, float scale, Memory &memory);

/// y_g = x_g W_g^T for every group g, W_g the g-th [n, k] slice of `weight`:
/// one parallel region over groups and output chunks.
std::unique_ptr<KernelInstance>
makeGroupedLinear(std::vector<const float *> inputs,
                  std::vector<float *> outputs, const void *weight,
                  ElementType type, int64_t k, int64_t n);

} // namespace fmc::cpu

#endif // FMC_RUNTIME_CPU_TRACKS_H
