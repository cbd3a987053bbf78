//===- GGUF.cpp - GGUF llama models as Hugging Face tensors and config ----===//
//
// Maps a parsed GGUF container (GGUFFile.h) onto the ModelSource contract:
// llama.* metadata to Hugging Face config keys, GGML tensor names
// (blk.N.attn_q.weight) to Hugging Face ones (model.layers.N.self_attn.
// q_proj.weight), dims (innermost first) to row-major shapes, and GGML types
// to DTypes, checking every tensor against the data section.
//
// llama.cpp's converter stores llama q/k rows for interleaved-pair RoPE (it
// undoes the Hugging Face rotate-half permutation), so the config says
// "fmc_rope_layout": "interleaved".
//
//===----------------------------------------------------------------------===//

#include "import/readers/GGUF.h"

#include "import/readers/ByteReader.h"
#include "import/readers/TensorOrder.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSwitch.h"

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

/// The Hugging Face name of a GGML llama tensor; unknown names pass through
/// unchanged, for the builder to use or reject.
static std::string huggingFaceName(StringRef name) {
  if (name == "token_embd.weight")
    return "model.embed_tokens.weight";
  if (name == "output_norm.weight")
    return "model.norm.weight";
  if (name == "output.weight")
    return "lm_head.weight";
  StringRef rest = name;
  StringRef digits;
  if (!rest.consume_front("blk."))
    return name.str();
  std::tie(digits, rest) = rest.split('.');
  unsigned layer;
  if (digits.getAsInteger(10, layer))
    return name.str();
  // "attn_q.weight" -> ("attn_q", "weight"); biases map the same way.
  auto [base, kind] = rest.rsplit('.');
  StringRef mapped = StringSwitch<StringRef>(base)
                         .Case("attn_norm", "input_layernorm")
                         .Case("attn_q", "self_attn.q_proj")
                         .Case("attn_k", "self_attn.k_proj")
                         .Case("attn_v", "self_attn.v_proj")
                         .Case("attn_output", "self_attn.o_proj")
                         .Case("ffn_norm", "post_attention_layernorm")
                         .Case("ffn_gate", "mlp.gate_proj")
                         .Case("ffn_down", "mlp.down_proj")
                         .Case("ffn_up", "mlp.up_proj")
                         .Default("");
  if (mapped.empty() || (kind != "weight" && kind != "bias"))
    return name.str();
  return ("model.layers." + Twine(layer) + "." + mapped + "." + kind).str();
}

namespace {
/// Typed access to metadata, with messages that name the file and key.
class Metadata {
public:
  explicit Metadata(const GGUFFile &gguf) : gguf(gguf) {}

  bool has(StringRef key) const { return gguf.find(key); }

  Expected<StringRef> string(StringRef key) const {
    const GGUFValue *value = gguf.find(key);
    if (!value)
      return missing(key);
    if (std::optional<StringRef> string = value->getString())
      return *string;
    return wrongType(key, *value, "a string");
  }

  /// A positive integer; `fallback` when absent, if given.
  Expected<int64_t> positive(StringRef key,
                             std::optional<int64_t> fallback = {}) const {
    const GGUFValue *value = gguf.find(key);
    if (!value) {
      if (fallback)
        return *fallback;
      return missing(key);
    }
    std::optional<int64_t> integer = value->getInteger();
    if (!integer)
      return wrongType(key, *value, "an integer");
    if (*integer <= 0)
      return fileError(gguf.file, "metadata '" + key + "' is " +
                                      Twine(*integer) +
                                      ", expected a positive integer");
    return *integer;
  }

  /// A token id; none when absent or the "no token" sentinel 0xFFFFFFFF.
  Expected<std::optional<int64_t>> tokenId(StringRef key) const {
    const GGUFValue *value = gguf.find(key);
    if (!value)
      return std::nullopt;
    std::optional<int64_t> integer = value->getInteger();
    if (!integer)
      return wrongType(key, *value, "an integer");
    if (*integer < 0 || *integer == UINT32_MAX)
      return std::nullopt;
    return integer;
  }

  Expected<double> number(StringRef key,
                          std::optional<double> fallback = {}) const {
    const GGUFValue *value = gguf.find(key);
    if (!value) {
      if (fallback)
        return *fallback;
      return missing(key);
    }
    if (std::optional<double> number = value->getNumber())
      return *number;
    return wrongType(key, *value, "a number");
  }

private:
  Error missing(StringRef key) const {
    return fileError(gguf.file, "missing metadata '" + key + "'");
  }
  Error wrongType(StringRef key, const GGUFValue &value,
                  StringRef expected) const {
    return fileError(gguf.file, "metadata '" + key + "' is a " +
                                    ggufTypeName(value.type) + ", expected " +
                                    expected);
  }

