//===- Sampler.h - next-token choice from logits --------------------------===//
//
// The order of the steps is llama.cpp's: penalties on the raw logits, then
// top-k, top-p and min-p truncation, then temperature and the draw. Greedy
// decoding (temperature 0) applies the penalties and takes the largest.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_RUNTIME_SAMPLER_H
#define FMC_RUNTIME_SAMPLER_H

#include <cstdint>
#include <deque>
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
  /// Keep only tokens at least minP times as likely as the most likely one
  /// (before temperature, as llama.cpp); 0 keeps all.
  float minP = 0.0f;
  /// Penalties on the tokens among the last `penaltyWindow` accepted ones
  /// (prompt and generated), as llama.cpp applies them: a positive logit is
  /// divided by repeatPenalty and a negative one multiplied; presencePenalty
  /// is subtracted once and frequencyPenalty once per occurrence.
  float repeatPenalty = 1.0f;
  float presencePenalty = 0.0f;
  float frequencyPenalty = 0.0f;
  /// How many of the last accepted tokens the penalties look at (0: none).
  int32_t penaltyWindow = 64;
};

/// Samples token ids; deterministic for a seed on every platform (its own
/// generator, no std:: distributions). Preallocates for the vocabulary, so
/// sampling allocates nothing.
class Sampler {
public:
  Sampler(const SamplerOptions &options, int64_t vocab);

  int32_t sample(const float *logits);

  /// Records a token of the sequence (prompt or generated) for the
  /// penalties.
  void accept(int32_t token);

  /// The index of the largest logit; ties go to the lowest index.
  static int32_t argmax(const float *logits, int64_t n);

private:
  float uniform();
  bool penalizes() const;
  /// The logits with the penalties applied (in `penalized`).
  const float *applyPenalties(const float *logits);

  SamplerOptions options;
  int64_t vocab;
  uint64_t state;
  std::vector<int32_t> order;
  std::vector<float> probs;
  std::vector<float> penalized;
  /// The penalty window and each token's count in it.
  std::deque<int32_t> recent;
  std::vector<int32_t> counts;
};

} // namespace fmc

#endif // FMC_RUNTIME_SAMPLER_H
