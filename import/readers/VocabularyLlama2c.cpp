//===- VocabularyLlama2c.cpp - llama2.c tok*.bin --------------------------===//
//
// llama2.c's tokenizer (run.c build_tokenizer): int32 max_token_length, then
// per token: f32 score, int32 byte length, bytes. The file does not store the
// token count (run.c takes it from the checkpoint), so tokens run to the end
// of the file; the builder checks the count against the model's vocab_size.
// Token text is as stored: a space where SentencePiece has "▁", and BOS/EOS
// spelled "\n<s>\n" and "\n</s>\n".
//
//===----------------------------------------------------------------------===//

#include "import/readers/VocabularyReaders.h"

#include "import/readers/ByteReader.h"

using namespace llvm;

namespace fmc::import {

Expected<Vocabulary> parseLlama2cVocabulary(StringRef file, StringRef bytes) {
  ByteReader reader(file, bytes);
  Expected<int32_t> maxLength = reader.readI32("max_token_length");
  if (!maxLength)
    return maxLength.takeError();
  if (*maxLength <= 0)
    return reader.error("max_token_length is " + Twine(*maxLength) +
                        ", expected a positive value");

  Vocabulary vocabulary;
  vocabulary.kind = Vocabulary::Kind::SentencePiece;
  while (reader.remaining() > 0) {
    size_t index = vocabulary.tokens.size();
    Expected<float> score = reader.readF32("token " + Twine(index) + " score");
    if (!score)
      return score.takeError();
    Expected<int32_t> length =
        reader.readI32("token " + Twine(index) + " length");
    if (!length)
      return length.takeError();
    if (*length < 0 || *length > *maxLength)
      return reader.error("token " + Twine(index) + " has length " +
                          Twine(*length) + ", outside [0, max_token_length " +
                          Twine(*maxLength) + "]");
    Expected<StringRef> text =
        reader.readBytes(*length, "token " + Twine(index) + " text");
    if (!text)
      return text.takeError();
    vocabulary.tokens.push_back(text->str());
    vocabulary.scores.push_back(*score);
  }
  if (vocabulary.tokens.empty())
    return reader.error("no tokens after max_token_length");
  // run.c's fixed ids.
  vocabulary.bosId = 1;
  vocabulary.eosId = 2;
  vocabulary.addBos = true;
  if (vocabulary.tokens.size() <= 2)
    return reader.error("has " + Twine(vocabulary.tokens.size()) +
                        " tokens, too few for llama2.c's BOS 1 and EOS 2");
  return vocabulary;
}

} // namespace fmc::import
