//===- Speculative.cpp - decoding with a draft model ----------------------===//

#include "runtime/Speculative.h"

#include "absl/strings/str_cat.h"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace fmc {

namespace {

/// softmax(logits / temperature).
void probabilities(const float *logits, int64_t vocab, float temperature,
                   std::vector<float> &out) {
  out.resize(vocab);
  float top = *std::max_element(logits, logits + vocab);
  double sum = 0;
  for (int64_t t = 0; t < vocab; ++t)
    sum += out[t] = std::exp((logits[t] - top) / temperature);
  for (float &p : out)
    p = static_cast<float>(p / sum);
}

/// A token drawn from `weights` (not necessarily normalised).
int32_t draw(const std::vector<float> &weights, double u) {
  double sum = 0;
  for (float w : weights)
    sum += w;
  double target = u * sum, running = 0;
  for (size_t t = 0; t < weights.size(); ++t) {
    running += weights[t];
    if (running > target && weights[t] > 0)
      return static_cast<int32_t>(t);
  }
  // Rounding: the last token with weight.
  for (size_t t = weights.size(); t-- > 0;)
    if (weights[t] > 0)
      return static_cast<int32_t>(t);
  return 0;
}

} // namespace

absl::Status checkSpeculative(const Session &target, const Session &draft,
                              int draftTokens) {
  if (target.vocab() != draft.vocab())
    return absl::InvalidArgumentError(absl::StrCat(
        "the draft's vocabulary has ", draft.vocab(),
        " tokens and the target's ", target.vocab(), "; they must match"));
  if (target.prefillLogitsLastOnly())
    return absl::FailedPreconditionError(
        "the target's prefill computes the last position's logits only (its "
        "KV-sharing layers skip the others); speculative decoding checks "
        "every drafted token: compile the target with "
        "--prefill-all-positions");
  // Rejected proposals stay in the caches past the text: a ring must not
  // have lost, to them, positions a later window sees.
  for (const Session *s : {&target, &draft})
    if (s->rollbackPositions() < draftTokens)
      return absl::FailedPreconditionError(absl::StrCat(
          "the ", s == &target ? "target" : "draft",
          " has ring KV caches (sliding-window layers) with ",
          s->rollbackPositions(), " slots beyond their window, which ",
          draftTokens,
          " rejected draft tokens would overwrite; compile it with "
          "--max-draft-tokens ",
          draftTokens, " (or more)"));
  return absl::OkStatus();
}

absl::Status checkSameVocabulary(const schema::Artifact &target,
                                 const schema::Artifact &draft) {
  const schema::Tokenizer *a = target.tokenizer();
  const schema::Tokenizer *b = draft.tokenizer();
  if (!a || !b)
    return (a || b) ? absl::InvalidArgumentError(
                          "one of the target and the draft has a tokenizer "
                          "and the other none")
                    : absl::OkStatus();
  if (a->kind() != b->kind() || a->tokens()->size() != b->tokens()->size())
    return absl::InvalidArgumentError(absl::StrCat(
        "the draft's tokenizer (", b->tokens()->size(),
        " tokens) is not the target's (", a->tokens()->size(), " tokens)"));
  for (uint32_t i = 0; i < a->tokens()->size(); ++i)
    if (a->tokens()->Get(i)->string_view() != b->tokens()->Get(i)->string_view())
      return absl::InvalidArgumentError(absl::StrCat(
          "the draft's tokenizer differs from the target's at token ", i));
  return absl::OkStatus();
}

absl::StatusOr<DraftModel> openDraft(const std::string &path,
                                     const Artifact &targetArtifact,
                                     const Session &target,
                                     const ArtifactOptions &artifactOptions,
                                     const BackendOptions &backendOptions,
                                     int draftTokens) {
  DraftModel draft;
  absl::StatusOr<std::unique_ptr<Artifact>> artifact =
      Artifact::open(path, artifactOptions);
  if (!artifact.ok())
    return artifact.status();
  draft.artifact = std::move(*artifact);
  if (absl::Status s = checkSameVocabulary(targetArtifact.root(),
                                           draft.artifact->root());
      !s.ok())
    return s;
  std::string backend = draft.artifact->hasTarget(target.backend())
                            ? target.backend()
                            : "auto";
  absl::StatusOr<std::unique_ptr<Session>> session =
      Session::open(*draft.artifact, backend, backendOptions);
  if (!session.ok())
    return session.status();
  draft.session = std::move(*session);
  if (absl::Status s = checkSpeculative(target, *draft.session, draftTokens);
      !s.ok())
    return s;
  return draft;
}

bool speculativeSupports(const GenerationOptions &options) {
  const SamplerOptions &sampling = options.sampling;
  return sampling.topK <= 0 && sampling.topP >= 1.0f && sampling.minP <= 0 &&
         sampling.repeatPenalty == 1.0f && sampling.presencePenalty == 0 &&
         sampling.frequencyPenalty == 0 && !options.constraint &&
         !options.allLogits;
}

