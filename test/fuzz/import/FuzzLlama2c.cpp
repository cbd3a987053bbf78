//===- FuzzLlama2c.cpp - libFuzzer harness: llama2.c checkpoint, tokenizer ===//
//
// The same input is tried as a checkpoint (header + imagined size, see
// FuzzInput.h) and, whole, as a tok*.bin.
//
//===----------------------------------------------------------------------===//

#include "import/readers/Llama2c.h"
#include "import/readers/VocabularyReaders.h"

#include "FuzzInput.h"

using namespace fmc::import;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz::FuzzInput input = fuzz::splitInput(data, size);
  if (llvm::Expected<ModelSource> model =
          parseLlama2c("fuzz.bin", input.prefix, input.fileSize)) {
    for (const TensorRef &tensor : model->tensors)
      if (tensor.offset + tensor.bytes > input.fileSize)
        __builtin_trap();
  } else {
    llvm::consumeError(model.takeError());
  }

  llvm::StringRef whole(reinterpret_cast<const char *>(data), size);
  if (llvm::Expected<Vocabulary> vocabulary =
          parseLlama2cVocabulary("fuzz-tok.bin", whole)) {
    if (vocabulary->scores.size() != vocabulary->tokens.size())
      __builtin_trap();
  } else {
    llvm::consumeError(vocabulary.takeError());
  }
  return 0;
}
