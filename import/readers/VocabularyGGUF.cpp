//===- VocabularyGGUF.cpp - tokenizer.ggml.* of a GGUF file ---------------===//
//
// tokenizer.ggml.model says the algorithm ("llama": SentencePiece, "gpt2":
// byte-level BPE); tokens, scores, token_type and merges are parallel arrays
// (merges as "left right" strings); bos/eos ids and add_bos_token are
// scalars, with 0xFFFFFFFF meaning "none".
//
//===----------------------------------------------------------------------===//

#include "import/readers/VocabularyReaders.h"

#include "import/readers/ByteReader.h"

using namespace llvm;

namespace fmc::import {

namespace {
/// Typed access to tokenizer.ggml.* with messages naming the file and key.
struct Keys {
  const GGUFFile &gguf;

  Error error(StringRef key, const Twine &message) const {
    return fileError(gguf.file, "metadata '" + key + "' " + message);
  }

  /// The array `key` of `type`, or null when absent; an error when present
  /// with another type or with `expectedSize` given and another length.
  Expected<const std::vector<GGUFValue> *>
  array(StringRef key, GGUFType type,
        std::optional<size_t> expectedSize = std::nullopt) const {
    const GGUFValue *value = gguf.find(key);
    if (!value)
      return nullptr;
    const std::vector<GGUFValue> *elements = value->getArray(type);
    if (!elements)
      return error(key, Twine("is not an array of ") + ggufTypeName(type));
    if (expectedSize && elements->size() != *expectedSize)
      return error(key, "has " + Twine(elements->size()) +
                            " entries, but there are " +
                            Twine(*expectedSize) + " tokens");
    return elements;
  }

  /// A token id in [0, tokens), or -1 when absent or 0xFFFFFFFF.
  Expected<int64_t> tokenId(StringRef key, size_t tokens) const {
    const GGUFValue *value = gguf.find(key);
    if (!value)
      return -1;
    std::optional<int64_t> id = value->getInteger();
    if (!id)
      return error(key, "is not an integer");
    if (*id == UINT32_MAX || *id == -1)
      return -1;
    if (*id < 0 || static_cast<uint64_t>(*id) >= tokens)
      return error(key, "is " + Twine(*id) + ", not a token id (there are " +
                            Twine(tokens) + " tokens)");
    return *id;
  }
};
} // namespace

Expected<Vocabulary> vocabularyFromGGUF(const GGUFFile &gguf) {
  Keys keys{gguf};
  Vocabulary vocabulary;

  const GGUFValue *model = gguf.find("tokenizer.ggml.model");
  if (!model)
    return fileError(gguf.file, "has no tokenizer: missing metadata "
                                "'tokenizer.ggml.model'");
  std::optional<StringRef> modelName = model->getString();
  if (!modelName)
    return keys.error("tokenizer.ggml.model", "is not a string");
  if (*modelName == "llama")
    vocabulary.kind = Vocabulary::Kind::SentencePiece;
  else if (*modelName == "gpt2")
    vocabulary.kind = Vocabulary::Kind::ByteLevelBPE;
  else
    return fileError(gguf.file, "unsupported tokenizer model '" + *modelName +
                                    "' (fmc reads 'llama' and 'gpt2')");
  bool spm = vocabulary.kind == Vocabulary::Kind::SentencePiece;

  Expected<const std::vector<GGUFValue> *> tokens =
      keys.array("tokenizer.ggml.tokens", GGUFType::String);
  if (!tokens)
    return tokens.takeError();
  if (!*tokens || (*tokens)->empty())
    return fileError(gguf.file, "missing or empty metadata "
                                "'tokenizer.ggml.tokens'");
  size_t count = (*tokens)->size();
  vocabulary.tokens.reserve(count);
  for (const GGUFValue &token : **tokens)
    vocabulary.tokens.push_back(token.string.str());

  Expected<const std::vector<GGUFValue> *> scores =
      keys.array("tokenizer.ggml.scores", GGUFType::F32, count);
  if (!scores)
    return scores.takeError();
  if (*scores) {
    for (const GGUFValue &score : **scores)
      vocabulary.scores.push_back(static_cast<float>(score.floatValue));
  } else if (spm) {
    return fileError(gguf.file, "missing metadata 'tokenizer.ggml.scores', "
                                "which a 'llama' tokenizer merges by");
  }

  Expected<const std::vector<GGUFValue> *> types =
      keys.array("tokenizer.ggml.token_type", GGUFType::I32, count);
  if (!types)
    return types.takeError();
  if (*types) {
    for (auto [i, type] : llvm::enumerate(**types)) {
      if (type.signedValue < 0 || type.signedValue > 6)
        return keys.error("tokenizer.ggml.token_type",
                          "gives token " + Twine(i) + " the unknown type " +
                              Twine(type.signedValue));
      vocabulary.tokenTypes.push_back(
          static_cast<Vocabulary::TokenType>(type.signedValue));
    }
  }

  Expected<const std::vector<GGUFValue> *> merges =
      keys.array("tokenizer.ggml.merges", GGUFType::String);
  if (!merges)
    return merges.takeError();
  if (*merges) {
    for (auto [i, merge] : llvm::enumerate(**merges)) {
      // Split at the first space after the first byte, as llama.cpp does: a
      // pair's left half is never empty but may itself be a space.
      size_t space = merge.string.find(' ', 1);
      if (space == StringRef::npos)
        return keys.error("tokenizer.ggml.merges",
                          "entry " + Twine(i) + " has no space separating "
                                                "two tokens");
      vocabulary.merges.emplace_back(merge.string.take_front(space).str(),
                                     merge.string.drop_front(space + 1).str());
    }
  } else if (!spm) {
    return fileError(gguf.file, "missing metadata 'tokenizer.ggml.merges', "
                                "which a 'gpt2' tokenizer merges by");
  }

  Expected<int64_t> bos = keys.tokenId("tokenizer.ggml.bos_token_id", count);
  if (!bos)
    return bos.takeError();
  Expected<int64_t> eos = keys.tokenId("tokenizer.ggml.eos_token_id", count);
  if (!eos)
    return eos.takeError();
  vocabulary.bosId = *bos;
  vocabulary.eosId = *eos;

  // llama.cpp's defaults: SentencePiece adds BOS, byte-level BPE does not.
  vocabulary.addBos = spm;
  if (const GGUFValue *addBos = gguf.find("tokenizer.ggml.add_bos_token")) {
    std::optional<bool> value = addBos->getBool();
    if (!value)
      return keys.error("tokenizer.ggml.add_bos_token", "is not a bool");
    vocabulary.addBos = *value;
  }
  return vocabulary;
}

} // namespace fmc::import
