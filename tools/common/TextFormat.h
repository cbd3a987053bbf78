//===- TextFormat.h - how the runtime's tools print sizes and JSON --------===//
//
// fmc-run, fmc-perplexity and fmc-inspect print byte sizes the same way and
// write JSON by hand (the runtime links no JSON library): one definition of
// each here.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_TOOLS_COMMON_TEXTFORMAT_H
#define FMC_TOOLS_COMMON_TEXTFORMAT_H

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

#include <string>

namespace fmc::tools {

/// "512 B", "1.50 KiB", "3.21 MiB", "1.19 GiB".
inline std::string humanBytes(double bytes) {
  const char *units[] = {"B", "KiB", "MiB", "GiB"};
  int unit = 0;
  while (bytes >= 1024 && unit < 3) {
    bytes /= 1024;
    ++unit;
  }
  return unit == 0 ? absl::StrFormat("%.0f B", bytes)
                   : absl::StrFormat("%.2f %s", bytes, units[unit]);
}

/// `text` as a JSON string literal, quotes and control characters escaped.
inline std::string jsonString(const std::string &text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\')
      absl::StrAppend(&out, "\\", std::string(1, c));
    else if (c < 0x20)
      absl::StrAppendFormat(&out, "\\u%04x", c);
    else
      out += static_cast<char>(c);
  }
  return out + "\"";
}

} // namespace fmc::tools

#endif // FMC_TOOLS_COMMON_TEXTFORMAT_H
