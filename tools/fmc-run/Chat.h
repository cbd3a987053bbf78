//===- Chat.h - fmc-run --interactive -------------------------------------===//

#ifndef FMC_TOOLS_FMC_RUN_CHAT_H
#define FMC_TOOLS_FMC_RUN_CHAT_H

#include "runtime/Generator.h"
#include "runtime/Session.h"
#include "runtime/Tokenizer.h"
#include "tools/fmc-run/Options.h"

#include "absl/status/status.h"

namespace fmc::run {

/// Chats on standard input until its end: each line is a user message,
/// rendered with the model's chat template (or --chat-template's), and the
/// reply streams to stdout. The session's KV cache keeps the conversation:
/// each turn prefills only its own tokens. `generation` holds the sampling
/// options; the end tokens are the template's.
absl::Status runChat(const Options &options, Session &session,
                     const Tokenizer &tokenizer,
                     const schema::Tokenizer &table,
                     const GenerationOptions &generation);

} // namespace fmc::run

#endif // FMC_TOOLS_FMC_RUN_CHAT_H
