//===- GGUF.cpp - GGUF models as Hugging Face tensors and config ---------===//
//
// Maps a parsed GGUF container (GGUFFile.h) onto the ModelSource contract:
// dims (innermost first) to row-major shapes and GGML types to DTypes,
// checking every tensor against the data section; then GGUFArchitectures.cpp
// turns the architecture's metadata into Hugging Face config keys and GGML
// tensor names (blk.N.attn_q.weight) into Hugging Face ones
// (model.layers.N.self_attn.q_proj.weight).
//
//===----------------------------------------------------------------------===//

#include "import/readers/GGUF.h"

#include "import/readers/GGUFArchitectures.h"

#include "import/readers/ByteReader.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringMap.h"

using namespace llvm;

namespace fmc::import {

/// GGML type names (ggml.h's enum ggml_type), for messages.
static StringRef ggmlTypeName(uint32_t type) {
  static constexpr const char *kNames[] = {
      "F32",        "F16",        "Q4_0",       "Q4_1",     "Q4_2",    "Q4_3",
      "Q5_0",       "Q5_1",       "Q8_0",       "Q8_1",     "Q2_K",    "Q3_K",
      "Q4_K",       "Q5_K",       "Q6_K",       "Q8_K",     "IQ2_XXS", "IQ2_XS",
      "IQ3_XXS",    "IQ1_S",      "IQ4_NL",     "IQ3_S",    "IQ2_S",   "IQ4_XS",
      "I8",         "I16",        "I32",        "I64",      "F64",     "IQ1_M",
      "BF16",       "Q4_0_4_4",   "Q4_0_4_8",   "Q4_0_8_8", "TQ1_0",   "TQ2_0",
      "IQ4_NL_4_4", "IQ4_NL_4_8", "IQ4_NL_8_8", "MXFP4"};
  return type < std::size(kNames) ? kNames[type] : "unknown";
}

/// The tensors under their GGUF names, checked against the data section.
static Expected<std::vector<TensorRef>> mapTensors(const GGUFFile &gguf) {
  uint64_t dataSize = gguf.fileSize - gguf.dataStart;
  std::vector<TensorRef> tensors;
  StringMap<StringRef> ggufNameOf; // Hugging Face name -> GGUF name.
  for (const GGUFTensorInfo &info : gguf.tensors) {
    auto fail = [&](const Twine &message) {
      return fileError(gguf.file, "tensor '" + info.name + "': " + message);
    };
    std::optional<DType> dtype = dtypeOfGgmlType(info.ggmlType);
    if (!dtype)
      return fail("unsupported ggml type " + Twine(info.ggmlType) + " (" +
                  ggmlTypeName(info.ggmlType) +
                  "); fmc reads F32, F16, BF16 and the block formats "
                  "Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, "
                  "Q6_K, IQ4_NL, IQ4_XS, TQ1_0 and TQ2_0");
    TensorRef tensor;
    tensor.name = info.name.str();
    tensor.dtype = *dtype;
    tensor.file = gguf.file;
    // GGUF lists dims innermost first; TensorRef is row-major.
    for (uint64_t dim : llvm::reverse(info.dims))
      tensor.shape.push_back(static_cast<int64_t>(dim));
    std::optional<uint64_t> bytes = storageBytes(*dtype, tensor.shape);
    if (!bytes) {
      if (dtypeBlockSize(*dtype) != 1 &&
          (tensor.shape.empty() ||
           tensor.shape.back() % dtypeBlockSize(*dtype) != 0))
        return fail(dtypeName(*dtype) +
                    " needs an innermost dimension that is a multiple of " +
                    Twine(dtypeBlockSize(*dtype)) + ", not " +
                    Twine(tensor.shape.empty() ? 1 : tensor.shape.back()));
      return fail("its shape has more elements than fit in 64 bits");
    }
    tensor.bytes = *bytes;
    if (info.offset > dataSize || *bytes > dataSize - info.offset)
      return fail("offset " + Twine(info.offset) + " + " + Twine(*bytes) +
                  " bytes exceed the " + Twine(dataSize) +
                  " bytes of tensor data");
    tensor.offset = gguf.dataStart + info.offset;
    auto [it, inserted] = ggufNameOf.try_emplace(tensor.name, info.name);
    if (!inserted)
      return fileError(gguf.file, "tensors '" + it->second + "' and '" +
                                      info.name + "' both map to '" +
                                      tensor.name + "'");
    tensors.push_back(std::move(tensor));
  }

  // Tensors may not share bytes.
  std::vector<const TensorRef *> byOffset;
  for (const TensorRef &tensor : tensors)
    if (tensor.bytes)
      byOffset.push_back(&tensor);
  llvm::sort(byOffset, [](const TensorRef *a, const TensorRef *b) {
    return a->offset < b->offset;
  });
  for (size_t i = 1; i < byOffset.size(); ++i)
    if (byOffset[i]->offset < byOffset[i - 1]->offset + byOffset[i - 1]->bytes)
      return fileError(gguf.file,
                       "tensors '" + ggufNameOf[byOffset[i - 1]->name] +
                           "' and '" + ggufNameOf[byOffset[i]->name] +
                           "' overlap in the data");
  return tensors; // In file order; renamed, then sorted, by the mapping.
}

Expected<ModelSource> modelFromGGUF(const GGUFFile &gguf) {
  StringRef file = gguf.file;
  ModelSource source;
  source.origin = file.str();
  Expected<std::vector<TensorRef>> tensors = mapTensors(gguf);
  if (!tensors)
    return tensors.takeError();
  source.tensors = std::move(*tensors);
  if (Error error = mapGGUFArchitecture(gguf, source))
    return std::move(error);
  if (gguf.find("tokenizer.ggml.tokens"))
    source.tokenizer = TokenizerRef{TokenizerRef::Format::GGUF, file.str()};
  return source;
}

Expected<ModelSource> readGGUF(StringRef file) {
  Expected<GGUFFile> gguf = readGGUFFile(file);
  if (!gguf)
    return gguf.takeError();
  return modelFromGGUF(*gguf);
}

} // namespace fmc::import
