//===- VocabularyHF.cpp - Hugging Face tokenizer.json (BPE) ---------------===//
//
// tokenizer.json's "model" gives the vocab (token -> id) and merges (rank
// order, "a b" strings or ["a", "b"] pairs); "added_tokens" adds or marks
// tokens by id. The algorithm is byte-level BPE when a pre-tokenizer or
// decoder is ByteLevel (GPT-2, Llama 3, Qwen), SentencePiece-style when the
// model falls back to bytes or uses Metaspace (Llama 2, Mistral).
// A byte-level pre_tokenizer is recognised by its parts (ByteLevel, Digits,
// Split with a known regex) as one of llama.cpp's pre-tokenizer types; an
// unknown one is an error, since splitting differently gives other tokens.
// tokenizer.json does not say which tokens are BOS/EOS:
// tokenizer_config.json beside it does (bos_token, eos_token, add_bos_token,
// add_eos_token).
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

/// One pre-tokenizer part as a line of the signature matched below:
/// "ByteLevel regex", "ByteLevel", "Digits individual", "Split <regex>", or
/// the part's type.
static std::string describePart(const json::Object &part) {
  StringRef type = part.getString("type").value_or("(no type)");
  if (type == "ByteLevel")
    return part.getBoolean("use_regex").value_or(true) ? "ByteLevel regex"
                                                       : "ByteLevel";
  if (type == "Digits")
    return part.getBoolean("individual_digits").value_or(false)
               ? "Digits individual"
               : "Digits";
  if (type == "Split") {
    const json::Object *pattern = part.getObject("pattern");
    std::optional<StringRef> regex =
        pattern ? pattern->getString("Regex") : std::nullopt;
    if (!regex && pattern)
      regex = pattern->getString("String");
    return ("Split " + regex.value_or("(no pattern)")).str();
  }
  return type.str();
}