absl::StatusOr<GenerationStats>
generateSpeculative(Session &target, Session &draft,
                    const std::vector<int32_t> &prompt,
                    const GenerationOptions &options,
                    const GenerationCallbacks &callbacks, int draftTokens,
                    SpeculativeStats &speculative) {
  if (absl::Status s = checkSpeculative(target, draft, draftTokens); !s.ok())
    return s;
  const SamplerOptions &sampling = options.sampling;
  if (!speculativeSupports(options))
    return absl::InvalidArgumentError(
        "with a draft model, sampling takes a temperature only (no top-k, "
        "top-p, min-p, penalties or grammar) and logits are not reported");
  if (draftTokens < 1)
    return absl::InvalidArgumentError("draft tokens must be at least 1");
  int64_t vocab = target.vocab();
  int64_t n = static_cast<int64_t>(prompt.size());
  int64_t context = std::min(target.maxContext(), draft.maxContext());
  GenerationStats stats;
  stats.promptTokens = n;
  if (n == 0)
    return absl::InvalidArgumentError(
        "the prompt is empty and the model has no BOS token");
  if (n > context)
    return absl::OutOfRangeError(absl::StrCat(
        "the prompt has ", n, " tokens but the context is ", context,
        " tokens"));

  bool greedy = sampling.temperature == 0.0f;
  uint64_t state = sampling.seed * 0x9E3779B97F4A7C15ull + 1;
  auto uniform = [&]() {
    // xorshift64*: the same stream on every platform.
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return static_cast<double>((state * 0x2545F4914F6CDD1Dull) >> 11) /
           static_cast<double>(1ull << 53);
  };
  std::vector<float> p, scratch;
  auto pick = [&](const float *logits) {
    if (greedy)
      return Sampler::argmax(logits, vocab);
    probabilities(logits, vocab, sampling.temperature, p);
    return draw(p, uniform());
  };
  // Reports a committed token; true when the generation ends with it.
  auto emit = [&](int32_t token) {
    ++stats.generatedTokens;
    stats.lastToken = token;
    return endsGeneration(token, options, callbacks, stats);
  };

  auto start = std::chrono::steady_clock::now();
  std::vector<float> last(vocab);
  if (absl::Status s = target.prefill(
          prompt, 0, false,
          [&](int64_t, const float *row) {
            std::copy(row, row + vocab, last.begin());
          });
      !s.ok())
    return s;
  if (absl::Status s = draft.prefill(prompt, 0, false, nullptr); !s.ok())
    return s;
  stats.prefillMs = stats.ttftMs = msSince(start);
  stats.prefillTokensPerS = n / (stats.prefillMs / 1000.0);
  if (options.maxNewTokens <= 0)
    return stats;

  // The committed text; its last token (pending) is not run yet.
  std::vector<int32_t> text = prompt;
  int32_t pending = pick(last.data());
  text.push_back(pending);
  auto decodeStart = std::chrono::steady_clock::now();
  if (emit(pending))
    return stats;
  int64_t position = n;   // where `pending` goes
  int64_t draftValid = n; // the draft's cache holds positions < draftValid

  std::vector<std::vector<float>> q;
  std::vector<int32_t> proposal;
  std::vector<std::vector<float>> rows;
  while (true) {
    int64_t k = std::min<int64_t>(draftTokens, context - position - 1);
    if (k <= 0) {
      stats.stop = StopReason::Context;
      if (position < context) {
        // Room for one more step: decode it plainly.
        absl::StatusOr<const float *> logits = target.decode(pending, position);
        if (!logits.ok())
          return logits.status();
        int32_t token = pick(*logits);
        text.push_back(token);
        if (!emit(token))
          stats.stop = StopReason::Context;
      }
      break;
    }
    // The draft catches up with the committed text, then proposes.
    if (draftValid < position) {
      std::vector<int32_t> missing(text.begin() + draftValid,
                                   text.begin() + position);
      if (absl::Status s = draft.prefill(missing, draftValid, false, nullptr);
          !s.ok())
        return s;
    }
    proposal.assign(1, pending);
    q.resize(k);
    for (int64_t i = 0; i < k; ++i) {
      absl::StatusOr<const float *> logits =
          draft.decode(proposal.back(), position + i);
      if (!logits.ok())
        return logits.status();
      int32_t d;
      if (greedy) {
        d = Sampler::argmax(*logits, vocab);
      } else {
        probabilities(*logits, vocab, sampling.temperature, q[i]);
        d = draw(q[i], uniform());
      }
      proposal.push_back(d);
    }
    // The target's logits after pending and each proposal, in one pass.
    rows.resize(k + 1);
    if (absl::Status s = target.prefill(
            proposal, position, true,
            [&](int64_t at, const float *row) {
              rows[at - position].assign(row, row + vocab);
            });
        !s.ok())
      return s;
    ++speculative.targetPasses;
    speculative.proposed += k;

    int64_t accepted = 0;
    int32_t next = -1;
    for (; accepted < k; ++accepted) {
      int32_t d = proposal[accepted + 1];
      const float *row = rows[accepted].data();
      if (greedy) {
        int32_t want = Sampler::argmax(row, vocab);
        if (want != d) {
          next = want;
          break;
        }
        continue;
      }
      probabilities(row, vocab, sampling.temperature, p);
      if (uniform() * q[accepted][d] < p[d])
        continue;
      // Rejected: draw from the residual max(0, p - q).
      scratch.resize(vocab);
      for (int64_t t = 0; t < vocab; ++t)
        scratch[t] = std::max(0.0f, p[t] - q[accepted][t]);
      next = draw(scratch, uniform());
      break;
    }
    if (next < 0)
      next = pick(rows[k].data()); // every proposal accepted: a bonus token
    speculative.accepted += accepted;

    bool done = false;
    for (int64_t i = 1; i <= accepted && !done; ++i) {
      text.push_back(proposal[i]);
      done = emit(proposal[i]);
    }
    if (!done) {
      text.push_back(next);
      done = emit(next);
    }
    // The draft ran pending and proposals 1..k-1; those still in the text
    // stay valid.
    draftValid = position + std::min<int64_t>(accepted + 1, k);
    position += accepted + 1;
    pending = next;
    if (done)
      break;
  }
  recordDecodeTime(stats, decodeStart);
  return stats;
}

} // namespace fmc
