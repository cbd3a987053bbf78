//===- VocabularyStopgap.cpp - llama2.c tokenizer reading, until import ---===//
//
// STOPGAP: the importer's readers (import/readers, branch import-readers)
// implement readVocabulary for every format. Until that branch is merged,
// this reads llama2.c tok*.bin files so artifacts carry their tokenizer.
// Delete this file when FmcImportReaders is linked instead.
//
//===----------------------------------------------------------------------===//

#include "import/Vocabulary.h"

#include "llvm/Support/Endian.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cstring>

using namespace fmc::import;

llvm::Expected<Vocabulary> fmc::import::readVocabulary(const TokenizerRef &ref) {
  auto fail = [&](const llvm::Twine &message) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "'" + ref.file + "': " + message);
  };
  if (ref.format != TokenizerRef::Format::Llama2c)
    return fail("only llama2.c tokenizers can be read in this build");
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> file =
      llvm::MemoryBuffer::getFile(ref.file, /*IsText=*/false,
                                  /*RequiresNullTerminator=*/false);
  if (!file)
    return fail(file.getError().message());
  llvm::StringRef data = (*file)->getBuffer();
  size_t at = 0;
  auto read32 = [&](uint32_t &value) {
    if (data.size() - at < 4)
      return false;
    value = llvm::support::endian::read32le(data.data() + at);
    at += 4;
    return true;
  };
  uint32_t maxLength;
  if (!read32(maxLength))
    return fail("truncated header (max_token_length)");
  Vocabulary vocab;
  vocab.kind = Vocabulary::Kind::SentencePiece;
  while (at < data.size()) {
    uint32_t scoreBits, length;
    size_t index = vocab.tokens.size();
    if (!read32(scoreBits) || !read32(length))
      return fail("token " + llvm::Twine(index) + " is truncated");
    if (length > maxLength || data.size() - at < length)
      return fail("token " + llvm::Twine(index) + " has length " +
                  llvm::Twine(length) + ", beyond max_token_length " +
                  llvm::Twine(maxLength) + " or the end of the file");
    float score;
    std::memcpy(&score, &scoreBits, sizeof(score));
    vocab.scores.push_back(score);
    vocab.tokens.push_back(data.substr(at, length).str());
    at += length;
  }
  vocab.bosId = 1;
  vocab.eosId = 2;
  return vocab;
}
