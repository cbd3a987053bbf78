//===- Speculative.h - decoding with a draft model ------------------------===//
//
// Speculative decoding: a small draft model proposes K tokens one decode
// step at a time, and the target checks all of them in one prefill pass
// over [pending, d1 .. dK] with logits for every row. Greedy decoding keeps
// the longest prefix the target agrees with plus the target's own next
// token, so the text is exactly the target's alone; with a temperature,
// proposals are accepted by the standard rule (accept d with probability
// min(1, p(d)/q(d)), else draw from max(0, p - q) normalised), so the text
// follows the target's distribution.
//
// Rejected proposals are rolled back by position alone: their KV entries
// lie past the accepted text, where attention never reads, and the next
// pass overwrites them. That holds for linear caches, and for ring caches
// with K slots beyond their window (fmc-compile --max-draft-tokens K: the
// slots K proposals overwrite hold positions older than any later window),
// and needs a target whose prefill computes every row's logits; both are
// checked (and refused with what to do instead).
//
//===----------------------------------------------------------------------===//

#ifndef FMC_RUNTIME_SPECULATIVE_H
#define FMC_RUNTIME_SPECULATIVE_H

#include "runtime/Generator.h"

namespace fmc {

struct SpeculativeStats {
  /// Target passes (one per round of proposals).
  int64_t targetPasses = 0;
  int64_t proposed = 0;
  int64_t accepted = 0;
  double acceptanceRate() const {
    return proposed ? static_cast<double>(accepted) / proposed : 0.0;
  }
};

/// Whether two artifacts' tokenizers give the same ids: a draft model must
/// speak the target's vocabulary.
absl::Status checkSameVocabulary(const schema::Artifact &target,
                                 const schema::Artifact &draft);

/// Whether generateSpeculative() takes `options`: greedy or a temperature
/// only (no truncation, penalties or grammar), no logits reported. A server
/// serves other requests without the draft.
bool speculativeSupports(const GenerationOptions &options);

/// Whether `target` and `draft` can decode speculatively together with
/// `draftTokens` proposals per pass: same vocabulary size, caches that roll
/// `draftTokens` positions back (linear, or rings with that many slots
/// beyond their window), a target prefill with every row's logits.
absl::Status checkSpeculative(const Session &target, const Session &draft,
                              int draftTokens);

/// A draft model opened for a target: its artifact, which the session
/// runs, and the session.
struct DraftModel {
  std::unique_ptr<Artifact> artifact;
  std::unique_ptr<Session> session;
};

/// Opens `path` as the draft of `target` (a session on `targetArtifact`)
/// proposing `draftTokens` tokens per pass: the same tokenizer
/// (checkSameVocabulary) and caches that roll back (checkSpeculative). It
/// runs on the target's backend when it was compiled for it, else wherever
/// "auto" puts it.
absl::StatusOr<DraftModel> openDraft(const std::string &path,
                                     const Artifact &targetArtifact,
                                     const Session &target,
                                     const ArtifactOptions &artifactOptions,
                                     const BackendOptions &backendOptions,
                                     int draftTokens);

/// generate() with `draft` proposing `draftTokens` tokens per target pass.
/// Supports greedy decoding and temperature sampling (no penalties or
/// truncation, no constraint); the options are otherwise generate()'s.
absl::StatusOr<GenerationStats>
generateSpeculative(Session &target, Session &draft,
                    const std::vector<int32_t> &prompt,
                    const GenerationOptions &options,
                    const GenerationCallbacks &callbacks, int draftTokens,
                    SpeculativeStats &speculative);

} // namespace fmc

#endif // FMC_RUNTIME_SPECULATIVE_H
