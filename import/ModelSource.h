//===- ModelSource.h - a model file, normalized for the fm builder --------===//
//
// The contract between fmc's format readers and its fm IR builder.
//
// Every reader (llama2.c checkpoint, Hugging Face directory, GGUF file)
// produces a ModelSource: a Hugging Face-style config (the keys of
// config.json, which GGUF metadata and the llama2.c header are translated
// into), and a table of tensors under their Hugging Face names
// ("model.layers.3.self_attn.q_proj.weight") that records where each
// tensor's bytes live. Nothing is copied: the builder turns each entry into an
// `fm.param` that references the bytes in place. So the builder knows one
// naming and one config schema, and each reader owns its format's quirks.
//
// This header has no MLIR dependency: the readers link LLVMSupport only, so
// they can be fuzzed cheaply.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_IMPORT_MODELSOURCE_H
#define FMC_IMPORT_MODELSOURCE_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace fmc::import {

/// How a tensor's elements are stored in its file. Mirrors fm's StorageType:
/// the dense types, then ggml's block formats (runtime/GgmlBlocks.h), each
/// named as ggml names it.
enum class DType {
  F32,
  F16,
  BF16,
  I8,
  Q8_0,
  Q4_0,
  Q4_1,
  Q5_0,
  Q5_1,
  Q2_K,
  Q3_K,
  Q4_K,
  Q5_K,
  Q6_K,
  IQ4_NL,
  IQ4_XS,
  TQ1_0,
  TQ2_0,
};

/// The dtype's name as the formats spell it ("F32", "Q4_K").
llvm::StringRef dtypeName(DType dtype);

/// The ggml block dtype of ggml type number `type` (ggml.h's enum
/// ggml_type), F32/F16/BF16 for 0, 1 and 30, or nullopt for a type fmc does
/// not read.
std::optional<DType> dtypeOfGgmlType(uint32_t type);

/// Elements per block of a block-quantized dtype (32, or 256 for the
/// K-quants, IQ4_XS and the ternary formats), 1 for the others.
int64_t dtypeBlockSize(DType dtype);

/// Bytes a tensor of `shape` occupies stored as `dtype`, or nullopt when the
/// element count overflows 64 bits, a dimension is negative, or the innermost
/// dimension of a block-quantized tensor is not a multiple of its block.
std::optional<uint64_t> storageBytes(DType dtype,
                                     llvm::ArrayRef<int64_t> shape);

/// One tensor, referenced in place.
struct TensorRef {
  std::string name;           ///< Hugging Face name.
  std::vector<int64_t> shape; ///< Row-major, outermost first ([out, in]).
  DType dtype;
  std::string file;           ///< Path as the reader was given it.
  uint64_t offset;            ///< Byte offset of the first element.
  uint64_t bytes;             ///< Bytes the tensor occupies in the file.
};

/// Where a model's tokenizer lives, and in which format.
struct TokenizerRef {
  enum class Format { Llama2c, GGUF, HFJson };
  Format format;
  std::string file;
};

struct ModelSource {
  /// Hugging Face-style config: model_type, hidden_size, num_hidden_layers,
  /// num_attention_heads, num_key_value_heads, head_dim, intermediate_size,
  /// vocab_size, rms_norm_eps, rope_theta, tie_word_embeddings,
  /// max_position_embeddings, bos_token_id, eos_token_id, and the
  /// architecture's own keys (sliding_window, layer_types, num_experts, ...).
  /// Readers of non-HF formats also set "fmc_rope_layout" to "interleaved"
  /// when q/k rows are stored for interleaved-pair RoPE (llama2.c, GGUF
  /// llama); absent means the Hugging Face rotate-half layout.
  llvm::json::Object config;
  std::vector<TensorRef> tensors;
  std::optional<TokenizerRef> tokenizer;
  /// The file or directory the model was read from, for diagnostics.
  std::string origin;

  /// The tensor of that name, or null.
  const TensorRef *find(llvm::StringRef name) const;
};

/// Readers. Errors name the file and the field or tensor at fault.
llvm::Expected<ModelSource> readLlama2c(llvm::StringRef checkpoint,
                                        std::optional<llvm::StringRef> tokenizer);
llvm::Expected<ModelSource> readHuggingFace(llvm::StringRef directory);
llvm::Expected<ModelSource> readGGUF(llvm::StringRef file);

/// Picks the reader by what `path` is: a directory (Hugging Face), a file
/// starting with "GGUF", or else a llama2.c checkpoint.
llvm::Expected<ModelSource> readModel(llvm::StringRef path,
                                      std::optional<llvm::StringRef> tokenizer);

} // namespace fmc::import

#endif // FMC_IMPORT_MODELSOURCE_H
