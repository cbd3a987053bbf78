//===- Perplexity.cpp - llama-perplexity's windows and estimate -----------===//

#include "tools/fmc-perplexity/Perplexity.h"

#include <algorithm>
#include <cmath>

namespace fmc::perplexity {

double negativeLogLikelihood(const float *row, int64_t vocab, int32_t token) {
  // The same precisions as llama.cpp's log_softmax, so that both tools agree
  // to the last printed digit on the same logits.
  float maxLogit = row[0];
  for (int64_t i = 1; i < vocab; ++i)
    maxLogit = std::max(maxLogit, row[i]);
  double sumExp = 0.0;
  for (int64_t i = 0; i < vocab; ++i)
    sumExp += std::exp(row[i] - maxLogit);
  return -(static_cast<double>(row[token] - maxLogit) - std::log(sumExp));
}

double Estimate::ppl() const { return std::exp(meanNll()); }

std::optional<double> Estimate::uncertainty() const {
  if (n < 2)
    return std::nullopt;
  double mean = meanNll();
  double variance = sumSquares / n - mean * mean;
  if (!(variance > 0))
    return std::nullopt;
  return std::sqrt(variance / (n - 1)) * ppl();
}

} // namespace fmc::perplexity
