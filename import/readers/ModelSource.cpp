//===- ModelSource.cpp - dtype sizes and tensor lookup --------------------===//

#include "import/ModelSource.h"

#include "import/readers/ByteReader.h"
#include "runtime/GgmlBlocks.h"

#include <iterator>

using namespace llvm;

namespace fmc::import {

namespace {
/// The block-format dtypes in enum order, from Q8_0 on.
constexpr ggml::Type kBlockTypes[] = {
    ggml::Type::Q8_0,  ggml::Type::Q4_0,   ggml::Type::Q4_1,
    ggml::Type::Q5_0,  ggml::Type::Q5_1,   ggml::Type::Q2_K,
    ggml::Type::Q3_K,  ggml::Type::Q4_K,   ggml::Type::Q5_K,
    ggml::Type::Q6_K,  ggml::Type::IQ4_NL, ggml::Type::IQ4_XS,
    ggml::Type::TQ1_0, ggml::Type::TQ2_0};
constexpr int kFirstBlockDType = static_cast<int>(DType::Q8_0);
static_assert(std::size(kBlockTypes) ==
              static_cast<size_t>(DType::TQ2_0) - kFirstBlockDType + 1);

const ggml::BlockFormat *blockFormatOf(DType dtype) {
  int index = static_cast<int>(dtype) - kFirstBlockDType;
  return index < 0 ? nullptr : ggml::blockFormat(kBlockTypes[index]);
}
} // namespace

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
  default: {
    std::string_view name = blockFormatOf(dtype)->name;
    return StringRef(name.data(), name.size());
  }
  }
}

std::optional<DType> dtypeOfGgmlType(uint32_t type) {
  switch (type) {
  case 0:
    return DType::F32;
  case 1:
    return DType::F16;
  case 30:
    return DType::BF16;
  }
  for (size_t i = 0; i < std::size(kBlockTypes); ++i)
    if (static_cast<uint32_t>(kBlockTypes[i]) == type)
      return static_cast<DType>(kFirstBlockDType + i);
  return std::nullopt;
}

int64_t dtypeBlockSize(DType dtype) {
  const ggml::BlockFormat *blocks = blockFormatOf(dtype);
  return blocks ? blocks->elements : 1;
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
  default:
    return blockFormatOf(dtype)->bytes;
  }
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
