//===- Tokenizer.h - text to token ids and back ---------------------------===//
//
// The runtime's tokenizers implement the vocabularies the artifact carries:
// SentencePiece-style BPE with byte fallback (llama2.c tok*.bin, GGUF "llama"
// vocabularies: merges chosen by token score) and GPT-2 byte-level BPE
// (Hugging Face tokenizer.json, GGUF "gpt2": merges chosen by rank).
//
//===----------------------------------------------------------------------===//

#ifndef FMC_RUNTIME_TOKENIZER_H
#define FMC_RUNTIME_TOKENIZER_H

#include "runtime/schema/fmc_generated.h"

#include "absl/status/statusor.h"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace fmc {

class Tokenizer {
public:
  /// The tokenizer an artifact describes (validated by Artifact::open).
  static absl::StatusOr<std::unique_ptr<Tokenizer>>
  create(const schema::Tokenizer &tokenizer);

  virtual ~Tokenizer() = default;

  /// The ids of `text`, without BOS.
  virtual std::vector<int32_t> encode(std::string_view text) const = 0;

  /// The bytes `token` stands for when it follows `previous` (-1 for none):
  /// SentencePiece drops the space it prepended to the first word after BOS.
  /// BOS, EOS and unknown ids decode to nothing.
  virtual std::string decode(int32_t previous, int32_t token) const = 0;

  int32_t bos() const { return bos_; }
  int32_t eos() const { return eos_; }
  bool addBos() const { return addBos_; }
  int32_t size() const { return static_cast<int32_t>(tokens_.size()); }

protected:
  explicit Tokenizer(const schema::Tokenizer &t);

  /// Whether `token` is a control token (decodes to nothing).
  bool isControl(int32_t token) const {
    return token == bos_ || token == eos_ ||
           (token < static_cast<int32_t>(types_.size()) && types_[token] == 3);
  }

  std::vector<std::string_view> tokens_;
  std::vector<uint8_t> types_;
  int32_t bos_, eos_;
  bool addBos_;
};

/// The GPT-2 pre-tokenizer's split of `text` (contractions, letter runs,
/// digit runs, punctuation runs and whitespace, a single leading space
/// attached to the run that follows it). Exposed for tests.
std::vector<std::string_view> splitGpt2(std::string_view text);

} // namespace fmc

#endif // FMC_RUNTIME_TOKENIZER_H
