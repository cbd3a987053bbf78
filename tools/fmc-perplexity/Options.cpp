//===- Options.cpp - fmc-perplexity's command line ------------------------===//
//
// A walk over argv like fmc-run's (tools/fmc-run/Options.cpp says why not
// llvm::cl or absl::flags: this tool links the runtime only, no LLVM).
//
//===----------------------------------------------------------------------===//

#include "tools/fmc-perplexity/Options.h"

#include "tools/common/CommandLine.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

#include <string_view>
#include <vector>

namespace fmc::perplexity {

const char *usage() {
  return R"(usage: fmc-perplexity model.fmc --file F [options]

Perplexity of a compiled model over a text, computed as llama.cpp's
llama-perplexity computes it, so the numbers compare:

  1. The whole text is tokenized at once, BOS first when the tokenizer adds
     one (one trailing newline of the file is dropped, as llama.cpp does).
  2. The tokens are cut into non-overlapping windows of ctx tokens; the
     tokens after the last whole window are not used. Each window is run
     from position 0 on a cleared context, its first token replaced by BOS
     (when the tokenizer adds one).
  3. Only the second half of each window is scored: the tokens at window
     positions ctx/2 + 1 .. ctx - 1, each predicted from the logits of the
     position before it (positions ctx/2 .. ctx - 2), so every scored token
     has at least ctx/2 tokens of context. That is ctx - ctx/2 - 1 tokens
     per window.
  4. PPL = exp(mean negative log-likelihood of the scored tokens); the
     uncertainty is PPL times the standard error of that mean.

Progress goes to stderr, one running estimate per window ([1]12.3456,...),
then "Final estimate: PPL = X +/- Y" (stdout; stderr with --json -).
llama-perplexity wants two windows of text at least; one is enough here.

Options:
  -f, --file F         the text (required)
  -c, --ctx N          tokens per window (default: the artifact's context;
                       at most that, at least 3)
  -b, --batch N        tokens per prefill run (default: the artifact's
                       prefill size; above --ctx counts as --ctx: windows run
                       one at a time)
  --backend NAME       auto (default), cpu, cuda, vulkan, metal
  --threads N          CPU threads (default: all cores)
  --json F             also write the result as JSON to F (`-`: stdout):
                       ctx, tokens, windows, scored tokens, ppl, its
                       uncertainty and, per window, its own ppl and the
                       running estimate
  -h, --help           this text
  --version            the tool's version and the artifact format it reads
)";
}

using fmc::tools::badValue;

absl::StatusOr<Options> parseOptions(int argc, char **argv) {
  Options options;
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    fmc::tools::Argument arg = fmc::tools::splitArgument(argv[i]);
    if (arg.positional) {
      positional.push_back(arg.text);
      continue;
    }
    std::string flag = arg.flag;
    if (flag == "--help" || flag == "-h") {
      options.help = true;
      continue;
    }
    if (flag == "--version") {
      options.version = true;
      continue;
    }
    static const std::pair<const char *, const char *> aliases[] = {
        {"-f", "--file"}, {"-c", "--ctx"}, {"-b", "--batch"}};
    for (auto [alias, canonical] : aliases)
      if (flag == alias)
        flag = canonical;
    static const char *const withValue[] = {"--file",    "--ctx",
                                            "--batch",   "--backend",
                                            "--threads", "--json"};
    bool known = false;
    for (const char *name : withValue)
      known |= flag == name;
    if (!known)
      return absl::InvalidArgumentError(
          absl::StrCat("unknown option '", arg.text, "' (see --help)"));
    absl::StatusOr<std::string> read = fmc::tools::flagValue(arg, argc, argv, i);
    if (!read.ok())
      return read.status();
    const std::string &value = *read;
    auto positive = [&](std::optional<int64_t> &out, int64_t least,
                        absl::string_view want) -> absl::Status {
      int64_t n;
      if (!absl::SimpleAtoi(value, &n) || n < least || n >= (int64_t(1) << 31))
        return badValue(flag, value, want);
      out = n;
      return absl::OkStatus();
    };
    absl::Status status;
    if (flag == "--file") {
      options.textFile = value;
    } else if (flag == "--ctx") {
      status = positive(options.ctx, 3, "an integer of at least 3");
    } else if (flag == "--batch") {
      status = positive(options.batch, 1, "a positive integer");
    } else if (flag == "--backend") {
      options.backend = value;
    } else if (flag == "--threads") {
      if (!absl::SimpleAtoi(value, &options.threads) || options.threads < 1 ||
          options.threads > 1024)
        return badValue(flag, value, "an integer from 1 to 1024");
    } else if (flag == "--json") {
      if (value.empty())
        return badValue(flag, value, "a file name or -");
      options.json = value;
    }
    if (!status.ok())
      return status;
  }
  if (options.help || options.version)
    return options;
  if (positional.size() != 1)
    return absl::InvalidArgumentError(
        positional.empty()
            ? "no artifact given: fmc-perplexity model.fmc --file F (see "
              "--help)"
            : absl::StrCat("unexpected argument '", positional[1], "'"));
  options.artifact = positional[0];
  if (options.textFile.empty())
    return absl::InvalidArgumentError(
        "no text given: --file F names the text to score");
  return options;
}

} // namespace fmc::perplexity
