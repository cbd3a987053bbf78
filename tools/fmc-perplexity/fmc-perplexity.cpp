//===- fmc-perplexity.cpp - perplexity of a compiled model over a text ----===//
//
// Tokenizes a text, runs it window by window through a session and scores
// the second half of every window as llama-perplexity does (Perplexity.h;
// --help states the procedure). Logits come from the prefill program for
// every scored position at once; an artifact whose prefill computes the
// last position only (KV sharing without --prefill-all-positions) has no
// such rows, so its scored positions run one by one through the decode
// program, which computes every layer for its token. Every failure is one
// "fmc-perplexity: error: ..." line and exit status 1.
//
//===----------------------------------------------------------------------===//

#include "runtime/Artifact.h"
#include "runtime/ArtifactFormat.h"
#include "runtime/Session.h"
#include "runtime/Tokenizer.h"
#include "support/Version.h"
#include "tools/common/TextFile.h"
#include "tools/common/TextFormat.h"
#include "tools/fmc-perplexity/Options.h"
#include "tools/fmc-perplexity/Perplexity.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

using namespace fmc::perplexity;

int fail(const absl::Status &status) {
  std::fprintf(stderr, "fmc-perplexity: error: %s\n",
               std::string(status.message()).c_str());
  return 1;
}

/// The text of `path`; one trailing newline is dropped, as llama.cpp's -f
/// does.
absl::StatusOr<std::string> readText(const std::string &path) {
  absl::StatusOr<std::string> text = fmc::tools::readTextFile(path, "text file");
  if (text.ok() && !text->empty() && text->back() == '\n')
    text->pop_back();
  return text;
}

struct WindowResult {
  double ppl = 0;
  double runningPpl = 0;
};

/// Runs window `tokens` (ctx tokens from position 0) and adds its scored
/// tokens to `total` and `window`.
absl::Status scoreWindow(fmc::Session &session,
                         const std::vector<int32_t> &tokens,
                         const WindowPlan &plan, int64_t batch,
                         Estimate &total, Estimate &window) {
  int64_t vocab = session.vocab(), first = plan.firstScored();
  // The last position's logits would predict past the window: it is only
  // a target, never run.
  int64_t end = plan.ctx - 1;
  auto score = [&](int64_t position, const float *row) {
    double nll = negativeLogLikelihood(row, vocab, tokens[position + 1]);
    total.add(nll);
    window.add(nll);
  };
  auto span = [&](int64_t from, int64_t to) {
    return absl::MakeConstSpan(tokens.data() + from, to - from);
  };
  // The first half only fills the caches: no logits are read back.
  for (int64_t from = 0; from < first; from += batch)
    if (absl::Status s = session.prefill(
            span(from, std::min(from + batch, first)), from,
            /*allLogits=*/false, nullptr);
        !s.ok())
      return s;
  if (session.prefillLogitsLastOnly()) {
    for (int64_t position = first; position < end; ++position) {
      absl::StatusOr<const float *> row =
          session.decode(tokens[position], position);
      if (!row.ok())
        return row.status();
      score(position, *row);
    }
    return absl::OkStatus();
  }
  for (int64_t from = first; from < end; from += batch)
    if (absl::Status s =
            session.prefill(span(from, std::min(from + batch, end)), from,
                            /*allLogits=*/true, score);
        !s.ok())
      return s;
  return absl::OkStatus();
}

} // namespace

