//===- Options.cpp - fmc-run's command line -------------------------------===//
//
// Why not absl::flags or llvm::cl: fmc-run links no LLVM (it must run where
// LLVM is not installed), and Abseil flag names cannot contain dashes, while
// fmc-run's interface is `--prompt-ids`, `--top-k`, `--stats-json`,
// `--logits-out` and `-n`. So this file only walks argv; values are parsed
// and range-checked with Abseil's string utilities, and every error names
// the flag and the value.
//
//===----------------------------------------------------------------------===//

#include "tools/fmc-run/Options.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

#include <cmath>
#include <string_view>

namespace fmc::run {

const char *usage() {
  return R"(usage: fmc-run model.fmc [options]

Generates text with a compiled model: the prompt runs through the prefill
program, then one decode step per new token. Text streams to stdout.

  --prompt TEXT        prompt text (BOS is prepended as the tokenizer says)
  --prompt-ids 1,2,3   prompt as token ids, used as given
                       (neither: generation starts from BOS alone)
  -n N                 generate at most N tokens (default 256); stops earlier
                       at EOS, at a generated BOS or at the end of the context
  --temperature T      0 (default) is greedy; otherwise sample from softmax(l/T)
  --top-k K            sample among the K most likely tokens (0: all)
  --top-p P            sample from the smallest set of tokens of mass >= P
  --seed S             random seed for sampling (default: from the clock)
  --backend NAME       auto (default), cpu, cuda, vulkan, metal
  --threads N          CPU threads (default: all cores)
  --load copy|map      copy the weights into huge-page memory (default) or
                       map them from the file (no copy, 4 KB pages)
  --verify             check the weights' checksum with --load map too (a
                       copy is always checked; the header on every load)
  --stats              print time to first token, tokens/s and memory
  --stats-json F       write those figures as JSON (ttft_ms,
                       prefill_tokens_per_s, decode_tokens_per_s,
                       weights_bytes, kv_bytes_per_token, kv_bytes_total,
                       kv_scale_bytes_per_token, kv_scale_bytes_total,
                       arena_bytes, peak_rss_bytes; KV figures count key
                       and value elements, int8 scales separately)
  --logits-out F       write the logits of every prompt position and every
                       decode step as raw little-endian f32 rows of vocab size
                       (prompt tokens + generated tokens - 1 rows). An
                       artifact whose prefill computes the last position
                       only (KV sharing; fmc-compile --prefill-all-positions
                       turns that off) has no logits for the earlier prompt
                       positions: the file then starts at the last prompt
                       position (generated tokens rows), and fmc-run says so
  --help               this text
)";
}

namespace {

absl::Status badValue(absl::string_view flag, absl::string_view value,
                      absl::string_view want) {
  return absl::InvalidArgumentError(absl::StrCat(
      "invalid value '", value, "' for ", flag, ": expected ", want));
}

} // namespace

absl::StatusOr<Options> parseOptions(int argc, char **argv) {
  Options options;
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg.empty() || arg[0] != '-' || arg == "-") {
      positional.emplace_back(arg);
      continue;
    }
    std::string flag(arg);
    std::optional<std::string> inlineValue;
    if (size_t eq = flag.find('=');
        eq != std::string::npos && flag.rfind("--", 0) == 0) {
      inlineValue = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
    }
    auto isBool = [&](std::string_view name) { return flag == name; };
    if (isBool("--help") || isBool("-h")) {
      options.help = true;
      continue;
    }
    if (isBool("--stats")) {
      options.stats = true;
      continue;
    }
    if (isBool("--verify")) {
      options.verifyWeights = true;
      continue;
    }
    // Every other option takes a value.
    static const char *const withValue[] = {
        "--prompt",  "--prompt-ids", "-n",           "--temperature",
        "--top-k",   "--top-p",      "--seed",       "--backend",
        "--threads", "--stats-json", "--logits-out", "--load"};
    bool known = false;
    for (const char *name : withValue)
      known |= flag == name;
    if (!known)
      return absl::InvalidArgumentError(
          absl::StrCat("unknown option '", flag, "' (see --help)"));
    std::string value;
    if (inlineValue) {
      value = *inlineValue;
    } else {
      if (i + 1 >= argc)
        return absl::InvalidArgumentError(
            absl::StrCat("option ", flag, " needs a value"));
      value = argv[++i];
    }

    if (flag == "--prompt") {
      options.prompt = value;
    } else if (flag == "--prompt-ids") {
      std::vector<int32_t> ids;
      for (absl::string_view part :
           absl::StrSplit(value, ',', absl::SkipWhitespace())) {
        int32_t id;
        if (!absl::SimpleAtoi(part, &id) || id < 0)
          return badValue(flag, value,
                          "comma-separated non-negative token ids");
        ids.push_back(id);
      }
      options.promptIds = std::move(ids);
    } else if (flag == "-n") {
      if (!absl::SimpleAtoi(value, &options.maxNewTokens) ||
          options.maxNewTokens < 0)
        return badValue(flag, value, "a non-negative integer");
    } else if (flag == "--temperature") {
      if (!absl::SimpleAtof(value, &options.temperature) ||
          !std::isfinite(options.temperature) || options.temperature < 0)
        return badValue(flag, value, "a non-negative number");
    } else if (flag == "--top-k") {
      if (!absl::SimpleAtoi(value, &options.topK) || options.topK < 0)
        return badValue(flag, value, "a non-negative integer");
    } else if (flag == "--top-p") {
      if (!absl::SimpleAtof(value, &options.topP) || !(options.topP > 0) ||
          options.topP > 1)
        return badValue(flag, value, "a number in (0, 1]");
    } else if (flag == "--seed") {
      uint64_t seed;
      if (!absl::SimpleAtoi(value, &seed))
        return badValue(flag, value, "a non-negative integer");
      options.seed = seed;
    } else if (flag == "--backend") {
      options.backend = value;
    } else if (flag == "--threads") {
      if (!absl::SimpleAtoi(value, &options.threads) || options.threads < 1 ||
          options.threads > 1024)
        return badValue(flag, value, "an integer from 1 to 1024");
    } else if (flag == "--stats-json") {
      options.statsJson = value;
    } else if (flag == "--logits-out") {
      options.logitsOut = value;
    } else if (flag == "--load") {
      if (value != "map" && value != "copy")
        return badValue(flag, value, "map or copy");
      options.mapWeights = value == "map";
    }
  }
  if (options.help)
    return options;
  if (positional.size() != 1)
    return absl::InvalidArgumentError(
        positional.empty()
            ? "no artifact given: fmc-run model.fmc [options] (see --help)"
            : absl::StrCat("unexpected argument '", positional[1], "'"));
  options.artifact = positional[0];
  if (options.prompt && options.promptIds)
    return absl::InvalidArgumentError(
        "give --prompt or --prompt-ids, not both");
  return options;
}

} // namespace fmc::run
