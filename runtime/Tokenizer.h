//===- Tokenizer.h - text to token ids and back ---------------------------===//
//
// The runtime's tokenizers implement the vocabularies the artifact carries,
// as llama.cpp does (src/llama-vocab.cpp), so that a prompt gets the ids the
// model was trained on:
//  - SentencePiece-style BPE with or without byte fallback (llama2.c
//    tok*.bin, GGUF "llama"): merges chosen by token score, spaces as U+2581;
//  - byte-level BPE (GGUF "gpt2", Hugging Face tokenizer.json): text split
//    into words by the vocabulary's pre-tokenizer (runtime/PreTokenizer.h),
//    bytes mapped to printable code points, merges chosen by rank; Gemma 4's
//    variant merges raw UTF-8 with U+2581 spaces and <0xXX> byte fallback.
// Special tokens: the text of a user-defined (added, non-special) token
// always stands for it, as in llama.cpp and Hugging Face tokenizers; the
// text of a control token (BOS, <|eot_id|>, ...) or the unknown token only
// when the caller asks (parseSpecial), so that text a user typed cannot
// inject control tokens.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_RUNTIME_TOKENIZER_H
#define FMC_RUNTIME_TOKENIZER_H

#include "runtime/schema/fmc_generated.h"

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace fmc {

/// A part of a prompt put together by a program (a chat template): text
/// whose control tokens' text stands for them only when `parseSpecial`, or
/// one token id (`token` >= 0, `text` unused). Adjacent texts are encoded as
/// one text, so that the pieces get the ids their concatenation would.
struct PromptPiece {
  std::string text;
  bool parseSpecial = false;
  int32_t token = -1;
};

class Tokenizer {
public:
  /// The tokenizer an artifact describes (validated by Artifact::open).
  static absl::StatusOr<std::unique_ptr<Tokenizer>>
  create(const schema::Tokenizer &tokenizer);

  virtual ~Tokenizer() = default;

  /// The ids of `text`, without BOS or EOS. Control tokens' text is matched
  /// only when `parseSpecial` is set (see the file comment).
  std::vector<int32_t> encode(std::string_view text,
                              bool parseSpecial = false) const;

  /// The ids of `pieces` (see PromptPiece), without BOS or EOS: a message
  /// a user typed goes in a piece without parseSpecial, so that it cannot
  /// inject control tokens, and still gets the ids of the whole text.
  std::vector<int32_t> encode(const std::vector<PromptPiece> &pieces) const;

  /// The id of the token spelled `text`, or -1.
  int32_t tokenId(std::string_view text) const { return idOf(text); }

  /// encode(), with BOS and EOS added as the vocabulary says (addBos(),
  /// addEos()) when `addSpecial` is set.
  std::vector<int32_t> encodePrompt(std::string_view text, bool addSpecial,
                                    bool parseSpecial) const;

  /// The bytes `token` stands for when it follows `previous` (-1 for none):
  /// SentencePiece drops the space it prepended to the first word after BOS.
  /// BOS, EOS and other control tokens decode to nothing.
  virtual std::string decode(int32_t previous, int32_t token) const = 0;

  /// The bytes `token` appends in the middle of a text (what a grammar
  /// matches); empty for tokens that are not text (control and unknown).
  std::string textBytes(int32_t token) const;

  /// The token's text for people: what it decodes to in the middle of a
  /// text, or its own text for a control token ("<|eot_id|>").
  std::string pieceText(int32_t token) const;

  int32_t bos() const { return bos_; }
  int32_t eos() const { return eos_; }
  bool addBos() const { return addBos_; }
  bool addEos() const { return addEos_; }
  int32_t size() const { return static_cast<int32_t>(tokens_.size()); }

protected:
  explicit Tokenizer(const schema::Tokenizer &t);

  /// Appends the ids of `text`, which holds no special token's text;
  /// `afterSpecial`: it starts the prompt or follows a special token.
  virtual void encodeText(std::string_view text, bool afterSpecial,
                          std::vector<int32_t> &out) const = 0;

  /// Whether `token` is a control token (decodes to nothing).
  bool isControl(int32_t token) const {
    return token == bos_ || token == eos_ ||
           (token >= 0 && token < static_cast<int32_t>(types_.size()) &&
            types_[token] == kControl);
  }
  /// The id of the token spelled `text`, or -1.
  int32_t idOf(std::string_view text) const {
    auto it = ids_.find(text);
    return it == ids_.end() ? -1 : it->second;
  }

  // Token types as GGUF numbers them.
  static constexpr uint8_t kUnknown = 2, kControl = 3, kUserDefined = 4;

  std::vector<std::string_view> tokens_;
  std::vector<uint8_t> types_;
  absl::flat_hash_map<std::string_view, int32_t> ids_;
  int32_t bos_, eos_;
  bool addBos_, addEos_;

private:
  /// Special tokens (control, user-defined, unknown), longest text first.
  std::vector<int32_t> specials_;
};

} // namespace fmc

#endif // FMC_RUNTIME_TOKENIZER_H
