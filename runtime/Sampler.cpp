//===- Sampler.cpp - next-token choice from logits ------------------------===//

#include "runtime/Sampler.h"

#include <algorithm>
#include <cmath>

namespace fmc {

Sampler::Sampler(const SamplerOptions &options, int64_t vocab)
    : options(options), vocab(vocab),
      state(options.seed * 0x9E3779B97F4A7C15ull + 0xD1B54A32D192ED03ull),
      order(vocab), probs(vocab) {}

int32_t Sampler::argmax(const float *logits, int64_t n) {
  int64_t best = 0;
  for (int64_t i = 1; i < n; ++i)
    if (logits[i] > logits[best])
      best = i;
  return static_cast<int32_t>(best);
}

float Sampler::uniform() {
  // splitmix64: small, fast, and the same on every platform.
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return static_cast<float>(z >> 40) * (1.0f / 16777216.0f);
}

int32_t Sampler::sample(const float *logits) {
  if (options.temperature <= 0.0f)
    return argmax(logits, vocab);
  int64_t n = vocab;
  for (int64_t i = 0; i < n; ++i)
    order[i] = static_cast<int32_t>(i);
  auto byLogit = [&](int32_t a, int32_t b) {
    return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
  };
  if (options.topK > 0 && options.topK < n) {
    std::partial_sort(order.begin(), order.begin() + options.topK,
                      order.begin() + n, byLogit);
    n = options.topK;
  } else if (options.topP < 1.0f) {
    std::sort(order.begin(), order.begin() + n, byLogit);
  }
  float max = logits[order[0]];
  for (int64_t i = 1; i < n; ++i)
    max = std::max(max, logits[order[i]]);
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i)
    sum += probs[i] = std::exp((logits[order[i]] - max) / options.temperature);
  if (options.topP < 1.0f) {
    // order[0..n) is sorted by logit here: keep the nucleus.
    float kept = 0.0f;
    int64_t keep = 0;
    while (keep < n && kept < options.topP * sum)
      kept += probs[keep++];
    n = std::max<int64_t>(keep, 1);
    sum = kept > 0.0f ? kept : probs[0];
  }
  float r = uniform() * sum;
  for (int64_t i = 0; i < n; ++i) {
    r -= probs[i];
    if (r < 0.0f)
      return order[i];
  }
  return order[n - 1];
}

} // namespace fmc