  const GGUFFile &gguf;
};
} // namespace

/// The tensors, checked against the data section and renamed.
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
    tensor.name = huggingFaceName(info.name);
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
  sortTensorsCanonically(tensors);
  return tensors;
}

/// The Hugging Face config of a GGUF llama model.
static Expected<json::Object>
llamaConfig(const GGUFFile &gguf, const std::vector<TensorRef> &tensors) {
  Metadata metadata(gguf);
  json::Object config;
  config["architectures"] = json::Array{"LlamaForCausalLM"};
  config["model_type"] = "llama";
  config["hidden_act"] = "silu";
  config["fmc_rope_layout"] = "interleaved";

  // (Hugging Face key, GGUF key, default when absent).
  struct IntegerKey {
    const char *config, *gguf;
    std::optional<int64_t> fallback;
  };
  Expected<int64_t> heads = metadata.positive("llama.attention.head_count");
  if (!heads)
    return heads.takeError();
  const IntegerKey integers[] = {
      {"hidden_size", "llama.embedding_length", {}},
      {"intermediate_size", "llama.feed_forward_length", {}},
      {"num_hidden_layers", "llama.block_count", {}},
      {"num_attention_heads", "llama.attention.head_count", {}},
      {"num_key_value_heads", "llama.attention.head_count_kv", *heads},
      {"max_position_embeddings", "llama.context_length", {}},
  };
  for (const IntegerKey &key : integers) {
    Expected<int64_t> value = metadata.positive(key.gguf, key.fallback);
    if (!value)
      return value.takeError();
    config[key.config] = *value;
  }
  if (metadata.has("llama.attention.key_length")) {
    Expected<int64_t> headDim = metadata.positive("llama.attention.key_length");
    if (!headDim)
      return headDim.takeError();
    config["head_dim"] = *headDim;
  }

  Expected<double> eps =
      metadata.number("llama.attention.layer_norm_rms_epsilon");
  if (!eps)
    return eps.takeError();
  config["rms_norm_eps"] = *eps;
  Expected<double> theta = metadata.number("llama.rope.freq_base", 10000.0);
  if (!theta)
    return theta.takeError();
  config["rope_theta"] = *theta;

  for (auto [configKey, ggufKey] :
       {std::pair{"bos_token_id", "tokenizer.ggml.bos_token_id"},
        std::pair{"eos_token_id", "tokenizer.ggml.eos_token_id"}}) {
    Expected<std::optional<int64_t>> id = metadata.tokenId(ggufKey);
    if (!id)
      return id.takeError();
    if (*id)
      config[configKey] = **id;
  }

  // The vocabulary size: stated, else the token list's, else the embedding's.
  const TensorRef *embedding = nullptr;
  bool untied = false;
  for (const TensorRef &tensor : tensors) {
    if (tensor.name == "model.embed_tokens.weight")
      embedding = &tensor;
    untied |= tensor.name == "lm_head.weight";
  }
  config["tie_word_embeddings"] = !untied;
  if (metadata.has("llama.vocab_size")) {
    Expected<int64_t> vocab = metadata.positive("llama.vocab_size");
    if (!vocab)
      return vocab.takeError();
    config["vocab_size"] = *vocab;
  } else if (const GGUFValue *tokens = gguf.find("tokenizer.ggml.tokens");
             tokens && tokens->getArray()) {
    config["vocab_size"] = static_cast<int64_t>(tokens->elements.size());
  } else if (embedding && embedding->shape.size() == 2) {
    config["vocab_size"] = embedding->shape[0];
  } else {
    return fileError(gguf.file, "cannot tell the vocabulary size: no "
                                "'llama.vocab_size', 'tokenizer.ggml.tokens' "
                                "or 2-D 'token_embd.weight'");
  }
  return config;
}

Expected<ModelSource> modelFromGGUF(const GGUFFile &gguf) {
  StringRef file = gguf.file;
  Metadata metadata(gguf);
  Expected<StringRef> architecture = metadata.string("general.architecture");
  if (!architecture)
    return architecture.takeError();
  if (*architecture != "llama")
    return fileError(file, "unsupported GGUF architecture '" + *architecture +
                               "' (fmc reads 'llama')");

  ModelSource source;
  source.origin = file.str();
  Expected<std::vector<TensorRef>> tensors = mapTensors(gguf);
  if (!tensors)
    return tensors.takeError();
  source.tensors = std::move(*tensors);
  Expected<json::Object> config = llamaConfig(gguf, source.tensors);
  if (!config)
    return config.takeError();
  source.config = std::move(*config);
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
