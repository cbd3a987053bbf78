//===- Perplexity.h - llama-perplexity's windows and estimate -------------===//
//
// The arithmetic of llama.cpp's tools/perplexity (perplexity()), kept apart
// from running the model so that it is stated once: how a token sequence is
// cut into windows, which positions of a window are scored, the negative
// log-likelihood of one logits row (llama.cpp's log_softmax: the maximum in
// f32, the sum of exponentials in f64), and the running estimate with its
// standard error.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_TOOLS_FMC_PERPLEXITY_PERPLEXITY_H
#define FMC_TOOLS_FMC_PERPLEXITY_PERPLEXITY_H

#include <cstdint>
#include <optional>

namespace fmc::perplexity {

/// Non-overlapping windows of `ctx` tokens over `tokens` tokens; the tail
/// after the last whole window is not used.
struct WindowPlan {
  int64_t ctx = 0;
  int64_t windows = 0;

  static WindowPlan of(int64_t tokens, int64_t ctx) {
    return {ctx, tokens / ctx};
  }
  /// The first position whose logits are scored: every scored token has at
  /// least ctx/2 tokens of context.
  int64_t firstScored() const { return ctx / 2; }
  /// The logits of positions firstScored() .. ctx - 2 predict the tokens at
  /// positions firstScored() + 1 .. ctx - 1.
  int64_t scoredPerWindow() const { return ctx - firstScored() - 1; }
};

/// -log softmax(row)[token] over `vocab` logits, as llama.cpp computes it.
double negativeLogLikelihood(const float *row, int64_t vocab, int32_t token);

/// Sums of the scored tokens' negative log-likelihoods.
class Estimate {
public:
  void add(double nll) {
    sum += nll;
    sumSquares += nll * nll;
    ++n;
  }
  int64_t count() const { return n; }
  double meanNll() const { return sum / n; }
  double ppl() const;
  /// PPL times the standard error of the mean NLL; none with fewer than two
  /// tokens or no spread (llama.cpp then reports an error instead).
  std::optional<double> uncertainty() const;

private:
  double sum = 0, sumSquares = 0;
  int64_t n = 0;
};

} // namespace fmc::perplexity

#endif // FMC_TOOLS_FMC_PERPLEXITY_PERPLEXITY_H
