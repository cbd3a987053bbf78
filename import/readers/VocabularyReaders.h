//===- VocabularyReaders.h - tokenizers from bytes in memory --------------===//
//
// The per-format halves of readVocabulary, taking bytes rather than paths so
// that tests and fuzzers drive them directly.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_IMPORT_READERS_VOCABULARYREADERS_H
#define FMC_IMPORT_READERS_VOCABULARYREADERS_H

#include "import/Vocabulary.h"
#include "import/readers/GGUFFile.h"

namespace fmc::import {

/// A llama2.c tok*.bin: int32 max_token_length, then until the end of the
/// file, per token: f32 score, int32 length, bytes.
llvm::Expected<Vocabulary> parseLlama2cVocabulary(llvm::StringRef file,
                                                  llvm::StringRef bytes);

/// tokenizer.ggml.* of a parsed GGUF file.
llvm::Expected<Vocabulary> vocabularyFromGGUF(const GGUFFile &gguf);

/// A Hugging Face tokenizer.json with a BPE model. `config` is the text of
/// the tokenizer_config.json beside it, if any, named `configFile`;
/// `chatTemplateFile` the text of the chat_template.jinja beside it, the
/// chat template when tokenizer_config.json gives none.
llvm::Expected<Vocabulary>
parseHFTokenizer(llvm::StringRef file, llvm::StringRef json,
                 llvm::StringRef configFile,
                 std::optional<llvm::StringRef> config,
                 llvm::StringRef chatTemplateFile = "");

} // namespace fmc::import

#endif // FMC_IMPORT_READERS_VOCABULARYREADERS_H
