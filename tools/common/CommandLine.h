//===- CommandLine.h - argv as the runtime tools read it ------------------===//
//
// fmc-run, fmc-perplexity and fmc-serve link no LLVM (llvm::cl is out) and
// spell flags with dashes (absl::flags cannot), so each keeps its own flag
// table; what they share is how one argument is read: a positional one
// (`-` too), or a flag with an inline `--name=value` or its value in the
// next argument, and how a bad value is reported.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_TOOLS_COMMON_COMMANDLINE_H
#define FMC_TOOLS_COMMON_COMMANDLINE_H

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

#include <optional>
#include <string>
#include <string_view>

namespace fmc::tools {

/// One argv entry: positional, or a flag with the value written after `=`
/// (long flags only: `-n=3` stays a flag named `-n=3`).
struct Argument {
  bool positional = false;
  std::string text;
  std::string flag;
  std::optional<std::string> inlineValue;
};

inline Argument splitArgument(std::string_view arg) {
  Argument a;
  a.text = std::string(arg);
  if (arg.empty() || arg[0] != '-' || arg == "-") {
    a.positional = true;
    return a;
  }
  a.flag = a.text;
  if (size_t eq = a.flag.find('=');
      eq != std::string::npos && a.flag.rfind("--", 0) == 0) {
    a.inlineValue = a.flag.substr(eq + 1);
    a.flag.resize(eq);
  }
  return a;
}

/// The value of flag `a` (argv[i]): its inline value, or argv[i + 1]
/// (then `i` moves past it).
inline absl::StatusOr<std::string> flagValue(const Argument &a, int argc,
                                             char **argv, int &i) {
  if (a.inlineValue)
    return *a.inlineValue;
  if (i + 1 >= argc)
    return absl::InvalidArgumentError(
        absl::StrCat("option ", a.text, " needs a value"));
  return std::string(argv[++i]);
}

/// "invalid value 'V' for FLAG: expected WANT".
inline absl::Status badValue(absl::string_view flag, absl::string_view value,
                             absl::string_view want) {
  return absl::InvalidArgumentError(absl::StrCat(
      "invalid value '", value, "' for ", flag, ": expected ", want));
}

} // namespace fmc::tools

#endif // FMC_TOOLS_COMMON_COMMANDLINE_H
