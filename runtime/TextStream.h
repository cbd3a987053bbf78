//===- TextStream.h - generated text as it may be shown -------------------===//
//
// Decoded tokens are bytes: a byte-fallback token can end in the middle of a
// UTF-8 character, and a stop string can span several tokens. TextStream
// holds back exactly what cannot be shown yet (an incomplete character, or
// a tail that may still become a stop string) so that a streaming tool
// prints whole characters as soon as they are final and never prints any
// part of a stop string.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_RUNTIME_TEXTSTREAM_H
#define FMC_RUNTIME_TEXTSTREAM_H

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fmc {

class TextStream {
public:
  explicit TextStream(std::vector<std::string> stopStrings = {});

  /// Adds decoded bytes and returns those that can be shown now. Stop
  /// strings are searched only in generated text, never in the prompt's.
  /// Once a stop string is found, the text before it is returned and
  /// everything after is dropped.
  std::string push(std::string_view bytes, bool generated = true);

  /// The stop string that ended the text, if one did.
  std::optional<std::string> stoppedAt() const;

  /// The bytes held back, at the end of the text.
  std::string flush();

private:
  std::vector<std::string> stops;
  std::string pending;   ///< Bytes not shown yet.
  size_t searchFrom = 0; ///< Stop strings start at pending[searchFrom..].
  std::optional<size_t> stopIndex;
};

} // namespace fmc

#endif // FMC_RUNTIME_TEXTSTREAM_H
