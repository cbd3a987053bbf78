//===- VocabularyGGUF.cpp - tokenizer.ggml.* of a GGUF file ---------------===//
//
// tokenizer.ggml.model says the algorithm ("llama": SentencePiece, "gpt2":
// byte-level BPE, "gemma4": BPE over raw UTF-8) and tokenizer.ggml.pre the
// pre-tokenizer of byte-level BPE, by llama.cpp's names; tokens, scores,
// token_type and merges are parallel arrays (merges as "left right"
// strings); bos/eos ids, add_bos_token, add_eos_token and add_space_prefix
// are scalars, with 0xFFFFFFFF meaning "none". Defaults are llama.cpp's
// (llama_vocab::impl::load).
//
//===----------------------------------------------------------------------===//

#include "import/readers/VocabularyReaders.h"

#include "import/readers/ByteReader.h"

#include "llvm/ADT/STLExtras.h"

using namespace llvm;

namespace fmc::import {

namespace {
using Pre = Vocabulary::PreTokenizer;

/// llama.cpp's tokenizer.ggml.pre names, by the regexes they select.
const std::pair<StringRef, Pre> kPreTokenizerNames[] = {
    {"default", Pre::Default},
    {"gpt-2", Pre::Gpt2},
    {"phi-2", Pre::Gpt2},
    {"mpt", Pre::Gpt2},
    {"olmo", Pre::Gpt2},
    {"jais", Pre::Gpt2},
    {"exaone4", Pre::Gpt2},
    {"roberta-bpe", Pre::Gpt2},
    {"llama3", Pre::Llama3},
    {"llama-v3", Pre::Llama3},
    {"llama-bpe", Pre::Llama3},
    {"falcon3", Pre::Llama3},
    {"falcon-h1", Pre::Llama3},
    {"pixtral", Pre::Llama3},
    {"dbrx", Pre::Llama3},
    {"smaug-bpe", Pre::Llama3},
    {"chatglm-bpe", Pre::Llama3},
    {"glm4", Pre::Llama3},
    {"qwen2", Pre::Qwen2},
    {"deepseek-r1-qwen", Pre::Qwen2},
    {"stablelm2", Pre::Qwen2},
    {"megrez", Pre::Qwen2},
    {"hunyuan", Pre::Qwen2},
    {"qwen35", Pre::Qwen35},
    {"deepseek-llm", Pre::DeepseekLlm},
    {"deepseek-coder", Pre::DeepseekCoder},
    {"falcon", Pre::Falcon},
    {"starcoder", Pre::Starcoder},
    {"refact", Pre::Starcoder},
    {"command-r", Pre::Starcoder},
    {"smollm", Pre::Starcoder},
    {"codeshell", Pre::Starcoder},
    {"exaone", Pre::Starcoder},
    {"minerva-7b", Pre::Starcoder},
    {"gemma4", Pre::Gemma4},
};

/// Names whose words llama.cpp does not merge when they are tokens.
bool ignoresMerges(StringRef name) {
  return llvm::is_contained({StringRef("llama3"), StringRef("llama-v3"),
                             StringRef("llama-bpe"), StringRef("falcon3"),
                             StringRef("falcon-h1"), StringRef("pixtral")},
                            name);
}
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
                            " entries, but there are " + Twine(*expectedSize) +
                            " tokens");
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

std::optional<Vocabulary::PreTokenizer> preTokenizerNamed(StringRef name) {
  for (const auto &[known, pre] : kPreTokenizerNames)
    if (known == name)
      return pre;
  return std::nullopt;
}

std::string knownPreTokenizerNames() {
  std::string names;
  for (const auto &[known, pre] : kPreTokenizerNames)
    names += (names.empty() ? "" : ", ") + known.str();
  return names;
}

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
  else if (*modelName == "gpt2" || *modelName == "gemma4")
    vocabulary.kind = Vocabulary::Kind::ByteLevelBPE;
  else
    return fileError(gguf.file, "unsupported tokenizer model '" + *modelName +
                                    "' (fmc reads 'llama', 'gpt2' and "
                                    "'gemma4')");
  bool spm = vocabulary.kind == Vocabulary::Kind::SentencePiece;

  // The pre-tokenizer matters to byte-level BPE only; llama.cpp falls back
  // to its "default" when the key is missing, and refuses names it does not
  // know, as fmc does: a wrong split gives wrong tokens without any error.
  bool llama3Style = false;
  if (*modelName == "gemma4") {
    vocabulary.preTokenizer = Pre::Gemma4;
  } else if (!spm) {
    vocabulary.preTokenizer = Pre::Default;
    if (const GGUFValue *pre = gguf.find("tokenizer.ggml.pre")) {
      std::optional<StringRef> name = pre->getString();
      if (!name)
        return keys.error("tokenizer.ggml.pre", "is not a string");
      std::optional<Pre> known = preTokenizerNamed(*name);
      if (!known)
        return fileError(gguf.file, "unknown pre-tokenizer '" + *name +
                                        "' (metadata 'tokenizer.ggml.pre'); "
                                        "fmc knows " +
                                        knownPreTokenizerNames());
      vocabulary.preTokenizer = *known;
      vocabulary.ignoreMerges = ignoresMerges(*name);
      llama3Style = vocabulary.ignoreMerges;
    }
  }

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
                          "entry " + Twine(i) +
                              " has no space separating "
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

  // llama.cpp's defaults: SentencePiece adds BOS and a space prefix,
  // byte-level BPE neither (but Llama 3 and Gemma 4 add BOS).
  vocabulary.addBos = spm || llama3Style || *modelName == "gemma4";
  vocabulary.addEos = false;
  vocabulary.addSpacePrefix = spm;
  for (auto [key, flag] :
       {std::pair{"tokenizer.ggml.add_bos_token", &vocabulary.addBos},
        std::pair{"tokenizer.ggml.add_eos_token", &vocabulary.addEos},
        std::pair{"tokenizer.ggml.add_space_prefix",
                  &vocabulary.addSpacePrefix}}) {
    if (const GGUFValue *value = gguf.find(key)) {
      std::optional<bool> b = value->getBool();
      if (!b)
        return keys.error(key, "is not a bool");
      *flag = *b;
    }
  }
  if (*modelName == "gemma4")
    vocabulary.addBos = true; // llama.cpp overrides it for Gemma 4.
  if (const GGUFValue *chat = gguf.find("tokenizer.chat_template")) {
    std::optional<StringRef> text = chat->getString();
    if (!text)
      return keys.error("tokenizer.chat_template", "is not a string");
    vocabulary.chatTemplate = text->str();
    vocabulary.chatFamily = recogniseChatTemplate(*text);
  }
  return vocabulary;
}

} // namespace fmc::import
