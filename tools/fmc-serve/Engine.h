//===- Engine.h - one model serving requests one at a time ----------------===//
//
// What fmc-serve's HTTP handlers call: the artifact, its session and
// tokenizer, the chat template, and the guided-generation constraints made
// so far (a schema sent again reuses its automaton and masks). Requests are
// served one at a time under a mutex — the session has one set of KV
// caches — in arrival order; each generation starts at position 0, so no
// request sees another's tokens. LoRA adapters are models of their own
// name: a request for one fills the base's slots with it (Session::
// setAdapter) before it runs, so switching costs one write of the slots.
// With a draft model, requests it can serve decode speculatively (the same
// greedy text, fewer target passes); the others run without it.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_TOOLS_FMC_SERVE_ENGINE_H
#define FMC_TOOLS_FMC_SERVE_ENGINE_H

#include "runtime/Adapter.h"
#include "runtime/Artifact.h"
#include "runtime/Backend.h"
#include "runtime/ChatTemplate.h"
#include "runtime/Constraint.h"
#include "runtime/Generator.h"
#include "runtime/Session.h"
#include "runtime/Speculative.h"
#include "runtime/Tokenizer.h"

#include "absl/status/statusor.h"

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace fmc::serve {

struct EngineOptions {
  std::string artifact;
  std::string backend = "auto";
  BackendOptions backendOptions;
  /// --chat-template: the family to render chats with (default: the
  /// model's).
  std::string chatTemplate;
  /// --lora NAME=FILE: LoRA adapters (.fmca) served as models of their own
  /// name, in the order given.
  std::vector<std::pair<std::string, std::string>> adapters;
  /// --draft F: a draft model for speculative decoding of the requests it
  /// can serve (greedy or temperature only); --draft-tokens K per pass.
  std::string draft;
  int draftTokens = 4;
};

/// One completion to generate: a prompt text or a conversation.
struct CompletionRequest {
  std::optional<std::string> prompt;
  std::vector<ChatMessage> messages;
  int64_t maxTokens = 256;
  SamplerOptions sampling;
  std::vector<std::string> stops;
  /// GBNF the output must match (empty: free text).
  std::string gbnf;
  /// The LoRA adapter to generate with (empty: the base model).
  std::string adapter;
};

struct CompletionResult {
  std::string text;
  int64_t promptTokens = 0;
  int64_t completionTokens = 0;
  /// OpenAI's finish_reason: "stop" (an end token, a stop string, a
  /// complete grammar) or "length" (max_tokens or the context).
  std::string finishReason;
  /// Set when the client went away (onText returned false).
  bool cancelled = false;
  /// With a draft model: tokens it proposed and the target accepted (both
  /// 0 when the request ran without it), as llama.cpp's draft_n and
  /// draft_n_accepted.
  int64_t draftProposed = 0, draftAccepted = 0;
  bool drafted = false;
};

/// Request errors the client caused (HTTP 400), apart from the server's.
inline bool isClientError(const absl::Status &status) {
  return absl::IsInvalidArgument(status) || absl::IsOutOfRange(status) ||
         absl::IsFailedPrecondition(status);
}

class Engine {
public:
  static absl::StatusOr<std::unique_ptr<Engine>>
  open(const EngineOptions &options);

  /// Generates `request`; `onText` receives the text as it becomes final
  /// (whole characters, never a part of a stop string) and returns false
  /// to cancel. Waits for the requests before it.
  absl::StatusOr<CompletionResult>
  complete(const CompletionRequest &request,
           const std::function<bool(const std::string &)> &onText);

  /// The constraint of `gbnf`, made once per distinct grammar.
  absl::StatusOr<std::shared_ptr<const Constraint>>
  constraint(const std::string &gbnf);

  /// The model's name in the API: the artifact's file name without .fmc.
  const std::string &modelId() const { return id; }
  /// The adapters' names (models of their own in the API), in --lora order.
  const std::vector<std::string> &adapterIds() const { return adapterNames; }
  int64_t context() const { return session->maxContext(); }
  std::string backend() const { return session->backend(); }
  /// Why chats cannot be served (no template), or empty.
  const std::string &chatUnavailable() const { return noChat; }

private:
  Engine() = default;

  std::unique_ptr<Artifact> artifact;
  std::unique_ptr<Session> session;
  DraftModel draft;
  int draftTokens = 4;
  std::unique_ptr<Tokenizer> tokenizer;
  std::optional<ChatTemplate> chat;
  std::string noChat;
  std::string id;
  std::vector<std::string> adapterNames;
  std::map<std::string, std::unique_ptr<Adapter>> adapters;
  std::mutex run;
  std::mutex constraintsMutex;
  std::map<std::string, std::shared_ptr<const Constraint>> constraints;
  std::shared_ptr<const grammar::Vocabulary> vocabulary;
};

} // namespace fmc::serve

#endif // FMC_TOOLS_FMC_SERVE_ENGINE_H
