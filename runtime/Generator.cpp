//===- Generator.cpp - prefill, then decode -------------------------------===//

#include "runtime/Generator.h"

#include "absl/strings/str_cat.h"

#include <algorithm>
#include <chrono>
#include <cstring>

namespace fmc {

namespace {
double msSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now() - start)
      .count();
}
} // namespace

absl::StatusOr<GenerationStats>
generate(Session &session, const std::vector<int32_t> &prompt,
         const GenerationOptions &options, const GenerationCallbacks &callbacks,
         absl::Span<const int32_t> earlier) {
  int64_t vocab = session.vocab(), maxContext = session.maxContext();
  GenerationStats stats;
  int64_t n = prompt.size(), first = earlier.size();
  stats.promptTokens = n;
  if (n == 0)
    return absl::InvalidArgumentError(
        "the prompt is empty and the model has no BOS token");
  if (first + n > maxContext)
    return absl::OutOfRangeError(
        first == 0 ? absl::StrCat("the prompt has ", n,
                                  " tokens but the model's context is ",
                                  maxContext, " tokens")
                   : absl::StrCat("the prompt has ", n, " tokens after ",
                                  first, " earlier ones but the model's "
                                  "context is ", maxContext, " tokens"));
  for (int32_t id : prompt)
    if (id < 0 || id >= vocab)
      return absl::InvalidArgumentError(
          absl::StrCat("prompt token id ", id, " is outside the vocabulary of ",
                       vocab, " tokens"));

  Sampler sampler(options.sampling, vocab);
  for (int32_t id : earlier)
    sampler.accept(id);
  for (int32_t id : prompt)
    sampler.accept(id);
  std::vector<float> last(vocab);
  auto isEnd = [&](int32_t token) {
    return std::find(options.endTokens.begin(), options.endTokens.end(),
                     token) != options.endTokens.end();
  };

  auto start = std::chrono::steady_clock::now();
  absl::Status status = session.prefill(
      prompt, first, options.allLogits, [&](int64_t position, const float *row) {
        if (options.allLogits && callbacks.onLogits)
          callbacks.onLogits(position, row);
        if (position == first + n - 1)
          std::memcpy(last.data(), row, vocab * sizeof(float));
      });
  if (!status.ok())
    return status;
  if (options.maxNewTokens <= 0) {
    stats.prefillMs = stats.ttftMs = msSince(start);
    stats.prefillTokensPerS = n / (stats.prefillMs / 1000.0);
    return stats;
  }
  int32_t token = sampler.sample(last.data());
  sampler.accept(token);
  stats.lastToken = token;
  stats.ttftMs = stats.prefillMs = msSince(start);
  stats.prefillTokensPerS = n / (stats.prefillMs / 1000.0);
  stats.generatedTokens = 1;
  // Whether the token just generated ends the generation, and why.
  auto ends = [&]() {
    if (callbacks.onToken && !callbacks.onToken(token))
      stats.stop = StopReason::Caller;
    else if (isEnd(token))
      stats.stop = StopReason::EndToken;
    else if (stats.generatedTokens >= options.maxNewTokens)
      stats.stop = StopReason::MaxTokens;
    else
      return false;
    return true;
  };

  auto decodeStart = std::chrono::steady_clock::now();
  int64_t position = first + n;
  while (!ends()) {
    if (position >= maxContext) {
      stats.stop = StopReason::Context;
      break;
    }
    absl::StatusOr<const float *> logits = session.decode(token, position);
    if (!logits.ok())
      return logits.status();
    if (options.allLogits && callbacks.onLogits)
      callbacks.onLogits(position, *logits);
    token = sampler.sample(*logits);
    sampler.accept(token);
    stats.lastToken = token;
    ++position;
    ++stats.generatedTokens;
  }
  stats.decodeMs = msSince(decodeStart);
  int64_t decoded = stats.generatedTokens - 1;
  if (decoded > 0 && stats.decodeMs > 0)
    stats.decodeTokensPerS = decoded / (stats.decodeMs / 1000.0);
  return stats;
}

} // namespace fmc
