//===- ReadModel.cpp - pick the reader by what a path is ------------------===//

#include "import/ModelSource.h"

#include "import/readers/ByteReader.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

using namespace llvm;

namespace fmc::import {

/// A tokenizer file's format: GGUF by its magic, tokenizer.json by its
/// extension, else a llama2.c tok*.bin.
static Expected<TokenizerRef> tokenizerRef(StringRef path) {
  Expected<std::string> magic = readMagic(path);
  if (!magic)
    return magic.takeError();
  TokenizerRef::Format format = TokenizerRef::Format::Llama2c;
  if (*magic == "GGUF")
    format = TokenizerRef::Format::GGUF;
  else if (sys::path::extension(path) == ".json")
    format = TokenizerRef::Format::HFJson;
  return TokenizerRef{format, path.str()};
}

Expected<ModelSource> readModel(StringRef path,
                                std::optional<StringRef> tokenizer) {
  if (!sys::fs::exists(path))
    return fileError(path, "no such file or directory");

  Expected<ModelSource> source = [&]() -> Expected<ModelSource> {
    if (sys::fs::is_directory(path))
      return readHuggingFace(path);
    Expected<std::string> magic = readMagic(path);
    if (!magic)
      return magic.takeError();
    if (*magic == "GGUF")
      return readGGUF(path);
    return readLlama2c(path, std::nullopt);
  }();
  if (!source)
    return source.takeError();

  // An explicit tokenizer wins over the one the model carries.
  if (tokenizer) {
    Expected<TokenizerRef> ref = tokenizerRef(*tokenizer);
    if (!ref)
      return ref.takeError();
    source->tokenizer = std::move(*ref);
  }
  return source;
}

} // namespace fmc::import
