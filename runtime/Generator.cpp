//===- Generator.cpp - prefill, then decode -------------------------------===//

#include "runtime/Generator.h"

#include "absl/strings/str_cat.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <limits>

namespace fmc {

double msSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now() - start)
      .count();
}

void recordDecodeTime(GenerationStats &stats,
                      std::chrono::steady_clock::time_point decodeStart) {
  stats.decodeMs = msSince(decodeStart);
  // The first token came from prefill: decode made the others.
  int64_t decoded = stats.generatedTokens - 1;
  if (decoded > 0 && stats.decodeMs > 0)
    stats.decodeTokensPerS = decoded / (stats.decodeMs / 1000.0);
}

bool endsGeneration(int32_t token, const GenerationOptions &options,
                    const GenerationCallbacks &callbacks,
                    GenerationStats &stats) {
  if (callbacks.onToken && !callbacks.onToken(token))
    stats.stop = StopReason::Caller;
  else if (std::find(options.endTokens.begin(), options.endTokens.end(),
                     token) != options.endTokens.end())
    stats.stop = StopReason::EndToken;
  else if (options.constraint && options.constraint->mustEnd())
    stats.stop = StopReason::Grammar;
  else if (stats.generatedTokens >= options.maxNewTokens)
    stats.stop = StopReason::MaxTokens;
  else
    return false;
  return true;
}

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
  // Under a constraint, the token is drawn from the allowed ones only.
  std::vector<float> masked;
  std::vector<uint64_t> allowed;
  auto pick = [&](const float *logits) -> absl::StatusOr<int32_t> {
    if (!options.constraint)
      return sampler.sample(logits);
    options.constraint->allowedTokens(allowed);
    masked.assign(logits, logits + vocab);
    bool any = false;
    // A word at a time: most words of a mask are all allowed or none.
    const float never = -std::numeric_limits<float>::infinity();
    for (int64_t word = 0; word * 64 < vocab; ++word) {
      uint64_t bits = word < static_cast<int64_t>(allowed.size())
                          ? allowed[word]
                          : 0;
      any |= bits != 0;
      if (bits == ~uint64_t{0})
        continue;
      int64_t end = std::min<int64_t>(vocab, word * 64 + 64);
      for (int64_t t = word * 64; t < end; ++t)
        if (!(bits >> (t - word * 64) & 1))
          masked[t] = never;
    }
    if (!any)
      return absl::FailedPreconditionError(absl::StrCat(
          "the grammar allows no token of the vocabulary after ",
          stats.generatedTokens, " generated tokens"));
    int32_t token = sampler.sample(masked.data());
    if (absl::Status s = options.constraint->accept(token); !s.ok())
      return absl::InternalError(absl::StrCat("sampled a token the grammar "
                                              "does not allow: ",
                                              s.message()));
    return token;
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
  absl::StatusOr<int32_t> firstToken = pick(last.data());
  if (!firstToken.ok())
    return firstToken.status();
  int32_t token = *firstToken;
  sampler.accept(token);
  stats.lastToken = token;
  stats.ttftMs = stats.prefillMs = msSince(start);
  stats.prefillTokensPerS = n / (stats.prefillMs / 1000.0);
  stats.generatedTokens = 1;
  // Whether the token just generated ends the generation, and why.
  auto ends = [&]() {
    return endsGeneration(token, options, callbacks, stats);
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
    absl::StatusOr<int32_t> next = pick(*logits);
    if (!next.ok())
      return next.status();
    token = *next;
    sampler.accept(token);
    stats.lastToken = token;
    ++position;
    ++stats.generatedTokens;
  }
  recordDecodeTime(stats, decodeStart);
  return stats;
}

} // namespace fmc
