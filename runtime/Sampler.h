//===- Sampler.h - next-token choice from logits --------------------------===//

#ifndef FMC_RUNTIME_SAMPLER_H
#define FMC_RUNTIME_SAMPLER_H

#include <cstdint>
#include <vector>

namespace fmc {

struct SamplerOptions {
  /// 0 picks the most likely token (greedy).
  float temperature = 0.0f;
  /// Keep only the k most likely tokens (0: all).
  int32_t topK = 0;
  /// Keep the smallest set of most likely tokens whose probability reaches p.
  float topP = 1.0f;
  uint64_t seed = 0;
};

/// Samples token ids; deterministic for a seed on every platform (its own
/// generator, no std:: distributions). Preallocates for the vocabulary, so
/// sampling allocates nothing.
class Sampler {
public:
  Sampler(const SamplerOptions &options, int64_t vocab);

  int32_t sample(const float *logits);

  /// The index of the largest logit; ties go to the lowest index.
  static int32_t argmax(const float *logits, int64_t n);

private:
  float uniform();

  SamplerOptions options;
  int64_t vocab;
  uint64_t state;
  std::vector<int32_t> order;
  std::vector<float> probs;
};

} // namespace fmc

#endif // FMC_RUNTIME_SAMPLER_H
