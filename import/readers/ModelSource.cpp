//===- ModelSource.cpp - dtype sizes and tensor lookup --------------------===//

#include "import/ModelSource.h"

#include "import/readers/ByteReader.h"

using namespace llvm;

namespace fmc::import {

StringRef dtypeName(DType dtype) {
  switch (dtype) {
  case DType::F32:
    return "F32";
  case DType::F16:
    return "F16";
  case DType::BF16:
    return "BF16";
  case DType::I8:
    return "I8";
  case DType::Q8_0:
    return "Q8_0";
  case DType::Q4_0:
    return "Q4_0";
  }
  return "?";
}

int64_t dtypeBlockSize(DType dtype) {
  return dtype == DType::Q8_0 || dtype == DType::Q4_0 ? 32 : 1;
}

/// Bytes per block of dtypeBlockSize() elements.
static uint64_t bytesPerBlock(DType dtype) {
  switch (dtype) {
  case DType::F32:
    return 4;
  case DType::F16:
  case DType::BF16:
    return 2;
  case DType::I8:
    return 1;
  case DType::Q8_0:
    return 2 + 32;     // f16 scale, 32 x int8.
  case DType::Q4_0:
    return 2 + 32 / 2; // f16 scale, 32 x 4-bit.
  }
  return 0;
}

std::optional<uint64_t> storageBytes(DType dtype, ArrayRef<int64_t> shape) {
  uint64_t elements = 1;
  for (int64_t dim : shape) {
    if (dim < 0 || mulOverflows(elements, static_cast<uint64_t>(dim), elements))
      return std::nullopt;
  }
  int64_t block = dtypeBlockSize(dtype);
  if (block != 1 && (shape.empty() || shape.back() % block != 0))
    return std::nullopt;
  uint64_t bytes;
  if (mulOverflows(elements / block, bytesPerBlock(dtype), bytes))
    return std::nullopt;
  return bytes;
}

const TensorRef *ModelSource::find(StringRef name) const {
  for (const TensorRef &tensor : tensors)
    if (tensor.name == name)
      return &tensor;
  return nullptr;
}

} // namespace fmc::import
