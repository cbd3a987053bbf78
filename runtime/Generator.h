//===- Generator.h - prefill, then decode ---------------------------------===//
//
// One generation: the prompt through the prefill program, then one decode
// step per new token, sampling each next token from the last logits. Stops
// after the requested number of tokens, at the context's end, or when the
// model produces an end token (EOS, or BOS, which starts a new sequence),
// or when the caller asks (a stop string). A generation can continue one
// whose tokens are still in the session's KV caches (a chat's next turn).
//
//===----------------------------------------------------------------------===//

#ifndef FMC_RUNTIME_GENERATOR_H
#define FMC_RUNTIME_GENERATOR_H

#include "runtime/Sampler.h"
#include "runtime/Session.h"
#include "runtime/grammar/GrammarMatcher.h"

#include "absl/status/statusor.h"
#include "absl/types/span.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <vector>

namespace fmc {

struct GenerationOptions {
  int64_t maxNewTokens = 256;
  SamplerOptions sampling;
  /// Report the logits of every prompt position and decode step.
  bool allLogits = false;
  /// Token ids that end the generation (after being reported).
  std::vector<int32_t> endTokens;
  /// Guided generation (Constraint.h): every token is sampled among those
  /// the matcher allows, and accepted into it; the generation ends where the
  /// grammar allows nothing but its end. Not owned; null: unconstrained.
  grammar::GrammarMatcher *constraint = nullptr;
};

/// Why a generation ended.
enum class StopReason {
  MaxTokens, ///< GenerationOptions::maxNewTokens were generated.
  EndToken,  ///< The model produced one of GenerationOptions::endTokens.
  Context,   ///< The context is full.
  Caller,    ///< GenerationCallbacks::onToken returned false.
  Grammar,   ///< The constraint's text is complete; nothing may follow.
};

struct GenerationStats {
  int64_t promptTokens = 0;
  int64_t generatedTokens = 0;
  double ttftMs = 0; ///< From the start of prefill to the first token.
  double prefillMs = 0;
  double decodeMs = 0; ///< From the first token to the last.
  double prefillTokensPerS = 0;
  double decodeTokensPerS = 0;
  StopReason stop = StopReason::MaxTokens;
  /// The last generated token (-1 when none). It is sampled but not run:
  /// the caches hold the earlier tokens, the prompt and every generated
  /// token but this one, which a continuation feeds first.
  int32_t lastToken = -1;
};

struct GenerationCallbacks {
  /// Each generated token, as soon as it is sampled; returning false ends
  /// the generation there.
  std::function<bool(int32_t token)> onToken;
  /// Logits rows (only when GenerationOptions::allLogits).
  LogitsCallback onLogits;
};

/// Milliseconds since `start`: the generators' timings.
double msSince(std::chrono::steady_clock::time_point start);

/// Sets stats.decodeMs and decodeTokensPerS for a decode that started at
/// `decodeStart` and made all generated tokens but the first.
void recordDecodeTime(GenerationStats &stats,
                      std::chrono::steady_clock::time_point decodeStart);

/// Whether the generation ends with `token`, just generated and counted in
/// stats.generatedTokens: the caller's onToken declined it, it is an end
/// token, the constraint allows nothing more, or -n was reached (in that
/// order; stats.stop says which).
bool endsGeneration(int32_t token, const GenerationOptions &options,
                    const GenerationCallbacks &callbacks,
                    GenerationStats &stats);

/// Generates after `prompt`. `earlier`: tokens the session's caches already
/// hold at positions 0, 1, ... (a chat's earlier turns); the prompt then
/// runs from position earlier.size(), only it is prefilled, and the
/// penalties' window sees the earlier tokens too.
absl::StatusOr<GenerationStats>
generate(Session &session, const std::vector<int32_t> &prompt,
         const GenerationOptions &options, const GenerationCallbacks &callbacks,
         absl::Span<const int32_t> earlier = {});

} // namespace fmc

#endif // FMC_RUNTIME_GENERATOR_H