int main(int argc, char **argv) {
  absl::StatusOr<Options> parsed = parseOptions(argc, argv);
  if (!parsed.ok())
    return fail(parsed.status());
  const Options &options = *parsed;
  if (options.help) {
    std::fputs(usage(), stdout);
    return 0;
  }
  if (options.version) {
    std::printf("%s, reads .fmc artifact format version %u\n",
                fmc::versionLine("fmc-perplexity").c_str(), fmc::kArtifactFormatVersion);
    return 0;
  }

  absl::StatusOr<std::string> text = readText(options.textFile);
  if (!text.ok())
    return fail(text.status());
  // Loaded as fmc-run loads it by default: copied, so the weights' checksum
  // is checked too (a flipped weight byte would shift the numbers quietly).
  absl::StatusOr<std::unique_ptr<fmc::Artifact>> artifact =
      fmc::Artifact::open(options.artifact);
  if (!artifact.ok())
    return fail(artifact.status());
  const fmc::schema::Artifact &root = (*artifact)->root();
  if (!root.tokenizer())
    return fail(absl::FailedPreconditionError(absl::StrCat(
        "'", options.artifact,
        "' has no tokenizer: fmc-perplexity tokenizes the text with it")));
  absl::StatusOr<std::unique_ptr<fmc::Tokenizer>> tokenizer =
      fmc::Tokenizer::create(*root.tokenizer());
  if (!tokenizer.ok())
    return fail(tokenizer.status());

  int64_t context = root.config()->max_context();
  int64_t ctx = options.ctx.value_or(context);
  if (ctx > context)
    return fail(absl::OutOfRangeError(absl::StrCat(
        "--ctx ", ctx, " exceeds the context of '", options.artifact, "' (",
        context, " tokens); compile it with fmc-compile --context ", ctx)));
  if (ctx < 3)
    return fail(absl::FailedPreconditionError(absl::StrCat(
        "the context of '", options.artifact, "' is ", context,
        " tokens; a window needs 3 at least")));
  int64_t batch =
      std::min(options.batch.value_or(root.prefill()->max_tokens()), ctx);

  // llama.cpp: common_tokenize(text, add_special = true): BOS as the
  // vocabulary says, no EOS (llama-perplexity refuses a vocabulary that
  // adds one).
  std::vector<int32_t> tokens;
  bool addBos = (*tokenizer)->addBos() && (*tokenizer)->bos() >= 0;
  if (addBos)
    tokens.push_back((*tokenizer)->bos());
  std::vector<int32_t> body = (*tokenizer)->encode(*text);
  tokens.insert(tokens.end(), body.begin(), body.end());
  WindowPlan plan = WindowPlan::of(static_cast<int64_t>(tokens.size()), ctx);
  if (plan.windows == 0)
    return fail(absl::FailedPreconditionError(absl::StrCat(
        "'", options.textFile, "' tokenizes to ", tokens.size(),
        " tokens; one window of --ctx ", ctx, " needs ", ctx,
        " tokens (", ctx - static_cast<int64_t>(tokens.size()),
        " more; or give a smaller --ctx)")));

  fmc::BackendOptions backendOptions;
  backendOptions.threads = options.threads;
  absl::StatusOr<std::unique_ptr<fmc::Session>> session =
      fmc::Session::open(**artifact, options.backend, backendOptions);
  if (!session.ok())
    return fail(session.status());
  std::fprintf(stderr,
               "fmc-perplexity: %zu tokens, %lld window%s of %lld tokens, %lld "
               "scored per window, batch %lld, %s backend%s\n",
               tokens.size(), static_cast<long long>(plan.windows),
               plan.windows == 1 ? "" : "s",
               static_cast<long long>(ctx),
               static_cast<long long>(plan.scoredPerWindow()),
               static_cast<long long>(batch), (*session)->backend().c_str(),
               (*session)->prefillLogitsLastOnly()
                   ? " (scored positions run through decode: the artifact's "
                     "prefill computes the last position's logits only)"
                   : "");

  Estimate total;
  std::vector<WindowResult> windows;
  std::vector<int32_t> window(ctx);
  for (int64_t w = 0; w < plan.windows; ++w) {
    std::copy_n(tokens.begin() + w * ctx, ctx, window.begin());
    if (addBos)
      window[0] = (*tokenizer)->bos();
    Estimate own;
    if (absl::Status s =
            scoreWindow(**session, window, plan, batch, total, own);
        !s.ok())
      return fail(s);
    windows.push_back({own.ppl(), total.ppl()});
    std::fprintf(stderr, "[%lld]%.4f,", static_cast<long long>(w + 1),
                 total.ppl());
    std::fflush(stderr);
  }
  std::fputc('\n', stderr);

  std::optional<double> uncertainty = total.uncertainty();
  std::string final =
      uncertainty
          ? absl::StrFormat("Final estimate: PPL = %.4f +/- %.5f\n",
                            total.ppl(), *uncertainty)
          : absl::StrFormat("Final estimate: PPL = %.4f (no uncertainty: "
                            "fewer than two scored tokens or no spread)\n",
                            total.ppl());
  bool jsonToStdout = options.json == "-";
  std::fputs(final.c_str(), jsonToStdout ? stderr : stdout);

  if (!options.json.empty()) {
    std::string json = absl::StrFormat(
        "{\n  \"model\": %s,\n  \"text\": %s,\n  \"backend\": \"%s\",\n"
        "  \"ctx\": %d,\n  \"batch\": %d,\n  \"tokens\": %d,\n"
        "  \"windows\": %d,\n  \"scored_per_window\": %d,\n"
        "  \"scored_tokens\": %d,\n  \"mean_nll\": %.17g,\n"
        "  \"ppl\": %.17g,\n  \"ppl_uncertainty\": %s,\n  \"per_window\": [",
        fmc::tools::jsonString(options.artifact),
        fmc::tools::jsonString(options.textFile), (*session)->backend(), ctx,
        batch, tokens.size(), plan.windows, plan.scoredPerWindow(),
        total.count(), total.meanNll(), total.ppl(),
        uncertainty ? absl::StrFormat("%.17g", *uncertainty) : "null");
    for (size_t w = 0; w < windows.size(); ++w)
      absl::StrAppendFormat(&json,
                            "%s\n    {\"window\": %d, \"ppl\": %.17g, "
                            "\"running_ppl\": %.17g}",
                            w ? "," : "", w + 1, windows[w].ppl,
                            windows[w].runningPpl);
    json += "\n  ]\n}\n";
    std::FILE *out =
        jsonToStdout ? stdout : std::fopen(options.json.c_str(), "wb");
    bool ok = out && std::fwrite(json.data(), 1, json.size(), out) ==
                         json.size();
    if (out && !jsonToStdout)
      ok &= std::fclose(out) == 0;
    else if (out)
      ok &= std::fflush(out) == 0;
    if (!ok)
      return fail(absl::UnavailableError(
          absl::StrCat("cannot write the JSON report '", options.json, "'")));
  }
  return 0;
}
