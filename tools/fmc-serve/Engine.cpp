//===- Engine.cpp - one model serving requests one at a time --------------===//

#include "tools/fmc-serve/Engine.h"

#include "runtime/Speculative.h"
#include "runtime/TextStream.h"

#include "absl/strings/str_cat.h"

#include <algorithm>

namespace fmc::serve {

absl::StatusOr<std::unique_ptr<Engine>>
Engine::open(const EngineOptions &options) {
  std::unique_ptr<Engine> engine(new Engine());
  absl::StatusOr<std::unique_ptr<Artifact>> artifact =
      Artifact::open(options.artifact);
  if (!artifact.ok())
    return artifact.status();
  engine->artifact = std::move(*artifact);
  const schema::Artifact &root = engine->artifact->root();
  if (!root.tokenizer())
    return absl::FailedPreconditionError(
        absl::StrCat("'", options.artifact,
                     "' has no tokenizer; a server takes and returns text"));
  absl::StatusOr<std::unique_ptr<Tokenizer>> tokenizer =
      Tokenizer::create(*root.tokenizer());
  if (!tokenizer.ok())
    return tokenizer.status();
  engine->tokenizer = std::move(*tokenizer);
  absl::StatusOr<std::unique_ptr<Session>> session = Session::open(
      *engine->artifact, options.backend, options.backendOptions);
  if (!session.ok())
    return session.status();
  engine->session = std::move(*session);

  absl::StatusOr<ChatTemplate> chat = ChatTemplate::create(
      *root.tokenizer(), *engine->tokenizer, options.chatTemplate);
  if (chat.ok())
    engine->chat.emplace(std::move(*chat));
  else
    engine->noChat = absl::StrCat(
        "this model cannot chat: ", chat.status().message(),
        ". Start fmc-serve with --chat-template NAME, or use /v1/completions");

  // The grammar's end tokens: EOS and the chat's end of turn, so that a
  // guided reply may end wherever its grammar does in either endpoint.
  std::vector<int32_t> ends;
  if (engine->tokenizer->eos() >= 0)
    ends.push_back(engine->tokenizer->eos());
  if (engine->chat && engine->chat->endOfTurnToken() >= 0)
    ends.push_back(engine->chat->endOfTurnToken());
  engine->vocabulary = grammarVocabulary(*engine->tokenizer, ends);

  std::string name = options.artifact.substr(options.artifact.rfind('/') + 1);
  if (name.size() > 4 && name.compare(name.size() - 4, 4, ".fmc") == 0)
    name.resize(name.size() - 4);
  engine->id = name;

  if (!options.draft.empty()) {
    absl::StatusOr<DraftModel> draft =
        openDraft(options.draft, *engine->artifact, *engine->session, {},
                  options.backendOptions, options.draftTokens);
    if (!draft.ok())
      return absl::Status(draft.status().code(),
                          absl::StrCat("--draft: ", draft.status().message()));
    engine->draft = std::move(*draft);
    engine->draftTokens = options.draftTokens;
  }

  for (const auto &[adapterName, file] : options.adapters) {
    if (adapterName == engine->id || engine->adapters.count(adapterName))
      return absl::InvalidArgumentError(absl::StrCat(
          "--lora ", adapterName, "=", file, ": the name '", adapterName,
          "' is taken (by the base model or another adapter)"));
    absl::StatusOr<std::unique_ptr<Adapter>> adapter =
        Adapter::open(file, *engine->artifact);
    if (!adapter.ok())
      return absl::Status(adapter.status().code(),
                          absl::StrCat("--lora ", adapterName, ": ",
                                       adapter.status().message()));
    engine->adapters[adapterName] = std::move(*adapter);
    engine->adapterNames.push_back(adapterName);
  }
  return engine;
}

absl::StatusOr<std::shared_ptr<const Constraint>>
Engine::constraint(const std::string &gbnf) {
  std::lock_guard<std::mutex> lock(constraintsMutex);
  if (auto it = constraints.find(gbnf); it != constraints.end())
    return it->second;
  absl::StatusOr<std::shared_ptr<const Constraint>> made =
      Constraint::fromGbnf(gbnf, vocabulary);
  if (!made.ok())
    return made.status();
  // A bound on what clients can make the server keep.
  constexpr size_t kMaxConstraints = 64;
  if (constraints.size() >= kMaxConstraints)
    constraints.clear();
  constraints.emplace(gbnf, *made);
  return *made;
}

absl::StatusOr<CompletionResult>
Engine::complete(const CompletionRequest &request,
                 const std::function<bool(const std::string &)> &onText) {
  GenerationOptions generation;
  generation.maxNewTokens = request.maxTokens;
  generation.sampling = request.sampling;
  std::vector<std::string> stops = request.stops;
  std::vector<int32_t> prompt;
  if (request.prompt) {
    prompt = tokenizer->encodePrompt(*request.prompt, /*addSpecial=*/true,
                                     /*parseSpecial=*/false);
    if (prompt.empty() && tokenizer->bos() >= 0)
      prompt.push_back(tokenizer->bos());
    if (tokenizer->eos() >= 0)
      generation.endTokens.push_back(tokenizer->eos());
  } else {
    if (!chat)
      return absl::FailedPreconditionError(noChat);
    absl::StatusOr<std::vector<PromptPiece>> pieces =
        chat->render(request.messages, /*addGenerationPrompt=*/true);
    if (!pieces.ok())
      return absl::InvalidArgumentError(pieces.status().message());
    prompt = tokenizer->encode(*pieces);
    generation.endTokens = chat->endTokens();
    stops.insert(stops.end(), chat->endStrings().begin(),
                 chat->endStrings().end());
  }
  if (prompt.empty())
    return absl::InvalidArgumentError("the prompt is empty");
  if (static_cast<int64_t>(prompt.size()) >= context())
    return absl::OutOfRangeError(absl::StrCat(
        "the prompt has ", prompt.size(), " tokens; this model's context is ",
        context(), " tokens, and a completion needs at least one more"));

  std::unique_ptr<grammar::GrammarMatcher> matcher;
  if (!request.gbnf.empty()) {
    absl::StatusOr<std::shared_ptr<const Constraint>> made =
        constraint(request.gbnf);
    if (!made.ok())
      return absl::InvalidArgumentError(made.status().message());
    matcher = (*made)->start();
    generation.constraint = matcher.get();
    for (int32_t end : vocabulary->endTokens())
      if (std::find(generation.endTokens.begin(), generation.endTokens.end(),
                    end) == generation.endTokens.end())
        generation.endTokens.push_back(end);
  }

  const Adapter *adapter = nullptr;
  if (!request.adapter.empty()) {
    auto it = adapters.find(request.adapter);
    if (it == adapters.end())
      return absl::InvalidArgumentError(
          absl::StrCat("no adapter '", request.adapter, "'"));
    adapter = it->second.get();
  }

  std::lock_guard<std::mutex> lock(run);
  // Every generation starts at position 0: nothing cached outlives it.
  if (absl::Status s = session->setAdapter(adapter); !s.ok())
    return s;
  CompletionResult result;
  result.promptTokens = static_cast<int64_t>(prompt.size());
  TextStream stream(stops);
  int32_t previous = prompt.back();
  GenerationCallbacks callbacks;
  callbacks.onToken = [&](int32_t token) {
    std::string shown = stream.push(tokenizer->decode(previous, token));
    previous = token;
    ++result.completionTokens;
    result.text += shown;
    if (!shown.empty() && !onText(shown)) {
      result.cancelled = true;
      return false;
    }
    return !stream.stoppedAt();
  };
  SpeculativeStats speculative;
  result.drafted = draft.session && speculativeSupports(generation);
  absl::StatusOr<GenerationStats> stats =
      result.drafted
          ? generateSpeculative(*session, *draft.session, prompt, generation,
                                callbacks, draftTokens, speculative)
          : generate(*session, prompt, generation, callbacks);
  result.draftProposed = speculative.proposed;
  result.draftAccepted = speculative.accepted;
  if (!stats.ok())
    return stats.status();
  if (!result.cancelled) {
    std::string rest = stream.flush();
    result.text += rest;
    if (!rest.empty())
      onText(rest);
  }
  bool hitLength = stats->stop == StopReason::MaxTokens ||
                   stats->stop == StopReason::Context;
  result.finishReason = hitLength ? "length" : "stop";
  return result;
}

} // namespace fmc::serve
