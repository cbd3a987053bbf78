//===- FuzzSafeTensors.cpp - libFuzzer harness: safetensors header --------===//

#include "import/readers/SafeTensors.h"

#include "FuzzInput.h"

using namespace fmc::import;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz::FuzzInput input = fuzz::splitInput(data, size);
  llvm::Expected<std::vector<TensorRef>> tensors =
      parseSafeTensors("fuzz.safetensors", input.prefix, input.fileSize);
  if (!tensors) {
    llvm::consumeError(tensors.takeError());
    return 0;
  }
  // What the reader promises: every tensor inside the file, sized by its
  // shape and dtype.
  for (const TensorRef &tensor : *tensors) {
    std::optional<uint64_t> bytes = storageBytes(tensor.dtype, tensor.shape);
    if (!bytes || *bytes != tensor.bytes || tensor.offset > input.fileSize ||
        tensor.bytes > input.fileSize - tensor.offset)
      __builtin_trap();
  }
  return 0;
}
