//===- FuzzGGUF.cpp - libFuzzer harness: GGUF model and tokenizer ---------===//

#include "import/readers/GGUF.h"
#include "import/readers/VocabularyReaders.h"

#include "FuzzInput.h"

using namespace fmc::import;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz::FuzzInput input = fuzz::splitInput(data, size);
  llvm::Expected<GGUFFile> gguf =
      parseGGUFFile("fuzz.gguf", input.prefix, input.fileSize);
  if (!gguf) {
    llvm::consumeError(gguf.takeError());
    return 0;
  }
  if (llvm::Expected<ModelSource> model = modelFromGGUF(*gguf)) {
    for (const TensorRef &tensor : model->tensors)
      if (tensor.offset > input.fileSize ||
          tensor.bytes > input.fileSize - tensor.offset)
        __builtin_trap();
  } else {
    llvm::consumeError(model.takeError());
  }
  if (llvm::Expected<Vocabulary> vocabulary = vocabularyFromGGUF(*gguf)) {
    size_t n = vocabulary->tokens.size();
    if ((!vocabulary->scores.empty() && vocabulary->scores.size() != n) ||
        (!vocabulary->tokenTypes.empty() && vocabulary->tokenTypes.size() != n) ||
        vocabulary->bosId >= static_cast<int64_t>(n) ||
        vocabulary->eosId >= static_cast<int64_t>(n))
      __builtin_trap();
  } else {
    llvm::consumeError(vocabulary.takeError());
  }
  return 0;
}
