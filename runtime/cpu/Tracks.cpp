//===- Tracks.cpp - parallel-track kernels on one CPU ---------------------===//

#include "runtime/cpu/Tracks.h"

#include <algorithm>

namespace fmc::cpu {

namespace {

class TrackCombine final : public KernelInstance {
public:
  TrackCombine(std::vector<const float *> tracks, float *out, int64_t width,
               bool mean)
      : tracks(std::move(tracks)), out(out), width(width), mean(mean) {}

  void run(const RunContext &ctx) const override {
    int64_t n = ctx.rows * width;
    float scale = mean ? 1.0f / static_cast<float>(tracks.size()) : 1.0f;
    // The plan never places the output over a track's output: both are
    // live at this kernel.
    for (int64_t i = 0; i < n; ++i) {
      float sum = 0.0f;
      for (const float *track : tracks)
        sum += track[i];
      out[i] = sum * scale;
    }
  }

private:
  std::vector<const float *> tracks;
  float *out;
  int64_t width;
  bool mean;
};

} // namespace

std::unique_ptr<KernelInstance>
makeTrackCombine(std::vector<const float *> tracks, float *out, int64_t width,
                 bool mean) {
  return std::make_unique<TrackCombine>(std::move(tracks), out, width, mean);
}

} // namespace fmc::cpu
