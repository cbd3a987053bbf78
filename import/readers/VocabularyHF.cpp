//===- VocabularyHF.cpp - Hugging Face tokenizer.json (BPE) ---------------===//
//
// tokenizer.json's "model" gives the vocab (token -> id) and merges (rank
// order, "a b" strings or ["a", "b"] pairs); "added_tokens" adds or marks
// tokens by id. The algorithm is byte-level BPE when a pre-tokenizer or
// decoder is ByteLevel (GPT-2, Llama 3, Qwen), SentencePiece-style when the
// model falls back to bytes or uses Metaspace (Llama 2, Mistral).
// tokenizer.json does not say which tokens are BOS/EOS:
// tokenizer_config.json beside it does (bos_token, eos_token, add_bos_token).
//
//===----------------------------------------------------------------------===//

#include "import/readers/VocabularyReaders.h"

#include "import/readers/ByteReader.h"
#include "import/readers/Json.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"

using namespace llvm;

namespace fmc::import {

/// Whether `value` or anything nested in it is an object whose "type" is one
/// of `types` (pre-tokenizers and decoders nest inside "Sequence"s).
static bool hasComponent(const json::Value *value,
                         std::initializer_list<StringRef> types,
                         unsigned depth = 0) {
  if (!value || depth > 8)
    return false;
  if (const json::Object *object = value->getAsObject()) {
    if (std::optional<StringRef> type = object->getString("type"))
      if (llvm::is_contained(types, *type))
        return true;
    for (const auto &[key, member] : *object)
      if (hasComponent(&member, types, depth + 1))
        return true;
  } else if (const json::Array *array = value->getAsArray()) {
    for (const json::Value &element : *array)
      if (hasComponent(&element, types, depth + 1))
        return true;
  }
  return false;
}

/// "<0x0A>"-style byte-fallback token.
static bool isByteToken(StringRef token) {
  return token.size() == 6 && token.starts_with("<0x") &&
         token.ends_with(">") && isHexDigit(token[3]) && isHexDigit(token[4]);
}

/// The text of a special-token entry of tokenizer_config.json: a string, or
/// an AddedToken object {"content": ...}; none for null or absent.
static std::optional<StringRef> specialTokenText(const json::Object &config,
                                                 StringRef key) {
  const json::Value *value = config.get(key);
  if (!value)
    return std::nullopt;
  if (std::optional<StringRef> text = value->getAsString())
    return text;
  if (const json::Object *object = value->getAsObject())
    return object->getString("content");
  return std::nullopt;
}

Expected<Vocabulary> parseHFTokenizer(StringRef file, StringRef text,
                                      StringRef configFile,
                                      std::optional<StringRef> configText) {
  Expected<json::Value> root = parseJson(file, text);
  if (!root)
    return root.takeError();
  const json::Object *tokenizer = root->getAsObject();
  if (!tokenizer)
    return fileError(file, "is " + describeJsonKind(*root) +
                               ", expected an object");
  const json::Object *model = tokenizer->getObject("model");
  if (!model)
    return fileError(file, "missing object 'model'");
  std::optional<StringRef> type = model->getString("type");
  // Old files leave the type out; a BPE model is recognised by its merges.
  if (type ? *type != "BPE" : !model->getArray("merges"))
    return fileError(file, "unsupported tokenizer model '" +
                               type.value_or("(no type)") +
                               "' (fmc reads 'BPE')");
  const json::Object *vocab = model->getObject("vocab");
  if (!vocab)
    return fileError(file, "model: missing object 'vocab'");
  const json::Array *merges = model->getArray("merges");
  if (!merges)
    return fileError(file, "model: missing array 'merges'");

  Vocabulary vocabulary;
  if (hasComponent(tokenizer->get("pre_tokenizer"), {"ByteLevel"}) ||
      hasComponent(tokenizer->get("decoder"), {"ByteLevel"}))
    vocabulary.kind = Vocabulary::Kind::ByteLevelBPE;
  else if (model->getBoolean("byte_fallback").value_or(false) ||
           hasComponent(tokenizer->get("pre_tokenizer"), {"Metaspace"}) ||
           hasComponent(tokenizer->get("decoder"), {"Metaspace", "ByteFallback"}))
    vocabulary.kind = Vocabulary::Kind::SentencePiece;
  else
    return fileError(file, "BPE model is neither byte-level (a ByteLevel "
                           "pre-tokenizer or decoder) nor SentencePiece-style "
                           "(byte_fallback or Metaspace)");
  bool spm = vocabulary.kind == Vocabulary::Kind::SentencePiece;

  // Token ids must be dense: size the table by the largest id, then check
  // that every slot got a token. A corrupt id cannot exceed the number of
  // entries by much without leaving holes, so bound it before allocating.
  const json::Array *added = tokenizer->getArray("added_tokens");
  size_t entries = vocab->size() + (added ? added->size() : 0);
  std::vector<std::optional<std::string>> byId;
  auto place = [&](int64_t id, StringRef token,
                   const Twine &where) -> Expected<bool> {
    if (id < 0 || static_cast<uint64_t>(id) >= entries)
      return fileError(file, where + ": token '" + token + "' has id " +
                                 Twine(id) + ", outside [0, " + Twine(entries) +
                                 ")");
    if (byId.size() <= static_cast<size_t>(id))
      byId.resize(id + 1);
    std::optional<std::string> &slot = byId[id];
    if (slot && *slot != token)
      return fileError(file, where + ": tokens '" + *slot + "' and '" + token +
                                 "' both have id " + Twine(id));
    bool fresh = !slot;
    slot = token.str();
    return fresh;
  };
  for (const auto &[token, idValue] : *vocab) {
    std::optional<int64_t> id = idValue.getAsInteger();
    if (!id)
      return fileError(file, "model.vocab: token '" + token.str() +
                                 "' has an id that is not an integer");
    if (Expected<bool> placed = place(*id, token, "model.vocab"); !placed)
      return placed.takeError();
  }
  std::vector<std::pair<int64_t, bool>> addedIds; // (id, special)
  if (added) {
    for (auto [i, entry] : llvm::enumerate(*added)) {
      const json::Object *object = entry.getAsObject();
      std::optional<int64_t> id =
          object ? object->getInteger("id") : std::nullopt;
      std::optional<StringRef> content =
          object ? object->getString("content") : std::nullopt;
      if (!id || !content)
        return fileError(file, "added_tokens[" + Twine(i) +
                                   "]: expected an object with integer 'id' "
                                   "and string 'content'");
      if (Expected<bool> placed = place(*id, *content, "added_tokens");
          !placed)
        return placed.takeError();
      addedIds.push_back({*id, object->getBoolean("special").value_or(false)});
    }
  }
  if (byId.empty())
    return fileError(file, "model.vocab is empty");

  std::optional<StringRef> unknown = model->getString("unk_token");
  vocabulary.tokens.reserve(byId.size());
  vocabulary.tokenTypes.reserve(byId.size());
  for (auto [id, token] : llvm::enumerate(byId)) {
    if (!token)
      return fileError(file, "token id " + Twine(id) +
                                 " has no token in model.vocab or "
                                 "added_tokens");
    using TokenType = Vocabulary::TokenType;
    TokenType tokenType = TokenType::Normal;
    if (unknown && *token == *unknown)
      tokenType = TokenType::Unknown;
    else if (spm && isByteToken(*token))
      tokenType = TokenType::Byte;
    vocabulary.tokens.push_back(std::move(*token));
    vocabulary.tokenTypes.push_back(tokenType);
  }
  for (auto [id, special] : addedIds)
    vocabulary.tokenTypes[id] = special ? Vocabulary::TokenType::Control
                                        : Vocabulary::TokenType::UserDefined;

  vocabulary.merges.reserve(merges->size());
  for (auto [i, merge] : llvm::enumerate(*merges)) {
    if (std::optional<StringRef> pair = merge.getAsString()) {
      size_t space = pair->find(' ', 1);
      if (space == StringRef::npos)
        return fileError(file, "model.merges[" + Twine(i) +
                                   "]: no space separating two tokens");
      vocabulary.merges.emplace_back(pair->take_front(space).str(),
                                     pair->drop_front(space + 1).str());
      continue;
    }
    const json::Array *pair = merge.getAsArray();
    if (!pair || pair->size() != 2 || !(*pair)[0].getAsString() ||
        !(*pair)[1].getAsString())
      return fileError(file, "model.merges[" + Twine(i) +
                                 "]: expected \"a b\" or [\"a\", \"b\"]");
    vocabulary.merges.emplace_back((*pair)[0].getAsString()->str(),
                                   (*pair)[1].getAsString()->str());
  }

  // BOS/EOS and add_bos_token from tokenizer_config.json.
  vocabulary.addBos = false;
  if (!configText)
    return vocabulary;
  Expected<json::Value> configRoot = parseJson(configFile, *configText);
  if (!configRoot)
    return configRoot.takeError();
  const json::Object *config = configRoot->getAsObject();
  if (!config)
    return fileError(configFile, "is " + describeJsonKind(*configRoot) +
                                     ", expected an object");
  StringMap<int64_t> idOf;
  for (auto [id, token] : llvm::enumerate(vocabulary.tokens))
    idOf.try_emplace(token, id);
  for (auto [key, id] : {std::pair{"bos_token", &vocabulary.bosId},
                         std::pair{"eos_token", &vocabulary.eosId}}) {
    std::optional<StringRef> token = specialTokenText(*config, key);
    if (!token)
      continue;
    auto it = idOf.find(*token);
    if (it == idOf.end())
      return fileError(configFile, Twine(key) + " '" + *token +
                                       "' is not a token of " + file);
    *id = it->second;
  }
  if (const json::Value *addBos = config->get("add_bos_token")) {
    std::optional<bool> value = addBos->getAsBoolean();
    if (!value)
      return fileError(configFile, "add_bos_token is " +
                                       describeJsonKind(*addBos) +
                                       ", expected a boolean");
    vocabulary.addBos = *value;
  } else if (vocabulary.bosId >= 0) {
    // Without the flag, a post-processor template that starts with the BOS
    // token adds it (Llama 3's TemplateProcessing).
    const json::Object *post = tokenizer->getObject("post_processor");
    const json::Array *single = post ? post->getArray("single") : nullptr;
    if (single && !single->empty())
      if (const json::Object *first = single->front().getAsObject())
        if (const json::Object *special = first->getObject("SpecialToken"))
          vocabulary.addBos = special->getString("id") ==
                              StringRef(vocabulary.tokens[vocabulary.bosId]);
  }
  return vocabulary;
}

} // namespace fmc::import
