//===- PreTokenizer.h - split text into words before BPE ------------------===//
//
// Byte-level BPE merges within words, and the words come from a list of
// regexes applied one after the other, each splitting every piece the
// previous ones left into its matches and the text between them (llama.cpp's
// unicode_regex_split). The regexes are llama.cpp's (src/llama-vocab.cpp,
// llm_tokenizer_bpe), run by PCRE2 in UTF mode with Unicode properties.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_RUNTIME_PRETOKENIZER_H
#define FMC_RUNTIME_PRETOKENIZER_H

#include "runtime/schema/fmc_generated.h"

#include "absl/status/statusor.h"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace fmc {

class PreTokenizer {
public:
  /// Compiles the regexes of `type`; an error for a value out of range.
  static absl::StatusOr<std::unique_ptr<PreTokenizer>>
  create(schema::PreTokenizer type);
  ~PreTokenizer();

  /// The words of `text`, which must be valid UTF-8 (see sanitizeUtf8), as
  /// views into it; concatenated they give `text` back.
  std::vector<std::string_view> split(std::string_view text) const;

  /// The regexes `type` applies, in order (empty for an unknown type).
  static std::vector<std::string_view> regexes(schema::PreTokenizer type);

private:
  PreTokenizer() = default;
  struct Compiled;
  std::vector<std::unique_ptr<Compiled>> compiled_;
};

/// `text` with each byte that does not start a well-formed UTF-8 sequence
/// replaced by U+FFFD, as llama.cpp decodes text before splitting it.
std::string sanitizeUtf8(std::string_view text);

/// Appends code point `cp` to `out` as UTF-8.
void appendUtf8(std::string &out, uint32_t cp);

} // namespace fmc

#endif // FMC_RUNTIME_PRETOKENIZER_H
