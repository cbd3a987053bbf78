//===- LoadTokenizer.cpp - a runtime tokenizer from any model file --------===//

#include "tools/common/LoadTokenizer.h"

#include "import/Vocabulary.h"
#include "lowering/artifact/TokenizerTable.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

using namespace llvm;

namespace fmc::tools {

Error loadTokenizer(StringRef path, StringRef tokenizerPath,
                    LoadedTokenizer &loaded) {
  auto error = [&](const Twine &message) {
    return createStringError(inconvertibleErrorCode(), message);
  };
  sys::fs::file_status status;
  if (std::error_code ec = sys::fs::status(path, status))
    return error("'" + path + "': " + ec.message());
  fmc::import::TokenizerRef ref;
  bool plainSpace = false;
  if (sys::fs::is_directory(status)) {
    SmallString<256> json(path);
    sys::path::append(json, "tokenizer.json");
    if (!sys::fs::exists(json))
      return error("'" + path +
                   "': a directory, but it has no tokenizer.json (a Hugging "
                   "Face model directory is expected)");
    ref = {fmc::import::TokenizerRef::Format::HFJson, json.str().str()};
  } else {
    ErrorOr<std::unique_ptr<MemoryBuffer>> head =
        MemoryBuffer::getFileSlice(path, 12, 0);
    if (!head)
      return error("'" + path + "': " + head.getError().message());
    StringRef magic = (*head)->getBuffer();
    if (magic.starts_with("GGUF")) {
      ref = {fmc::import::TokenizerRef::Format::GGUF, path.str()};
    } else if ((magic.size() == 12 && magic.substr(8) == "FMC0") ||
               sys::path::extension(path) == ".fmc") {
      // A size-prefixed FlatBuffer: size, root offset, then the identifier.
      absl::StatusOr<std::unique_ptr<fmc::Artifact>> artifact =
          fmc::Artifact::open(path.str());
      if (!artifact.ok())
        return error("'" + path + "': " +
                     std::string(artifact.status().message()));
      loaded.artifact = std::move(*artifact);
      const fmc::schema::Tokenizer *t = loaded.artifact->root().tokenizer();
      if (!t)
        return error("'" + path + "': the artifact has no tokenizer");
      absl::StatusOr<std::unique_ptr<fmc::Tokenizer>> made =
          fmc::Tokenizer::create(*t);
      if (!made.ok())
        return error("'" + path + "': " + std::string(made.status().message()));
      loaded.tokenizer = std::move(*made);
      loaded.schema = t;
      return Error::success();
    } else if (!tokenizerPath.empty()) {
      ref = {fmc::import::TokenizerRef::Format::Llama2c, tokenizerPath.str()};
      plainSpace = true;
    } else {
      return error("'" + path +
                   "' is not a GGUF file, a Hugging Face directory or an "
                   ".fmc artifact; for a llama2.c checkpoint give its "
                   "tokenizer with --tokenizer");
    }
  }
  if (!tokenizerPath.empty() &&
      ref.format != fmc::import::TokenizerRef::Format::Llama2c)
    return error("--tokenizer is for llama2.c checkpoints; '" + path +
                 "' carries its own tokenizer");
  Expected<fmc::import::Vocabulary> vocabulary =
      fmc::import::readVocabulary(ref);
  if (!vocabulary)
    return vocabulary.takeError();
  loaded.table.Finish(
      fmc::artifact::buildTokenizerTable(loaded.table, *vocabulary, plainSpace));
  loaded.schema = flatbuffers::GetRoot<fmc::schema::Tokenizer>(
      loaded.table.GetBufferPointer());
  absl::StatusOr<std::unique_ptr<fmc::Tokenizer>> made =
      fmc::Tokenizer::create(*loaded.schema);
  if (!made.ok())
    return error(std::string(made.status().message()));
  loaded.tokenizer = std::move(*made);
  return Error::success();
}

} // namespace fmc::tools
