//===- ChatTemplateFamily.cpp - which family a chat template renders ------===//
//
// fmc-run does not execute Jinja: it renders the families it knows in C++
// (runtime/ChatTemplate.cpp). The importer names the family here, from
// markers that only that family's templates write, in the order llama.cpp's
// llm_chat_detect_template tests them: ChatML's <|im_start|> first (some
// fine-tunes of other families switched to it), then the role tokens of the
// others, and "[INST]" last, where <<SYS>> tells Llama 2 from Mistral.
//
//===----------------------------------------------------------------------===//

#include "import/Vocabulary.h"

using namespace llvm;

namespace fmc::import {

namespace {

struct FamilyMarkers {
  Vocabulary::ChatFamily family;
  /// Every one of these occurs in the family's templates.
  const char *markers[3];
};

using Family = Vocabulary::ChatFamily;

const FamilyMarkers kFamilies[] = {
    {Family::ChatML, {"<|im_start|>", "<|im_end|>"}},
    {Family::Llama3, {"<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"}},
    {Family::Gemma, {"<start_of_turn>", "<end_of_turn>"}},
    {Family::Phi3, {"<|assistant|>", "<|end|>"}},
    {Family::CommandR, {"<|START_OF_TURN_TOKEN|>", "<|END_OF_TURN_TOKEN|>"}},
    {Family::DeepSeek,
     {"<\xEF\xBD\x9C" "User\xEF\xBD\x9C>", "<\xEF\xBD\x9C" "Assistant\xEF\xBD\x9C>"}},
    {Family::Llama2, {"[INST]", "<<SYS>>"}},
    {Family::Mistral, {"[INST]", "[/INST]"}},
};

} // namespace

Vocabulary::ChatFamily recogniseChatTemplate(StringRef text) {
  for (const FamilyMarkers &entry : kFamilies) {
    bool all = true;
    for (const char *marker : entry.markers)
      all &= !marker || text.contains(marker);
    if (all)
      return entry.family;
  }
  return Family::None;
}

} // namespace fmc::import
