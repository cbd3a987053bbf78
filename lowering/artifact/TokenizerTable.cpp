//===- TokenizerTable.cpp - a Vocabulary as the artifact's Tokenizer ------===//

#include "lowering/artifact/TokenizerTable.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringMap.h"

#include <algorithm>
#include <limits>

namespace fmc::artifact {

using flatbuffers::Offset;
using fmc::import::Vocabulary;

static schema::PreTokenizer schemaPreTokenizer(Vocabulary::PreTokenizer pre) {
  switch (pre) {
  case Vocabulary::PreTokenizer::Gpt2:
    return schema::PreTokenizer::Gpt2;
  case Vocabulary::PreTokenizer::Llama3:
    return schema::PreTokenizer::Llama3;
  case Vocabulary::PreTokenizer::Qwen2:
    return schema::PreTokenizer::Qwen2;
  case Vocabulary::PreTokenizer::Qwen35:
    return schema::PreTokenizer::Qwen35;
  case Vocabulary::PreTokenizer::DeepseekLlm:
    return schema::PreTokenizer::DeepseekLlm;
  case Vocabulary::PreTokenizer::DeepseekCoder:
    return schema::PreTokenizer::DeepseekCoder;
  case Vocabulary::PreTokenizer::Falcon:
    return schema::PreTokenizer::Falcon;
  case Vocabulary::PreTokenizer::Starcoder:
    return schema::PreTokenizer::Starcoder;
  case Vocabulary::PreTokenizer::Default:
    return schema::PreTokenizer::Default;
  case Vocabulary::PreTokenizer::Gemma4:
    return schema::PreTokenizer::Gemma4;
  }
  llvm_unreachable("unknown pre-tokenizer");
}

static schema::ChatTemplateFamily
schemaChatFamily(Vocabulary::ChatFamily family) {
  switch (family) {
  case Vocabulary::ChatFamily::None:
    return schema::ChatTemplateFamily::None;
  case Vocabulary::ChatFamily::Llama2:
    return schema::ChatTemplateFamily::Llama2;
  case Vocabulary::ChatFamily::Llama3:
    return schema::ChatTemplateFamily::Llama3;
  case Vocabulary::ChatFamily::ChatML:
    return schema::ChatTemplateFamily::ChatML;
  case Vocabulary::ChatFamily::Gemma:
    return schema::ChatTemplateFamily::Gemma;
  case Vocabulary::ChatFamily::Mistral:
    return schema::ChatTemplateFamily::Mistral;
  case Vocabulary::ChatFamily::Phi3:
    return schema::ChatTemplateFamily::Phi3;
  case Vocabulary::ChatFamily::CommandR:
    return schema::ChatTemplateFamily::CommandR;
  case Vocabulary::ChatFamily::DeepSeek:
    return schema::ChatTemplateFamily::DeepSeek;
  }
  llvm_unreachable("unknown chat-template family");
}

Offset<schema::Tokenizer>
buildTokenizerTable(flatbuffers::FlatBufferBuilder &fbb,
                    const Vocabulary &vocab, bool plainSpace) {
  std::vector<Offset<flatbuffers::String>> tokens;
  tokens.reserve(vocab.tokens.size());
  for (const std::string &token : vocab.tokens)
    tokens.push_back(fbb.CreateString(token));
  auto tokensVec = fbb.CreateVector(tokens);
  llvm::StringMap<int32_t> ids;
  for (auto [i, token] : llvm::enumerate(vocab.tokens))
    ids.try_emplace(token, static_cast<int32_t>(i));
  // A SentencePiece vocabulary given by merges instead of scores (Hugging
  // Face tokenizer.json with byte fallback): the runtime merges by score, so
  // a merge's result scores minus its rank and every other token -inf (it
  // is never the result of a merge).
  std::vector<float> spmScores = vocab.scores;
  if (vocab.kind == Vocabulary::Kind::SentencePiece && spmScores.empty()) {
    spmScores.assign(vocab.tokens.size(),
                     -std::numeric_limits<float>::infinity());
    for (auto [rank, merge] : llvm::enumerate(vocab.merges)) {
      auto it = ids.find(merge.first + merge.second);
      if (it != ids.end())
        spmScores[it->second] =
            std::max(spmScores[it->second], -static_cast<float>(rank));
    }
  }
  auto scores = fbb.CreateVector(spmScores);
  std::vector<uint8_t> types;
  for (Vocabulary::TokenType type : vocab.tokenTypes)
    types.push_back(static_cast<uint8_t>(type));
  auto typesVec = fbb.CreateVector(types);

  // Merges by token id; a merge whose parts or result are not tokens can
  // never apply, so it is dropped.
  std::vector<int32_t> left, right, result;
  if (vocab.kind == Vocabulary::Kind::ByteLevelBPE) {
    for (const auto &[a, b] : vocab.merges) {
      auto ia = ids.find(a), ib = ids.find(b), ir = ids.find(a + b);
      if (ia == ids.end() || ib == ids.end() || ir == ids.end())
        continue;
      left.push_back(ia->second);
      right.push_back(ib->second);
      result.push_back(ir->second);
    }
  }
  auto leftVec = fbb.CreateVector(left), rightVec = fbb.CreateVector(right),
       resultVec = fbb.CreateVector(result);
  auto marker = fbb.CreateString(plainSpace ? " " : "\xE2\x96\x81");
  Offset<flatbuffers::String> chatTemplate;
  if (!vocab.chatTemplate.empty())
    chatTemplate = fbb.CreateString(vocab.chatTemplate);
  schema::TokenizerBuilder builder(fbb);
  builder.add_kind(vocab.kind == Vocabulary::Kind::ByteLevelBPE
                       ? schema::TokenizerKind::ByteLevelBPE
                       : schema::TokenizerKind::SentencePiece);
  builder.add_tokens(tokensVec);
  builder.add_scores(scores);
  builder.add_merge_left(leftVec);
  builder.add_merge_right(rightVec);
  builder.add_merge_result(resultVec);
  builder.add_bos_id(static_cast<int32_t>(vocab.bosId));
  builder.add_eos_id(static_cast<int32_t>(vocab.eosId));
  builder.add_add_bos(vocab.addBos);
  builder.add_space_marker(marker);
  builder.add_add_dummy_prefix(vocab.addSpacePrefix);
  builder.add_token_types(typesVec);
  builder.add_pre_tokenizer(schemaPreTokenizer(vocab.preTokenizer));
  builder.add_ignore_merges(vocab.ignoreMerges);
  builder.add_add_eos(vocab.addEos);
  if (!chatTemplate.IsNull())
    builder.add_chat_template(chatTemplate);
  builder.add_chat_family(schemaChatFamily(vocab.chatFamily));
  return builder.Finish();
}

} // namespace fmc::artifact
