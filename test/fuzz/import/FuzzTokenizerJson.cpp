//===- FuzzTokenizerJson.cpp - libFuzzer harness: tokenizer.json ----------===//
//
// Input: tokenizer.json text, optionally followed by a NUL byte and the text
// of a tokenizer_config.json.
//
//===----------------------------------------------------------------------===//

#include "import/readers/VocabularyReaders.h"

using namespace fmc::import;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::StringRef bytes(reinterpret_cast<const char *>(data), size);
  auto [json, config] = bytes.split('\0');
  std::optional<llvm::StringRef> configText;
  if (json.size() < bytes.size())
    configText = config;
  llvm::Expected<Vocabulary> vocabulary = parseHFTokenizer(
      "tokenizer.json", json, "tokenizer_config.json", configText);
  if (!vocabulary) {
    llvm::consumeError(vocabulary.takeError());
    return 0;
  }
  size_t n = vocabulary->tokens.size();
  if (vocabulary->tokenTypes.size() != n ||
      vocabulary->bosId >= static_cast<int64_t>(n) ||
      vocabulary->eosId >= static_cast<int64_t>(n))
    __builtin_trap();
  return 0;
}
