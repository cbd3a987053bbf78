//===- TextFile.h - reading a whole input file, `-` being stdin -----------===//
//
// Prompts, perplexity texts, grammars and schemas are read the same way in
// every runtime tool (no LLVM: fmc-run and fmc-perplexity cannot use
// llvm::MemoryBuffer), with errors that name what the file was for.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_TOOLS_COMMON_TEXTFILE_H
#define FMC_TOOLS_COMMON_TEXTFILE_H

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

namespace fmc::tools {

/// The bytes of `path` (`-`: standard input); errors read "cannot read the
/// WHAT 'PATH': reason".
inline absl::StatusOr<std::string> readTextFile(const std::string &path,
                                                const char *what) {
  std::FILE *file = path == "-" ? stdin : std::fopen(path.c_str(), "rb");
  if (!file)
    return absl::NotFoundError(absl::StrCat("cannot read the ", what, " '",
                                            path, "': ", std::strerror(errno)));
  std::string text;
  char buffer[1 << 16];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, file)) > 0)
    text.append(buffer, n);
  bool failed = std::ferror(file);
  if (file != stdin)
    std::fclose(file);
  if (failed)
    return absl::DataLossError(absl::StrCat(
        "cannot read the ", what, " from ",
        path == "-" ? std::string("standard input") : "'" + path + "'"));
  return text;
}

/// Drops one trailing newline (\n or \r\n): the one an editor or `echo`
/// adds to a prompt, as llama.cpp drops it.
inline void dropTrailingNewline(std::string &text) {
  if (!text.empty() && text.back() == '\n')
    text.pop_back();
  if (!text.empty() && text.back() == '\r')
    text.pop_back();
}

} // namespace fmc::tools

#endif // FMC_TOOLS_COMMON_TEXTFILE_H
