//===- Options.h - fmc-perplexity's command line --------------------------===//

#ifndef FMC_TOOLS_FMC_PERPLEXITY_OPTIONS_H
#define FMC_TOOLS_FMC_PERPLEXITY_OPTIONS_H

#include "absl/status/statusor.h"

#include <cstdint>
#include <optional>
#include <string>

namespace fmc::perplexity {

struct Options {
  std::string artifact;
  std::string textFile;
  /// Tokens per window; the artifact's context when absent.
  std::optional<int64_t> ctx;
  /// Tokens per prefill call; the prefill program's max_tokens when absent.
  std::optional<int64_t> batch;
  std::string backend = "auto";
  int threads = 0;
  /// Where the JSON report goes ("-": standard output); empty: nowhere.
  std::string json;
  bool help = false;
  bool version = false;
};

/// Parses argv; errors name the offending option and value.
absl::StatusOr<Options> parseOptions(int argc, char **argv);

const char *usage();

} // namespace fmc::perplexity

#endif // FMC_TOOLS_FMC_PERPLEXITY_OPTIONS_H
