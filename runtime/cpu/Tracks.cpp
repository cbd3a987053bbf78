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

class AllReduce final : public KernelInstance {
public:
  AllReduce(std::vector<const float *> partials, std::vector<float *> outs,
            int64_t width, float scale, Memory &memory)
      : partials(std::move(partials)), outs(std::move(outs)), width(width),
        scale(scale), memory(memory) {}

  void run(const RunContext &ctx) const override {
    // Once one failed, the ranks no longer run the same kernels: joining
    // another all-reduce could pair it with a different one.
    if (!memory.collectiveError.ok())
      return;
    size_t n = static_cast<size_t>(ctx.rows * width);
    if (partials.size() == 1) {
      memory.collectiveError =
          memory.collective->allReduceSum(partials[0], outs[0], n);
      scaleRows(outs[0], n);
      return;
    }
    // Batched tracks' partials: one exchange of all of them, not one each.
    packed.resize(n * partials.size());
    for (size_t i = 0; i < partials.size(); ++i)
      std::copy(partials[i], partials[i] + n, packed.data() + i * n);
    memory.collectiveError =
        memory.collective->allReduceSum(packed.data(), packed.data(),
                                        packed.size());
    for (size_t i = 0; i < outs.size(); ++i) {
      std::copy(packed.data() + i * n, packed.data() + (i + 1) * n, outs[i]);
      scaleRows(outs[i], n);
    }
  }

private:
  void scaleRows(float *out, size_t n) const {
    if (scale != 1.0f)
      for (size_t i = 0; i < n; ++i)
        out[i] *= scale;
  }

  std::vector<const float *> partials;
  std::vector<float *> outs;
  int64_t width;
  float scale;
  Memory &memory;
  mutable std::vector<float> packed;
};

class GroupedLinear final : public KernelInstance {
public:
  GroupedLinear(std::vector<const float *> inputs, std::vector<float *> outputs,
                const void *weight, ElementType type, int64_t k, int64_t n)
      : inputs(std::move(inputs)), outputs(std::move(outputs)), weight(weight),
        type(type), k(k), n(n) {}

  void run(const RunContext &ctx) const override {
    LinearFn fn = ctx.simd->linear[static_cast<int>(type)];
    int64_t groups = inputs.size(), rows = ctx.rows;
    size_t slab = static_cast<size_t>(n) * k * elementBytes(type);
    auto args = [&](int64_t g) {
      return LinearArgs{
          inputs[g], k,
          k,         static_cast<const uint8_t *>(weight) + g * slab,
          nullptr,   outputs[g],
          n};
    };
    int64_t threads = ctx.pool->size();
    if (threads == 1 || groups * rows * n * k < 65536) {
      for (int64_t g = 0; g < groups; ++g)
        fn(args(g), 0, n, 0, rows);
      return;
    }
    // Tasks over groups x output chunks (all tokens of a group per task).
    int64_t chunks = std::max<int64_t>(1, (4 * threads + groups - 1) / groups);
    int64_t chunk = std::max<int64_t>(4, (n + chunks - 1) / chunks);
    chunk = (chunk + 3) / 4 * 4;
    chunks = (n + chunk - 1) / chunk;
    ctx.pool->run(groups * chunks, [&](int64_t task, int) {
      int64_t g = task / chunks, n0 = task % chunks * chunk;
      fn(args(g), n0, std::min(n, n0 + chunk), 0, rows);
    });
  }

private:
  std::vector<const float *> inputs;
  std::vector<float *> outputs;
  const void *weight;
  ElementType type;
  int64_t k, n;
};

} // namespace

std::unique_ptr<KernelInstance>
makeGroupedLinear(std::vector<const float *> inputs,
                  std::vector<float *> outputs, const void *weight,
                  ElementType type, int64_t k, int64_t n) {
  return std::make_unique<GroupedLinear>(std::move(inputs), std::move(outputs),
                                         weight, type, k, n);
}

std::unique_ptr<KernelInstance>
makeAllReduce(std::vector<const float *> partials, std::vector<float *> outs,
              int64_t width, float scale, Memory &memory) {
  return std::make_unique<AllReduce>(std::move(partials), std::move(outs),
                                     width, scale, memory);
}

std::unique_ptr<KernelInstance>
makeTrackCombine(std::vector<const float *> tracks, float *out, int64_t width,
                 bool mean) {
  return std::make_unique<TrackCombine>(std::move(tracks), out, width, mean);
}

} // namespace fmc::cpu