/// The llama.cpp pre-tokenizer a byte-level tokenizer.json's pre_tokenizer
/// amounts to, from the signature of its parts (their Hugging Face regexes).
static Expected<Vocabulary::PreTokenizer>
byteLevelPreTokenizer(StringRef file, const json::Value *pre) {
  using Pre = Vocabulary::PreTokenizer;
  std::vector<std::string> parts;
  if (const json::Object *object = pre ? pre->getAsObject() : nullptr) {
    if (object->getString("type") == StringRef("Sequence")) {
      if (const json::Array *list = object->getArray("pretokenizers"))
        for (const json::Value &part : *list)
          if (const json::Object *p = part.getAsObject())
            parts.push_back(describePart(*p));
    } else {
      parts.push_back(describePart(*object));
    }
  }
  std::string signature = llvm::join(parts, " + ");
  static const std::pair<StringRef, Pre> kKnown[] = {
      {"", Pre::Gpt2}, // Only a ByteLevel decoder: GPT-2 as before.
      {"ByteLevel regex", Pre::Gpt2},
      {"Split (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|"
       "\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|"
       "\\s+ + ByteLevel",
       Pre::Llama3},
      {"Split (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|"
       "\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+ "
       "+ ByteLevel",
       Pre::Qwen2},
      {"Split (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?[\\p{L}"
       "\\p{M}]+|\\p{N}| ?[^\\s\\p{L}\\p{M}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|"
       "\\s+(?!\\S)|\\s+ + ByteLevel",
       Pre::Qwen35},
      {"Digits individual + ByteLevel regex", Pre::Starcoder},
      {"Split [\r\n] + Split \\s?\\p{L}+ + Split \\s?\\p{P}+ + "
       "Split [\xE4\xB8\x80-\xE9\xBE\xA5\xE0\xA0\x80-\xE4\xB8\x80"
       "\xEA\xB0\x80-\xED\x9F\xBF]+ + Digits individual + ByteLevel",
       Pre::DeepseekCoder},
  };
  for (const auto &[known, type] : kKnown)
    if (signature == known)
      return type;
  return fileError(file, "unknown pre_tokenizer '" + signature +
                             "': fmc knows GPT-2's ByteLevel, Llama 3's, "
                             "Qwen 2's and Qwen 3.5's Split, StarCoder's "
                             "Digits + ByteLevel and DeepSeek Coder's "
                             "sequence");
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
                                      std::optional<StringRef> configText,
                                      StringRef chatTemplateFile) {
  Expected<json::Value> root = parseJson(file, text);
  if (!root)
    return root.takeError();
  const json::Object *tokenizer = root->getAsObject();
  if (!tokenizer)
    return fileError(file,
                     "is " + describeJsonKind(*root) + ", expected an object");
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
           hasComponent(tokenizer->get("decoder"),
                        {"Metaspace", "ByteFallback"}))
    vocabulary.kind = Vocabulary::Kind::SentencePiece;
  else
    return fileError(file, "BPE model is neither byte-level (a ByteLevel "
                           "pre-tokenizer or decoder) nor SentencePiece-style "
                           "(byte_fallback or Metaspace)");
  bool spm = vocabulary.kind == Vocabulary::Kind::SentencePiece;
  if (!spm) {
    Expected<Vocabulary::PreTokenizer> pre =
        byteLevelPreTokenizer(file, tokenizer->get("pre_tokenizer"));
    if (!pre)
      return pre.takeError();
    vocabulary.preTokenizer = *pre;
    vocabulary.ignoreMerges = model->getBoolean("ignore_merges").value_or(false);
  } else {
    // Metaspace's prepend_scheme "never" (or add_prefix_space false) adds
    // no space before the first word.
    vocabulary.addSpacePrefix = true;
    for (const json::Value *part :
         {tokenizer->get("pre_tokenizer"), tokenizer->get("normalizer")}) {
      const json::Object *object = part ? part->getAsObject() : nullptr;
      if (object && object->getString("prepend_scheme") == StringRef("never"))
        vocabulary.addSpacePrefix = false;
      if (object && object->getBoolean("add_prefix_space") == false)
        vocabulary.addSpacePrefix = false;
    }
  }

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
      if (Expected<bool> placed = place(*id, *content, "added_tokens"); !placed)
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
  if (!configText) {
    vocabulary.chatTemplate = chatTemplateFile.str();
    vocabulary.chatFamily = recogniseChatTemplate(vocabulary.chatTemplate);
    return vocabulary;
  }
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
  // The chat template: a string, or named templates [{"name", "template"}]
  // of which fmc-run uses "default" (as transformers does).
  if (const json::Value *chat = config->get("chat_template")) {
    if (std::optional<StringRef> text = chat->getAsString()) {
      vocabulary.chatTemplate = text->str();
    } else if (const json::Array *named = chat->getAsArray()) {
      for (const json::Value &entry : *named) {
        const json::Object *object = entry.getAsObject();
        std::optional<StringRef> name =
            object ? object->getString("name") : std::nullopt;
        std::optional<StringRef> text =
            object ? object->getString("template") : std::nullopt;
        if (!name || !text)
          return fileError(configFile, "chat_template: expected a string or "
                                       "a list of {\"name\", \"template\"}");
        if (*name == "default")
          vocabulary.chatTemplate = text->str();
      }
    } else {
      return fileError(configFile, "chat_template is " +
                                       describeJsonKind(*chat) +
                                       ", expected a string or a list");
    }
  }
  if (!chatTemplateFile.empty() && vocabulary.chatTemplate.empty())
    vocabulary.chatTemplate = chatTemplateFile.str();
  vocabulary.chatFamily = recogniseChatTemplate(vocabulary.chatTemplate);
  if (const json::Value *addEos = config->get("add_eos_token")) {
    std::optional<bool> value = addEos->getAsBoolean();
    if (!value)
      return fileError(configFile, "add_eos_token is " +
                                       describeJsonKind(*addEos) +
                                       ", expected a boolean");
    vocabulary.addEos = *value;
  }
  return vocabulary;
}

} // namespace fmc::import
