//===- Chat.cpp - fmc-run --interactive -----------------------------------===//
//
// The conversation lives in the session's KV cache: `transcript` holds the
// tokens it has run, and the reply's last token, sampled but not yet run,
// starts the next turn's prompt (unless it is an EOS or BOS that the
// template does not write there). A turn's prompt closes the previous reply's
// turn, holds the user's message and opens the next reply
// (ChatTemplate::nextTurn), so that the cache holds what the model's
// template renders, with the replies as the model generated them.
//
//===----------------------------------------------------------------------===//

#include "tools/fmc-run/Chat.h"

#include "runtime/ChatTemplate.h"
#include "runtime/TextStream.h"

#include "absl/strings/str_cat.h"

#include <algorithm>
#include <cstdio>
#include <string>
#include <unistd.h>
#include <vector>

namespace fmc::run {

namespace {

/// The next line of `file` without its line ending; false at the end.
bool readLine(std::FILE *file, std::string &line) {
  line.clear();
  int c;
  while ((c = std::fgetc(file)) != EOF && c != '\n')
    line.push_back(static_cast<char>(c));
  if (c == EOF && line.empty())
    return false;
  if (!line.empty() && line.back() == '\r')
    line.pop_back();
  return true;
}

bool blank(const std::string &text) {
  return text.find_first_not_of(" \t\r\v\f") == std::string::npos;
}

} // namespace

absl::Status runChat(const Options &options, Session &session,
                     const Tokenizer &tokenizer,
                     const schema::Tokenizer &table,
                     const GenerationOptions &base,
                     std::vector<ChatTurnStats> &turns) {
  absl::StatusOr<ChatTemplate> chat =
      ChatTemplate::create(table, tokenizer, options.chatTemplate);
  if (!chat.ok())
    return chat.status();
  GenerationOptions generation = base;
  generation.endTokens.clear();
  if (!options.ignoreEos)
    generation.endTokens = chat->endTokens();
  std::vector<std::string> stops = options.stops;
  if (!options.ignoreEos)
    stops.insert(stops.end(), chat->endStrings().begin(),
                 chat->endStrings().end());

  bool terminal = ::isatty(STDIN_FILENO);
  std::vector<int32_t> transcript; // The tokens in the KV cache.
  int32_t pending = -1;            // The last reply's unrun last token.
  bool replyEnded = false;
  std::string line;
  for (int turn = 0;;) {
    if (terminal) {
      std::fputs("> ", stdout);
      std::fflush(stdout);
    }
    if (!readLine(stdin, line))
      break;
    if (blank(line))
      continue;
    ++turn;

    std::vector<PromptPiece> pieces;
    if (turn == 1) {
      std::vector<ChatMessage> messages;
      if (options.system)
        messages.push_back({ChatRole::System, *options.system});
      messages.push_back({ChatRole::User, line});
      absl::StatusOr<std::vector<PromptPiece>> rendered =
          chat->render(messages, /*addGenerationPrompt=*/true);
      if (!rendered.ok())
        return rendered.status();
      pieces = std::move(*rendered);
    } else {
      pieces = chat->nextTurn(replyEnded, line);
    }
    if (options.printRendered)
      std::fprintf(stderr, "--- turn %d (%s) ---\n%s\n---\n", turn,
                   std::string(chat->name()).c_str(),
                   chat->text(pieces).c_str());
    std::vector<int32_t> prompt;
    if (pending >= 0)
      prompt.push_back(pending);
    std::vector<int32_t> ids = tokenizer.encode(pieces);
    prompt.insert(prompt.end(), ids.begin(), ids.end());

    TextStream stream(stops);
    int32_t previous = prompt.back();
    std::vector<int32_t> reply;
    GenerationCallbacks callbacks;
    callbacks.onToken = [&](int32_t token) {
      reply.push_back(token);
      std::string shown = stream.push(tokenizer.decode(previous, token));
      previous = token;
      std::fwrite(shown.data(), 1, shown.size(), stdout);
      std::fflush(stdout);
      return !stream.stoppedAt();
    };
    // Each turn samples with its own seed, derived from the one given.
    generation.sampling.seed = base.sampling.seed + turn - 1;
    absl::StatusOr<GenerationStats> stats =
        generate(session, prompt, generation, callbacks, transcript);
    std::string rest = stream.flush();
    std::fwrite(rest.data(), 1, rest.size(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
    if (!stats.ok())
      return absl::Status(
          stats.status().code(),
          absl::StrCat("turn ", turn, ": ", stats.status().message()));

    transcript.insert(transcript.end(), prompt.begin(), prompt.end());
    if (!reply.empty())
      transcript.insert(transcript.end(), reply.begin(), reply.end() - 1);
    // The next turn closes this reply's turn: after the end-of-turn token
    // (fed first) or text when the reply ended with it, whole otherwise. An
    // EOS or BOS that is not the template's end of turn is not fed.
    pending = stats->lastToken;
    std::optional<std::string> stoppedAt = stream.stoppedAt();
    replyEnded =
        (stats->stop == StopReason::EndToken &&
         pending == chat->endOfTurnToken()) ||
        (stoppedAt && std::find(chat->endStrings().begin(),
                                chat->endStrings().end(),
                                *stoppedAt) != chat->endStrings().end());
    if (stats->stop == StopReason::EndToken && !replyEnded)
      pending = -1;
    ChatTurnStats figures;
    figures.turn = turn;
    figures.promptTokens = stats->promptTokens;
    figures.position = static_cast<int64_t>(
        transcript.size() - prompt.size() -
        (reply.empty() ? 0 : reply.size() - 1));
    figures.generatedTokens = stats->generatedTokens;
    figures.ttftMs = stats->ttftMs;
    figures.prefillTokensPerS = stats->prefillTokensPerS;
    figures.decodeTokensPerS = stats->decodeTokensPerS;
    figures.stop = stats->stop;
    turns.push_back(figures);
    if (options.stats)
      std::fprintf(stderr,
                   "fmc-run: turn %d: %lld prompt tokens at position %zu, "
                   "%lld generated; prefill %.1f tokens/s, decode %.1f "
                   "tokens/s\n",
                   turn, static_cast<long long>(stats->promptTokens),
                   transcript.size() - prompt.size() -
                       (reply.empty() ? 0 : reply.size() - 1),
                   static_cast<long long>(stats->generatedTokens),
                   stats->prefillTokensPerS, stats->decodeTokensPerS);
    if (stats->stop == StopReason::Context) {
      std::fprintf(stderr,
                   "fmc-run: the conversation reached the end of the context "
                   "(%lld tokens); the chat ends\n",
                   static_cast<long long>(session.maxContext()));
      return absl::OkStatus();
    }
    if (stats->stop == StopReason::MaxTokens)
      std::fprintf(stderr,
                   "fmc-run: the reply stopped after %lld tokens (-n)\n",
                   static_cast<long long>(stats->generatedTokens));
  }
  return absl::OkStatus();
}

} // namespace fmc::run
