//===- Vocabulary.cpp - read a tokenizer by its format --------------------===//

#include "import/Vocabulary.h"

#include "import/readers/ByteReader.h"
#include "import/readers/VocabularyReaders.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

using namespace llvm;

namespace fmc::import {

Expected<Vocabulary> readVocabulary(const TokenizerRef &ref) {
  switch (ref.format) {
  case TokenizerRef::Format::Llama2c: {
    Expected<std::unique_ptr<MemoryBuffer>> buffer = mapFile(ref.file);
    if (!buffer)
      return buffer.takeError();
    return parseLlama2cVocabulary(ref.file, (*buffer)->getBuffer());
  }
  case TokenizerRef::Format::GGUF: {
    Expected<GGUFFile> gguf = readGGUFFile(ref.file);
    if (!gguf)
      return gguf.takeError();
    return vocabularyFromGGUF(*gguf);
  }
  case TokenizerRef::Format::HFJson: {
    Expected<std::unique_ptr<MemoryBuffer>> buffer = mapFile(ref.file);
    if (!buffer)
      return buffer.takeError();
    SmallString<256> configPath = sys::path::parent_path(ref.file);
    sys::path::append(configPath, "tokenizer_config.json");
    std::unique_ptr<MemoryBuffer> config;
    if (sys::fs::exists(configPath)) {
      Expected<std::unique_ptr<MemoryBuffer>> read = mapFile(configPath);
      if (!read)
        return read.takeError();
      config = std::move(*read);
    }
    // Newer checkpoints keep the chat template in a file of its own; a
    // chat_template in tokenizer_config.json wins, as in transformers.
    SmallString<256> templatePath = sys::path::parent_path(ref.file);
    sys::path::append(templatePath, "chat_template.jinja");
    std::unique_ptr<MemoryBuffer> chatTemplate;
    if (sys::fs::exists(templatePath)) {
      Expected<std::unique_ptr<MemoryBuffer>> read = mapFile(templatePath);
      if (!read)
        return read.takeError();
      chatTemplate = std::move(*read);
    }
    return parseHFTokenizer(
        ref.file, (*buffer)->getBuffer(), configPath,
        config ? std::optional<StringRef>(config->getBuffer()) : std::nullopt,
        chatTemplate ? chatTemplate->getBuffer() : StringRef());
  }
  }
  return fileError(ref.file, "unknown tokenizer format");
}

} // namespace fmc::import
