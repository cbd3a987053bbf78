//===- Options.h - fmc-run's command line ---------------------------------===//

#ifndef FMC_TOOLS_FMC_RUN_OPTIONS_H
#define FMC_TOOLS_FMC_RUN_OPTIONS_H

#include "absl/status/statusor.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace fmc::run {

struct Options {
  /// The positional argument: an .fmc artifact, or a model (a .gguf, a
  /// Hugging Face directory, ...) compiled into the cache first.
  std::string artifact;
  /// --cache-dir: where compiled models are kept (default:
  /// $XDG_CACHE_HOME/fmc, else ~/.cache/fmc).
  std::string cacheDir;
  /// --compile-arg (repeatable): passed to fmc-compile, in order.
  std::vector<std::string> compileArgs;
  /// --recompile: compile the model even when the cache has it.
  bool recompile = false;
  std::optional<std::string> prompt;
  /// --prompt-file; "-" (also `--prompt -`) is standard input.
  std::optional<std::string> promptFile;
  std::optional<std::vector<int32_t>> promptIds;
  int64_t maxNewTokens = 256;
  float temperature = 0.0f;
  int32_t topK = 0;
  float topP = 1.0f;
  float minP = 0.0f;
  float repeatPenalty = 1.0f;
  float presencePenalty = 0.0f;
  float frequencyPenalty = 0.0f;
  int32_t repeatLastN = 64;
  std::vector<std::string> stops;
  bool ignoreEos = false;
  std::optional<uint64_t> seed;
  std::string backend = "auto";
  int threads = 0;
  /// -c/--ctx-size: positions of this run's context (0: the compiled one).
  int64_t contextSize = 0;
  bool stats = false;
  bool verifyWeights = false;
  std::string statsJson;
  std::string logitsOut;
  bool mapWeights = false;
  /// -i/--interactive: chat, a user message per line of standard input.
  bool interactive = false;
  std::optional<std::string> system;
  /// --chat-template NAME: the family to render (default: the model's).
  std::string chatTemplate;
  /// --print-rendered (not in --help, for tests): each turn's rendered
  /// prompt on stderr.
  bool printRendered = false;
  /// --grammar F (GBNF) or --json-schema S (inline or a file).
  std::optional<std::string> grammarFile;
  std::optional<std::string> jsonSchema;
  bool printGrammar = false;
  /// --adapter F: a LoRA adapter (.fmca) compiled for the model.
  std::optional<std::string> adapter;
  /// --draft F: speculative decoding with draft model F.
  std::optional<std::string> draft;
  int draftTokens = 4;
  /// --collective-timeout S: how long a rank of a track-parallel run waits
  /// for the others in one collective before it gives up.
  double collectiveTimeout = 60;
  bool help = false;
  bool version = false;
};

/// Parses argv; errors name the offending option and value.
absl::StatusOr<Options> parseOptions(int argc, char **argv);

const char *usage();

} // namespace fmc::run

#endif // FMC_TOOLS_FMC_RUN_OPTIONS_H
