//===- Chat.h - fmc-run --interactive -------------------------------------===//

#ifndef FMC_TOOLS_FMC_RUN_CHAT_H
#define FMC_TOOLS_FMC_RUN_CHAT_H

#include "runtime/Generator.h"
#include "runtime/Session.h"
#include "runtime/Tokenizer.h"
#include "tools/fmc-run/Options.h"

#include "absl/status/status.h"

#include <vector>

namespace fmc::run {

/// What one turn of a chat did, for --stats-json.
struct ChatTurnStats {
  int turn = 0;
  int64_t promptTokens = 0;
  /// Where the turn's prompt starts in the conversation (the KV cache).
  int64_t position = 0;
  int64_t generatedTokens = 0;
  double ttftMs = 0, prefillTokensPerS = 0, decodeTokensPerS = 0;
  StopReason stop = StopReason::MaxTokens;
};

/// Chats on standard input until its end: each line is a user message,
/// rendered with the model's chat template (or --chat-template's), and the
/// reply streams to stdout. The session's KV cache keeps the conversation:
/// each turn prefills only its own tokens. `generation` holds the sampling
/// options; the end tokens are the template's. Each turn's figures are
/// appended to `turns`.
absl::Status runChat(const Options &options, Session &session,
                     const Tokenizer &tokenizer,
                     const schema::Tokenizer &table,
                     const GenerationOptions &generation,
                     std::vector<ChatTurnStats> &turns);

} // namespace fmc::run

#endif // FMC_TOOLS_FMC_RUN_CHAT_H
