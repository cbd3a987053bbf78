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

#include "support/Suggest.h"

#include "tools/common/CommandLine.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

#include <cmath>
#include <string_view>
#include <utility>

namespace fmc::run {

const char *usage() {
  return R"(usage: fmc-run MODEL [options]

Generates text with a compiled model: the prompt runs through the prefill
program, then one decode step per new token. Text streams to stdout as it is
generated (whole UTF-8 characters, flushed each token, also into a pipe).

MODEL is an .fmc artifact (fmc-compile's output) or a model to compile: a
.gguf file, a Hugging Face directory (config.json, *.safetensors), a llama2.c
checkpoint or fm IR (.mlir). A model is compiled once, by the fmc-compile
beside fmc-run (else the one on PATH), for the best backend present (cuda,
metal, a Vulkan GPU, else cpu; with --backend NAME, for NAME), into the
cache; later runs with the same model files, compile options and fmc build
reuse it. A line on stderr says which.

Compiling (MODEL not an .fmc):
  --cache-dir DIR      keep compiled models in DIR (default:
                       $XDG_CACHE_HOME/fmc, else ~/.cache/fmc)
  --compile-arg ARG    pass ARG to fmc-compile (repeatable, in order; part
                       of the cache key), e.g. --compile-arg=--quantize=q8_0
  --recompile          compile again even when the cache has the model

Prompt (one of these; none: generation starts from BOS alone):
  -p, --prompt TEXT    prompt text (BOS is prepended as the tokenizer says);
                       `--prompt -` reads it from standard input
  -f, --prompt-file F  prompt text from file F (`-`: standard input); one
                       trailing newline is dropped, as llama.cpp does
  --prompt-ids 1,2,3   prompt as token ids, used as given

Chat:
  -i, --interactive    chat: each line of standard input is a user message,
                       rendered with the model's chat template; the reply
                       streams to stdout and ends at the template's
                       end-of-turn token (<|eot_id|>, <|im_end|>,
                       <end_of_turn>, ...) or EOS. The KV cache is kept
                       between turns: only the new turn is prefilled. An
                       empty line is skipped; end of input ends the chat.
                       -n bounds each reply
  --system TEXT        the system prompt (where the template puts it)
  --chat-template NAME render this family's template instead of the one
                       recognised in the model (its GGUF
                       tokenizer.chat_template or tokenizer_config.json
                       chat_template): llama2, llama3, chatml (Qwen),
                       gemma, mistral, phi3, command-r, deepseek

Generation:
  -n N                 generate at most N tokens (default 256); stops earlier
                       at EOS, at a generated BOS, at a stop string or at the
                       end of the context (the last three are reported on
                       stderr)
  --stop STR           stop when the generated text contains STR, which is
                       not printed (repeatable)
  --ignore-eos         do not stop at EOS or BOS

Guided generation (the text is restricted to a grammar; sampling picks among
the tokens it allows, EOS only where the text is complete):
  --grammar F          a GBNF grammar file (llama.cpp's format; rule `root`)
  --json-schema S      a JSON Schema, inline (starting with `{`) or a file:
                       the output is JSON valid against it (objects keep the
                       declared property order; unsupported keywords are
                       errors, never ignored)
  --print-grammar      print the GBNF of --grammar/--json-schema and exit
                       (no model needed)

LoRA adapters:
  --adapter F          run with LoRA adapter F (.fmca), compiled for this
                       model: fmc-compile --adapter PEFT_DIR --base model.fmc
                       -o F (the model needs LoRA slots: --lora-rank)

Speculative decoding:
  --draft F            a draft model (an .fmc with the same tokenizer)
                       proposes tokens that the model checks in one pass;
                       greedy output is the model's own, sampled output
                       follows its distribution (temperature only). The model
                       must compute every prefill row's logits (fmc-compile
                       --prefill-all-positions when KV sharing), and
                       sliding-window caches need K slots beyond their window
                       (fmc-compile --max-draft-tokens K); --stats reports
                       the acceptance
  --draft-tokens K     tokens proposed per pass (default 4)

Sampling (llama.cpp's order: penalties, top-k, top-p, min-p, temperature):
  --temperature T      0 (default) is greedy; otherwise sample from softmax(l/T)
  --temp T             the same
  --top-k K            sample among the K most likely tokens (0: all)
  --top-p P            sample from the smallest set of tokens of mass >= P
  --min-p P            drop tokens less than P times as likely as the best
                       (before temperature); top-k, top-p and min-p need a
                       temperature above 0
  --repeat-penalty R   divide the positive logits (multiply the negative
                       ones) of tokens seen in the window by R (default 1: off)
  --presence-penalty A subtract A from the logit of every token seen
  --frequency-penalty A
                       subtract A per occurrence in the window
  --repeat-last-n N    the penalties' window: the last N tokens, prompt
                       included (default 64; 0: penalties off)
  --seed S             random seed for sampling (default: from the clock;
                       --stats prints the one used)

Running:
  -c, --ctx-size N     the context of this run: N positions, from 1 to the
                       context the artifact was compiled for (default: that
                       maximum); the linear KV caches are allocated for N
                       positions, so a smaller N needs less memory
  --backend NAME       auto (default: the first of cuda, metal, vulkan, cpu
                       that the artifact has code for and this machine runs;
                       --stats says which and why)
  --threads N          CPU threads (default: all cores)
  --load copy|map      copy the weights into huge-page memory (default) or
                       map them from the file (no copy, 4 KB pages)
  --verify             check the weights' checksum with --load map too (a
                       copy is always checked; the header on every load)
  --stats              print time to first token, tokens/s, memory and seed
  --stats-json F       write those figures as JSON (`-`: stdout; ttft_ms,
                       prefill_tokens_per_s, decode_tokens_per_s,
                       context, compiled_context, weights_bytes,
                       kv_bytes_per_token, kv_bytes_total,
                       kv_scale_bytes_per_token, kv_scale_bytes_total,
                       arena_bytes, peak_rss_bytes, seed, stop; KV figures
                       count key and value elements, int8 scales separately;
                       with -i: backend, seed, context and one entry per
                       turn)
  --logits-out F       write the logits of every prompt position and every
                       decode step as raw little-endian f32 rows of vocab size
                       (prompt tokens + generated tokens - 1 rows). An
                       artifact whose prefill computes the last position
                       only (KV sharing; fmc-compile --prefill-all-positions
                       turns that off) has no logits for the earlier prompt
                       positions: the file then starts at the last prompt
                       position (generated tokens rows), and fmc-run says so

Models split over processes (fmc-compile --track-ranks=N or --tensor-ranks=N
writes MODEL.rank<r>.fmc):
  mpirun -np N fmc-run MODEL.fmc ...
                       each process runs MODEL.rank<its rank>.fmc; rank 0
                       prints the text, --stats (with the all-reduces and
                       bytes each rank exchanges per token) and the files
  --collective-timeout S
                       give up, ending every rank, when the others do not
                       join a collective within S seconds (default 60)

  -h, --help           this text
  --version            fmc's version and the git revision of this build
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
    auto isBool = [&](std::string_view name) { return flag == name; };
    if (isBool("--help") || isBool("-h")) {
      options.help = true;
      continue;
    }
    if (isBool("--version")) {
      options.version = true;
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
    if (isBool("--ignore-eos")) {
      options.ignoreEos = true;
      continue;
    }
    if (isBool("--interactive") || isBool("-i")) {
      options.interactive = true;
      continue;
    }
    if (isBool("--print-grammar")) {
      options.printGrammar = true;
      continue;
    }
    if (isBool("--recompile")) {
      options.recompile = true;
      continue;
    }
    if (isBool("--print-rendered")) {
      options.printRendered = true;
      continue;
    }
    // Every other option takes a value; short and alternative spellings
    // first become the canonical flag.
    static const std::pair<const char *, const char *> aliases[] = {
        {"-p", "--prompt"},
        {"-f", "--prompt-file"},
        {"--file", "--prompt-file"},
        {"--temp", "--temperature"},
        {"-c", "--ctx-size"}};
    for (auto [alias, canonical] : aliases)
      if (flag == alias)
        flag = canonical;
    static const char *const withValue[] = {
        "--prompt",         "--prompt-file",       "--prompt-ids",
        "-n",               "--temperature",       "--top-k",
        "--top-p",          "--min-p",             "--repeat-penalty",
        "--presence-penalty", "--frequency-penalty", "--repeat-last-n",
        "--stop",           "--seed",              "--backend",
        "--threads",        "--stats-json",        "--logits-out",
        "--load",           "--system",            "--chat-template",
        "--ctx-size",       "--grammar",           "--json-schema",
        "--draft",          "--draft-tokens",      "--cache-dir",
        "--compile-arg",    "--adapter",           "--collective-timeout"};
    bool known = false;
    for (const char *name : withValue)
      known |= flag == name;
    if (!known) {
      std::vector<std::string> spellings = {
          "--help",          "--version",       "--stats",
          "--verify",        "--ignore-eos",    "--interactive",
          "--print-grammar", "--recompile"};
      for (const char *name : withValue)
        spellings.push_back(name);
      for (auto [alias, canonical] : aliases)
        spellings.push_back(alias);
      return absl::InvalidArgumentError(
          fmc::unknownOptionMessage(flag, spellings));
    }
    absl::StatusOr<std::string> read = fmc::tools::flagValue(arg, argc, argv, i);
    if (!read.ok())
      return read.status();
    const std::string &value = *read;
    auto number = [&](float &out, absl::string_view want,
                      auto valid) -> absl::Status {
      if (!absl::SimpleAtof(value, &out) || !std::isfinite(out) || !valid(out))
        return badValue(flag, value, want);
      return absl::OkStatus();
    };
    absl::Status status;

    if (flag == "--prompt") {
      if (value == "-")
        options.promptFile = "-";
      else
        options.prompt = value;
    } else if (flag == "--prompt-file") {
      options.promptFile = value;
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
      status = number(options.temperature, "a non-negative number",
                      [](float x) { return x >= 0; });
    } else if (flag == "--top-k") {
      if (!absl::SimpleAtoi(value, &options.topK) || options.topK < 0)
        return badValue(flag, value, "a non-negative integer");
    } else if (flag == "--top-p") {
      status = number(options.topP, "a number in (0, 1]",
                      [](float x) { return x > 0 && x <= 1; });
    } else if (flag == "--min-p") {
      status = number(options.minP, "a number in [0, 1]",
                      [](float x) { return x >= 0 && x <= 1; });
    } else if (flag == "--repeat-penalty") {
      status = number(options.repeatPenalty, "a positive number",
                      [](float x) { return x > 0; });
    } else if (flag == "--presence-penalty") {
      status = number(options.presencePenalty, "a number",
                      [](float) { return true; });
    } else if (flag == "--frequency-penalty") {
      status = number(options.frequencyPenalty, "a number",
                      [](float) { return true; });
    } else if (flag == "--repeat-last-n") {
      if (!absl::SimpleAtoi(value, &options.repeatLastN) ||
          options.repeatLastN < 0)
        return badValue(flag, value, "a non-negative integer");
    } else if (flag == "--stop") {
      if (value.empty())
        return badValue(flag, value, "a non-empty string");
      options.stops.push_back(value);
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
    } else if (flag == "--grammar") {
      options.grammarFile = value;
    } else if (flag == "--json-schema") {
      if (value.empty())
        return badValue(flag, value, "a JSON schema or a file holding one");
      options.jsonSchema = value;
    } else if (flag == "--adapter") {
      options.adapter = value;
    } else if (flag == "--draft") {
      options.draft = value;
    } else if (flag == "--draft-tokens") {
      if (!absl::SimpleAtoi(value, &options.draftTokens) ||
          options.draftTokens < 1 || options.draftTokens > 64)
        return badValue(flag, value, "an integer from 1 to 64");
    } else if (flag == "--collective-timeout") {
      if (!absl::SimpleAtod(value, &options.collectiveTimeout) ||
          !(options.collectiveTimeout > 0) ||
          options.collectiveTimeout > 86400)
        return badValue(flag, value, "seconds, more than 0 and at most 86400");
    } else if (flag == "--ctx-size") {
      if (!absl::SimpleAtoi(value, &options.contextSize) ||
          options.contextSize < 1)
        return badValue(flag, value, "a positive integer");
    } else if (flag == "--stats-json") {
      options.statsJson = value;
    } else if (flag == "--logits-out") {
      options.logitsOut = value;
    } else if (flag == "--system") {
      options.system = value;
    } else if (flag == "--chat-template") {
      if (value.empty())
        return badValue(flag, value, "a template name");
      options.chatTemplate = value;
    } else if (flag == "--cache-dir") {
      if (value.empty())
        return badValue(flag, value, "a directory");
      options.cacheDir = value;
    } else if (flag == "--compile-arg") {
      // fmc-compile's output is the cache's to choose.
      for (const char *reserved : {"-o", "--o", "-compile-to", "--compile-to"})
        if (value == reserved ||
            value.rfind(absl::StrCat(reserved, "="), 0) == 0)
          return badValue(flag, value,
                          "an fmc-compile option other than -o and "
                          "--compile-to (fmc-run picks the output)");
      options.compileArgs.push_back(value);
    } else if (flag == "--load") {
      if (value != "map" && value != "copy")
        return badValue(flag, value, "map or copy");
      options.mapWeights = value == "map";
    }
    if (!status.ok())
      return status;
  }
  if (options.grammarFile && options.jsonSchema)
    return absl::InvalidArgumentError(
        "give one of --grammar and --json-schema");
  if (options.printGrammar && !options.grammarFile && !options.jsonSchema)
    return absl::InvalidArgumentError(
        "--print-grammar needs --grammar or --json-schema");
  if (options.help || options.version || options.printGrammar)
    return options;
  if (positional.size() != 1)
    return absl::InvalidArgumentError(
        positional.empty()
            ? "no artifact given: fmc-run model.fmc [options] (see --help)"
            : absl::StrCat("unexpected argument '", positional[1], "'"));
  options.artifact = positional[0];
  if (int(options.prompt.has_value()) + int(options.promptFile.has_value()) +
          int(options.promptIds.has_value()) >
      1)
    return absl::InvalidArgumentError(
        "give one of --prompt, --prompt-file and --prompt-ids");
  if (options.interactive) {
    // The chat's messages come from standard input, line by line.
    if (options.prompt || options.promptFile || options.promptIds)
      return absl::InvalidArgumentError(
          "--interactive reads the user's messages from standard input; it "
          "takes no --prompt, --prompt-file or --prompt-ids");
    if (!options.logitsOut.empty())
      return absl::InvalidArgumentError(
          "--logits-out is not available with --interactive");
    if (options.grammarFile || options.jsonSchema)
      return absl::InvalidArgumentError(
          "--grammar and --json-schema are not available with --interactive");
    if (options.draft)
      return absl::InvalidArgumentError(
          "--draft is not available with --interactive");
  } else {
    for (auto [given, flag] :
         {std::pair{options.system.has_value(), "--system"},
          std::pair{!options.chatTemplate.empty(), "--chat-template"},
          std::pair{options.printRendered, "--print-rendered"}})
      if (given)
        return absl::InvalidArgumentError(
            absl::StrCat(flag, " applies to a chat: add -i/--interactive"));
  }
  // Greedy decoding has no distribution to truncate: a truncation flag
  // without a temperature would silently do nothing.
  if (options.temperature == 0.0f) {
    const char *ignored = options.topK > 0     ? "--top-k"
                          : options.topP < 1.0f ? "--top-p"
                          : options.minP > 0.0f ? "--min-p"
                                                : nullptr;
    if (ignored)
      return absl::InvalidArgumentError(absl::StrCat(
          ignored,
          " has no effect with greedy decoding (the default, temperature 0): "
          "add --temperature T, e.g. --temperature 0.8"));
  }
  return options;
}

} // namespace fmc::run
