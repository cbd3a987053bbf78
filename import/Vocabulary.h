//===- Vocabulary.h - a tokenizer, normalized for the artifact ------------===//
//
// The compiler reads a model's tokenizer (llama2.c tok*.bin, GGUF
// tokenizer.ggml.*, Hugging Face tokenizer.json) into a Vocabulary, which the
// artifact writer stores and the runtime's tokenizer implements. No MLIR or
// LLVM types here beyond llvm::Expected: the runtime mirrors this struct.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_IMPORT_VOCABULARY_H
#define FMC_IMPORT_VOCABULARY_H

#include "import/ModelSource.h"

#include <string>
#include <utility>
#include <vector>

namespace fmc::import {

struct Vocabulary {
  enum class Kind {
    /// SentencePiece-style BPE: merges chosen by token score, "▁" for spaces
    /// (llama2.c replaces it by a plain space), <0xXX> byte-fallback tokens.
    SentencePiece,
    /// GPT-2 byte-level BPE: bytes mapped to printable code points, merges
    /// chosen by rank.
    ByteLevelBPE,
  };
  Kind kind;
  std::vector<std::string> tokens; ///< Token text as stored by the format.
  std::vector<float> scores;       ///< SentencePiece scores (empty for BPE).
  /// BPE merges in rank order, as "left right" pairs (empty for SPM).
  /// A SentencePiece-style tokenizer.json (byte_fallback, Metaspace) has
  /// merges and no scores: then merges decide, by rank, as for BPE.
  std::vector<std::pair<std::string, std::string>> merges;
  /// Per-token types, numbered as GGUF's tokenizer.ggml.token_type (and
  /// llama.cpp's llama_token_type); empty when the format does not say
  /// (llama2.c).
  enum class TokenType : int32_t {
    Undefined = 0,
    Normal = 1,
    Unknown = 2,
    Control = 3,
    UserDefined = 4,
    Unused = 5,
    Byte = 6,
  };
  std::vector<TokenType> tokenTypes;
  int64_t bosId = -1;
  int64_t eosId = -1;
  bool addBos = true;
  bool addEos = false;
  /// SentencePiece: prepend a space to text that starts the prompt or
  /// follows a special token (tokenizer.ggml.add_space_prefix).
  bool addSpacePrefix = true;

  /// Byte-level BPE: how text is split into words before merging, by
  /// llama.cpp's pre-tokenizer types (mirrors schema::PreTokenizer; the
  /// regexes are in runtime/PreTokenizer.cpp).
  enum class PreTokenizer {
    Gpt2,
    Llama3,
    Qwen2,
    Qwen35,
    DeepseekLlm,
    DeepseekCoder,
    Falcon,
    Starcoder,
    Default,
    Gemma4,
  };
  PreTokenizer preTokenizer = PreTokenizer::Gpt2;
  /// Byte-level BPE: a word that is a token is not merged (Llama 3).
  bool ignoreMerges = false;

  /// The model's chat template (Jinja), verbatim; empty when it has none.
  std::string chatTemplate;
  /// The chat-template families fmc-run renders (mirrors
  /// schema::ChatTemplateFamily).
  enum class ChatFamily {
    None,
    Llama2,
    Llama3,
    ChatML,
    Gemma,
    Mistral,
    Phi3,
    CommandR,
    DeepSeek,
  };
  /// The family recognised in chatTemplate (recogniseChatTemplate).
  ChatFamily chatFamily = ChatFamily::None;
};

/// The family of a chat template, recognised from markers in its text as
/// llama.cpp's llm_chat_detect_template does (<|im_start|> for ChatML,
/// <|start_header_id|> for Llama 3, ...); None when no family's markers are
/// all present.
Vocabulary::ChatFamily recogniseChatTemplate(llvm::StringRef text);

/// The pre-tokenizer GGUF's tokenizer.ggml.pre `name` stands for (llama.cpp's
/// names and aliases), or none.
std::optional<Vocabulary::PreTokenizer> preTokenizerNamed(llvm::StringRef name);

/// The names preTokenizerNamed knows, comma-separated, for messages.
std::string knownPreTokenizerNames();

llvm::Expected<Vocabulary> readVocabulary(const TokenizerRef &ref);

} // namespace fmc::import

#endif // FMC_IMPORT_VOCABULARY_H
