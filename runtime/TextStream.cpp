//===- TextStream.cpp - generated text as it may be shown -----------------===//

#include "runtime/TextStream.h"

#include <algorithm>

namespace fmc {

namespace {

/// The length of `bytes` without a trailing incomplete UTF-8 sequence.
/// Invalid bytes count as complete: they are shown as they are.
size_t completeUtf8Prefix(std::string_view bytes) {
  size_t n = bytes.size();
  for (size_t back = 1; back <= std::min<size_t>(4, n); ++back) {
    unsigned char c = bytes[n - back];
    if ((c & 0xC0) == 0x80)
      continue; // A continuation byte: look further back for the lead.
    size_t length = (c & 0xE0) == 0xC0   ? 2
                    : (c & 0xF0) == 0xE0 ? 3
                    : (c & 0xF8) == 0xF0 ? 4
                                         : 1;
    return length > back ? n - back : n;
  }
  return n;
}

} // namespace

TextStream::TextStream(std::vector<std::string> stopStrings)
    : stops(std::move(stopStrings)) {
  stops.erase(std::remove(stops.begin(), stops.end(), std::string()),
              stops.end());
}

std::optional<std::string> TextStream::stoppedAt() const {
  if (!stopIndex)
    return std::nullopt;
  return stops[*stopIndex];
}

std::string TextStream::push(std::string_view bytes, bool generated) {
  if (stopIndex)
    return {};
  pending.append(bytes);
  if (!generated)
    searchFrom = pending.size();

  // The earliest stop string in the generated text ends it.
  size_t stopAt = std::string::npos;
  for (size_t i = 0; i < stops.size(); ++i) {
    size_t at = pending.find(stops[i], searchFrom);
    if (at < stopAt) {
      stopAt = at;
      stopIndex = i;
    }
  }
  if (stopIndex) {
    std::string shown = pending.substr(0, stopAt);
    pending.clear();
    return shown;
  }

  // Hold back the longest tail that is a proper prefix of a stop string,
  // and an incomplete character.
  size_t hold = pending.size();
  for (const std::string &stop : stops)
    for (size_t start = std::max(searchFrom, pending.size() > stop.size()
                                                 ? pending.size() - stop.size()
                                                 : size_t{0});
         start < hold; ++start)
      if (std::string_view(stop).substr(0, pending.size() - start) ==
          std::string_view(pending).substr(start)) {
        hold = start;
        break;
      }
  size_t cut = std::min(hold, completeUtf8Prefix(pending));
  std::string shown = pending.substr(0, cut);
  pending.erase(0, cut);
  searchFrom = searchFrom > cut ? searchFrom - cut : 0;
  return shown;
}

std::string TextStream::flush() {
  std::string rest = std::move(pending);
  pending.clear();
  searchFrom = 0;
  return rest;
}

} // namespace fmc
