//===- Sampler.cpp - next-token choice from logits ------------------------===//

#include "runtime/Sampler.h"

#include <algorithm>
#include <cmath>

namespace fmc {

Sampler::Sampler(const SamplerOptions &options, int64_t vocab)
    : options(options), vocab(vocab),
      state(options.seed * 0x9E3779B97F4A7C15ull + 0xD1B54A32D192ED03ull),
      order(vocab), probs(vocab) {
  if (penalizes()) {
    penalized.resize(vocab);
    counts.assign(vocab, 0);
  }
}

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

bool Sampler::penalizes() const {
  return options.penaltyWindow > 0 &&
         (options.repeatPenalty != 1.0f || options.presencePenalty != 0.0f ||
          options.frequencyPenalty != 0.0f);
}

void Sampler::accept(int32_t token) {
  if (!penalizes() || token < 0 || token >= vocab)
    return;
  recent.push_back(token);
  ++counts[token];
  if (recent.size() > static_cast<size_t>(options.penaltyWindow)) {
    --counts[recent.front()];
    recent.pop_front();
  }
}

const float *Sampler::applyPenalties(const float *logits) {
  std::copy(logits, logits + vocab, penalized.begin());
  // Each distinct token once: its count is cleared after use and restored
  // from the window afterwards.
  for (int32_t token : recent) {
    int32_t count = counts[token];
    if (count <= 0) // Already penalized.
      continue;
    float &logit = penalized[token];
    logit = logit <= 0.0f ? logit * options.repeatPenalty
                          : logit / options.repeatPenalty;
    logit -= static_cast<float>(count) * options.frequencyPenalty +
             options.presencePenalty;
    counts[token] = -count;
  }
  for (int32_t token : recent)
    counts[token] = std::abs(counts[token]);
  return penalized.data();
}

int32_t Sampler::sample(const float *logits) {
  if (penalizes())
    logits = applyPenalties(logits);
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
  } else if (options.topP < 1.0f || options.minP > 0.0f) {
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
  if (options.minP > 0.0f) {
    // Sorted too; p_i / p_max >= minP before temperature means
    // logit_i >= max + log(minP).
    float floor = max + std::log(options.minP);
    int64_t keep = 1;
    while (keep < n && logits[order[keep]] >= floor)
      ++keep;
    n = std::min(n, keep);
    sum = 0.0f;
    for (int64_t i = 0; i < n; ++i)
      sum += probs[i];
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
