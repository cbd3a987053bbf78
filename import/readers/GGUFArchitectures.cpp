//===- GGUFArchitectures.cpp - GGUF architectures as Hugging Face models --===//
//
// One table row per GGUF architecture: the Hugging Face model_type it
// becomes, how its FFN tensors are named on the Hugging Face side, and the
// `<arch>.*` metadata keys it reads. The facts follow llama.cpp:
// - tensor names from src/llama-arch.cpp (blk.N.attn_q, ffn_gate_exps, ...);
//   stacked experts [experts, rows, cols] are sliced in place, expert e at
//   offset + e * slab, under per-expert Hugging Face names;
// - hyperparameters and their defaults from src/llama-model.cpp (gemma3's
//   sliding-window period 6 and local RoPE base 1e4, gemma2's soft-caps 50
//   and 30, qwen2moe and olmoe without top-k renormalization, mixtral with
//   it, llama4's 8192-position chunks on 3 of 4 layers);
// - RoPE layouts from convert_hf_to_gguf.py and llama_model_rope_type: llama
//   (and so Mixtral) q/k rows are permuted for llama.cpp's NORM (interleaved
//   pair) RoPE, hence "fmc_rope_layout": "interleaved"; qwen2, qwen2moe,
//   olmoe and gemma use NEOX (rotate-half) RoPE and are stored as Hugging
//   Face stores them; cohere2 and llama4 use NORM RoPE, and so do their
//   Hugging Face checkpoints, so nothing is permuted either;
// - gemma's converter adds 1 to every RMSNorm weight, so the norms carry no
//   offset ("fmc_norm_offset_folded": true), and llama.cpp scales embeddings by
//   sqrtf(n_embd) in f32 ("fmc_embedding_scale").
//
// The key policy: a key is either applied (the per-architecture list), or
// known not to affect the computation (general.*, tokenizer.*, quantize.*,
// and the rope.scaling keys that only matter with scaling), or an error that
// names it. A value fmc cannot honour (RoPE scaling other than linear and
// YaRN, value heads of another width) is an error naming the key, never
// ignored. Partial rotary (rope.dimension_count), linear and YaRN scaling
// and llama's rope_freqs.weight become Hugging Face's partial_rotary_factor,
// rope_scaling and fmc_rope_freq_factors (import/builder/RopeScaling.h).
//
//===----------------------------------------------------------------------===//

#include "import/readers/GGUFArchitectures.h"

#include "import/readers/ByteReader.h"
#include "import/readers/TensorOrder.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/StringSwitch.h"

#include "llvm/Support/MemoryBuffer.h"

#include <cmath>
#include <cstdio>
#include <cstring>

using namespace llvm;

namespace fmc::import {

namespace {

enum class Arch {
  Llama,
  Qwen2,
  Qwen2Moe,
  Olmoe,
  Gemma2,
  Gemma3,
  Cohere2,
  Llama4
};

/// One GGUF architecture.
struct ArchInfo {
  StringLiteral name; ///< general.architecture.
  Arch arch;
  /// `<name>.<key>` metadata applied beyond kCommonKeys.
  ArrayRef<StringLiteral> keys;
};

/// Keys every architecture applies (or checks against what fmc supports).
constexpr StringLiteral kCommonKeys[] = {
    "context_length",       "embedding_length",       "block_count",
    "feed_forward_length",  "attention.head_count",   "attention.head_count_kv",
    "attention.key_length", "attention.value_length", "rope.freq_base",
    "rope.dimension_count", "rope.scaling.type",      "rope.scaling.factor",
    "vocab_size",
};

/// `<arch>.*` keys that do not change the computation as fmc runs it, or
/// only through another key: rope.scaling.original_context_length is read
/// for YaRN scaling only, rope.scaling.finetuned never.
constexpr StringLiteral kIrrelevantKeys[] = {
    "rope.scaling.original_context_length",
    "rope.scaling.finetuned",
};

constexpr StringLiteral kLlamaKeys[] = {"attention.layer_norm_rms_epsilon",
                                        "expert_count", "expert_used_count"};
constexpr StringLiteral kQwen2Keys[] = {"attention.layer_norm_rms_epsilon"};
constexpr StringLiteral kQwen2MoeKeys[] = {
    "attention.layer_norm_rms_epsilon", "expert_count", "expert_used_count",
    "expert_feed_forward_length", "expert_shared_feed_forward_length"};
constexpr StringLiteral kOlmoeKeys[] = {"attention.layer_norm_rms_epsilon",
                                        "expert_count", "expert_used_count"};
constexpr StringLiteral kGemma2Keys[] = {
    "attention.layer_norm_rms_epsilon", "attention.sliding_window",
    "attn_logit_softcapping", "final_logit_softcapping"};
constexpr StringLiteral kGemma3Keys[] = {
    "attention.layer_norm_rms_epsilon", "attention.sliding_window",
    "attention.sliding_window_pattern", "rope.freq_base_swa",
    "final_logit_softcapping"};
constexpr StringLiteral kCohere2Keys[] = {
    "attention.layer_norm_epsilon", "attention.sliding_window", "logit_scale"};
constexpr StringLiteral kLlama4Keys[] = {"attention.layer_norm_rms_epsilon",
                                         "attention.sliding_window",
                                         "expert_count",
                                         "expert_used_count",
                                         "expert_feed_forward_length",
                                         "interleave_moe_layer_step"};

constexpr ArchInfo kArchitectures[] = {
    {"llama", Arch::Llama, kLlamaKeys},
    {"qwen2", Arch::Qwen2, kQwen2Keys},
    {"qwen2moe", Arch::Qwen2Moe, kQwen2MoeKeys},
    {"olmoe", Arch::Olmoe, kOlmoeKeys},
    {"gemma2", Arch::Gemma2, kGemma2Keys},
    {"gemma3", Arch::Gemma3, kGemma3Keys},
    {"cohere2", Arch::Cohere2, kCohere2Keys},
    {"llama4", Arch::Llama4, kLlama4Keys},
};

/// Typed access to metadata, with messages that name the file and key.
class Metadata {
public:
  Metadata(const GGUFFile &gguf, StringRef arch) : gguf(gguf), arch(arch) {}

  /// The full key of an architecture key: "llama." + suffix.
  std::string key(StringRef suffix) const {
    return (arch + "." + suffix).str();
  }

  bool has(StringRef suffix) const { return gguf.find(key(suffix)); }

  Expected<StringRef> string(StringRef fullKey) const {
    const GGUFValue *value = gguf.find(fullKey);
    if (!value)
      return missing(fullKey);
    if (std::optional<StringRef> string = value->getString())
      return *string;
    return wrongType(fullKey, *value, "a string");
  }

  /// A positive integer `<arch>.<suffix>`; `fallback` when absent, if given.
  Expected<int64_t> positive(StringRef suffix,
                             std::optional<int64_t> fallback = {}) const {
    return integerAtLeast(suffix, 1, fallback, "a positive integer");
  }

  /// A non-negative integer `<arch>.<suffix>`, or `fallback`.
  Expected<int64_t> nonNegative(StringRef suffix, int64_t fallback) const {
    return integerAtLeast(suffix, 0, fallback, "a non-negative integer");
  }

  /// A token id; none when absent or the "no token" sentinel 0xFFFFFFFF.
  Expected<std::optional<int64_t>> tokenId(StringRef fullKey) const {
    const GGUFValue *value = gguf.find(fullKey);
    if (!value)
      return std::nullopt;
    std::optional<int64_t> integer = value->getInteger();
    if (!integer)
      return wrongType(fullKey, *value, "an integer");
    if (*integer < 0 || *integer == UINT32_MAX)
      return std::nullopt;
    return integer;
  }

  /// A number `<arch>.<suffix>`; `fallback` when absent, if given.
  Expected<double> number(StringRef suffix,
                          std::optional<double> fallback = {}) const {
    std::string fullKey = key(suffix);
    const GGUFValue *value = gguf.find(fullKey);
    if (!value) {
      if (fallback)
        return *fallback;
      return missing(fullKey);
    }
    if (std::optional<double> number = value->getNumber())
      return *number;
    return wrongType(fullKey, *value, "a number");
  }

  /// The error for a key fmc cannot honour.
  Error unsupported(StringRef suffix, const Twine &why) const {
    return fileError(gguf.file, "GGUF key '" + key(suffix) +
                                    "' is not supported by fmc (" + why + ")");
  }

  const GGUFFile &gguf;
  StringRef arch;

private:
  /// An integer `<arch>.<suffix>` of at least `minimum` (`expected` names
  /// the range in the message); `fallback` when absent, if given.
  Expected<int64_t> integerAtLeast(StringRef suffix, int64_t minimum,
                                   std::optional<int64_t> fallback,
                                   StringRef expected) const {
    std::string fullKey = key(suffix);
    const GGUFValue *value = gguf.find(fullKey);
    if (!value) {
      if (fallback)
        return *fallback;
      return missing(fullKey);
    }
    std::optional<int64_t> integer = value->getInteger();
    if (!integer)
      return wrongType(fullKey, *value, "an integer");
    if (*integer < minimum)
      return fileError(gguf.file, "metadata '" + fullKey + "' is " +
                                      Twine(*integer) + ", expected " +
                                      expected);
    return *integer;
  }

  Error missing(StringRef fullKey) const {
    return fileError(gguf.file, "missing metadata '" + fullKey + "'");
  }
  Error wrongType(StringRef fullKey, const GGUFValue &value,
                  StringRef expected) const {
    return fileError(gguf.file, "metadata '" + fullKey + "' is a " +
                                    ggufTypeName(value.type) + ", expected " +
                                    expected);
  }
};

} // namespace

StringRef ggufArchitecturesList() {
  return "llama (and Mixtral), qwen2, qwen2moe, olmoe, gemma2, gemma3, "
         "cohere2, llama4";
}

/// Every metadata key is applied, known to be irrelevant, or an error.
static Error checkKeys(const Metadata &metadata, const ArchInfo &info) {
  StringSet<> allowed;
  for (ArrayRef<StringLiteral> list :
       {ArrayRef<StringLiteral>(kCommonKeys),
        ArrayRef<StringLiteral>(kIrrelevantKeys), info.keys})
    for (StringRef suffix : list)
      allowed.insert(metadata.key(suffix));
  // Report the first offender in a stable (sorted) order.
  std::vector<StringRef> keys;
  for (const auto &entry : metadata.gguf.metadata)
    keys.push_back(entry.getKey());
  llvm::sort(keys);
  for (StringRef key : keys) {
    if (key.starts_with("general.") || key.starts_with("tokenizer.") ||
        key.starts_with("quantize.") || allowed.contains(key))
      continue;
    std::string why =
        key.starts_with(metadata.arch.str() + ".")
            ? ("fmc's " + metadata.arch + " mapping does not apply it").str()
            : "not a key of the " + metadata.arch.str() +
                  " architecture, general.*, tokenizer.* or quantize.*";
    return fileError(metadata.gguf.file, "GGUF key '" + key +
                                             "' is not supported by fmc (" +
                                             why + ")");
  }
  return Error::success();
}

//===----------------------------------------------------------------------===//
// Tensor names
//===----------------------------------------------------------------------===//

namespace {
/// Where an architecture's FFN tensors live on the Hugging Face side.
struct FfnNames {
  std::string ffn;            ///< "mlp" or "feed_forward": dense gate/up/down.
  std::string router;         ///< ffn_gate_inp.
  std::string experts;        ///< Per-expert prefix, before ".<e>.".
  std::string gate, up, down; ///< Per-expert projection names.
  std::string shared;         ///< Shared expert prefix.
  std::string sharedGate;
};
} // namespace

static FfnNames ffnNames(Arch arch, bool mixtral) {
  if (mixtral)
    return {"mlp",
            "block_sparse_moe.gate",
            "block_sparse_moe.experts",
            "w1",
            "w3",
            "w2",
            "",
            ""};
  if (arch == Arch::Llama4)
    return {"feed_forward",
            "feed_forward.router",
            "feed_forward.experts",
            "gate_proj",
            "up_proj",
            "down_proj",
            "feed_forward.shared_expert",
            ""};
  return {
      "mlp",     "mlp.gate",  "mlp.experts",       "gate_proj",
      "up_proj", "down_proj", "mlp.shared_expert", "mlp.shared_expert_gate"};
}

namespace {
/// A GGUF layer tensor name, mapped.
struct Mapped {
  std::string name;
  /// The stacked experts' projection ("gate", "up", "down"), or empty.
  StringRef stackedProj;
};
} // namespace

/// The Hugging Face name of GGUF tensor `name`; unknown names pass through
/// unchanged, for the builder to reject as unused.
static Mapped huggingFaceName(StringRef name, Arch arch, const FfnNames &ffn) {
  if (name == "token_embd.weight")
    return {"model.embed_tokens.weight", ""};
  if (name == "output_norm.weight")
    return {"model.norm.weight", ""};
  if (name == "output.weight")
    return {"lm_head.weight", ""};
  StringRef rest = name;
  StringRef digits;
  if (!rest.consume_front("blk."))
    return {name.str(), ""};
  std::tie(digits, rest) = rest.split('.');
  unsigned layer;
  if (digits.getAsInteger(10, layer))
    return {name.str(), ""};
  std::string prefix = ("model.layers." + Twine(layer) + ".").str();
  auto [base, kind] = rest.rsplit('.');
  if (kind != "weight" && kind != "bias")
    return {name.str(), ""};

  // Stacked experts, and the legacy per-expert form "ffn_gate.<e>".
  for (auto [stacked, proj] :
       {std::pair{"ffn_gate_exps", "gate"}, std::pair{"ffn_up_exps", "up"},
        std::pair{"ffn_down_exps", "down"}})
    if (base == stacked && kind == "weight")
      return {prefix + ffn.experts + ".<e>." + proj, proj};
  for (auto [legacy, proj] :
       {std::pair{"ffn_gate.", &ffn.gate}, std::pair{"ffn_up.", &ffn.up},
        std::pair{"ffn_down.", &ffn.down}}) {
    StringRef index = base;
    unsigned expert;
    if (index.consume_front(legacy) && !index.getAsInteger(10, expert) &&
        kind == "weight")
      return {prefix + ffn.experts + "." + std::to_string(expert) + "." +
                  *proj + ".weight",
              ""};
  }

  bool gemma = arch == Arch::Gemma2 || arch == Arch::Gemma3;
  std::string mapped =
      StringSwitch<std::string>(base)
          .Case("attn_norm", "input_layernorm")
          .Case("attn_q", "self_attn.q_proj")
          .Case("attn_k", "self_attn.k_proj")
          .Case("attn_v", "self_attn.v_proj")
          .Case("attn_output", "self_attn.o_proj")
          .Case("attn_q_norm", "self_attn.q_norm")
          .Case("attn_k_norm", "self_attn.k_norm")
          .Case("ffn_norm", gemma ? "pre_feedforward_layernorm"
                                  : "post_attention_layernorm")
          .Case("post_attention_norm", "post_attention_layernorm")
          .Case("post_ffw_norm", "post_feedforward_layernorm")
          .Case("ffn_gate", ffn.ffn + ".gate_proj")
          .Case("ffn_up", ffn.ffn + ".up_proj")
          .Case("ffn_down", ffn.ffn + ".down_proj")
          .Case("ffn_gate_inp", ffn.router)
          .Case("ffn_gate_shexp", ffn.shared + ".gate_proj")
          .Case("ffn_up_shexp", ffn.shared + ".up_proj")
          .Case("ffn_down_shexp", ffn.shared + ".down_proj")
          .Case("ffn_gate_inp_shexp", ffn.sharedGate)
          .Default("");
  // An empty target (no shared expert in this family) or a name with an
  // empty component: pass the GGUF name through.
  if (mapped.empty() || StringRef(mapped).ends_with(".") ||
      StringRef(mapped).starts_with("."))
    return {name.str(), ""};
  return {prefix + mapped + "." + kind.str(), ""};
}

/// Renames the tensors, slices stacked experts, and re-sorts.
static Error mapTensorNames(const GGUFFile &gguf, ModelSource &source,
                            Arch arch, bool mixtral,
                            std::optional<int64_t> experts,
                            StringRef expertKey) {
  FfnNames ffn = ffnNames(arch, mixtral);
  std::vector<TensorRef> mapped;
  StringMap<std::string> ggufNameOf; // Hugging Face name -> GGUF name.
  auto add = [&](TensorRef tensor, StringRef ggufName) -> Error {
    auto [it, inserted] = ggufNameOf.try_emplace(tensor.name, ggufName.str());
    if (!inserted)
      return fileError(gguf.file, "tensors '" + it->second + "' and '" +
                                      ggufName + "' both map to '" +
                                      tensor.name + "'");
    mapped.push_back(std::move(tensor));
    return Error::success();
  };
  for (TensorRef &tensor : source.tensors) {
    std::string ggufName = tensor.name;
    Mapped name = huggingFaceName(ggufName, arch, ffn);
    if (name.stackedProj.empty()) {
      tensor.name = name.name;
      // Qwen2-MoE's shared expert gate is stored as a vector; Hugging Face
      // (and fm.linear) see one output row.
      if (StringRef(tensor.name).ends_with("shared_expert_gate.weight") &&
          tensor.shape.size() == 1)
        tensor.shape.insert(tensor.shape.begin(), 1);
      if (Error error = add(std::move(tensor), ggufName))
        return error;
      continue;
    }
    // [experts, rows, cols]: expert e's rows at offset + e * slab.
    if (!experts)
      return fileError(gguf.file, "tensor '" + ggufName +
                                      "' stacks experts, but there is no '" +
                                      expertKey + "'");
    if (tensor.shape.size() != 3 || tensor.shape[0] != *experts ||
        tensor.bytes % *experts != 0) {
      std::string shape = "[";
      for (size_t i = 0; i < tensor.shape.size(); ++i)
        shape += (i ? ", " : "") + std::to_string(tensor.shape[i]);
      shape += "]";
      return fileError(gguf.file,
                       "tensor '" + ggufName + "' has shape " + shape +
                           ", expected [" + Twine(*experts) +
                           ", rows, cols]: stacked experts, as many as '" +
                           expertKey + "' = " + Twine(*experts));
    }
    StringRef projName = name.stackedProj == "gate" ? StringRef(ffn.gate)
                         : name.stackedProj == "up" ? StringRef(ffn.up)
                                                    : StringRef(ffn.down);
    uint64_t slab = tensor.bytes / *experts;
    StringRef pattern(name.name);
    std::string head = pattern.substr(0, pattern.find("<e>")).str();
    for (int64_t e = 0; e < *experts; ++e) {
      TensorRef slice = tensor;
      slice.name = head + std::to_string(e) + "." + projName.str() + ".weight";
      slice.shape = {tensor.shape[1], tensor.shape[2]};
      slice.offset = tensor.offset + e * slab;
      slice.bytes = slab;
      if (Error error = add(std::move(slice), ggufName))
        return error;
    }
  }
  sortTensorsCanonically(mapped);
  source.tensors = std::move(mapped);
  return Error::success();
}

//===----------------------------------------------------------------------===//
// Config
//===----------------------------------------------------------------------===//

/// A number as %g prints it ("8", "0.25").
static std::string shortNumber(double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%g", value);
  return text;
}

#define TRY_ASSIGN(var, expr)                                                  \
  auto var##OrError = (expr);                                                  \
  if (!var##OrError)                                                           \
    return var##OrError.takeError();                                           \
  auto var = *var##OrError

/// The facts every architecture states the same way.
static Error commonConfig(const Metadata &metadata, json::Object &config,
                          int64_t &headDim, int64_t &rotary,
                          bool ffnRequired) {
  // Read in this order so that a missing key is reported first where the
  // older llama-only reader reported it.
  TRY_ASSIGN(heads, metadata.positive("attention.head_count"));
  TRY_ASSIGN(hidden, metadata.positive("embedding_length"));
  config["hidden_size"] = hidden;
  config["num_attention_heads"] = heads;
  if (ffnRequired || metadata.has("feed_forward_length")) {
    TRY_ASSIGN(ffn, metadata.positive("feed_forward_length"));
    config["intermediate_size"] = ffn;
  }
  TRY_ASSIGN(layers, metadata.positive("block_count"));
  config["num_hidden_layers"] = layers;
  TRY_ASSIGN(kvHeads, metadata.positive("attention.head_count_kv", heads));
  config["num_key_value_heads"] = kvHeads;
  TRY_ASSIGN(context, metadata.positive("context_length"));
  config["max_position_embeddings"] = context;

  headDim = hidden / heads;
  if (metadata.has("attention.key_length")) {
    TRY_ASSIGN(keyLength, metadata.positive("attention.key_length"));
    headDim = keyLength;
    config["head_dim"] = keyLength;
  }
  if (metadata.has("attention.value_length")) {
    TRY_ASSIGN(valueLength, metadata.positive("attention.value_length"));
    if (valueLength != headDim)
      return metadata.unsupported(
          "attention.value_length",
          "= " + Twine(valueLength) + ": fm.attention needs value heads as " +
              "wide as key heads (" + Twine(headDim) + ")");
  }
  // Partial rotary: llama.cpp turns the first n_rot features of each head
  // (pairs (2i, 2i+1) for NORM RoPE, (i, i + n_rot/2) for NEOX) and passes
  // the rest through, as fm.rope's rotary_fraction does in either layout.
  rotary = headDim;
  if (metadata.has("rope.dimension_count")) {
    TRY_ASSIGN(count, metadata.positive("rope.dimension_count"));
    if (count > headDim || count % 2 != 0)
      return metadata.unsupported(
          "rope.dimension_count",
          "= " + Twine(count) + ": RoPE turns an even number of features, " +
              "at most the head dimension " + Twine(headDim));
    rotary = count;
    if (rotary != headDim)
      config["partial_rotary_factor"] =
          static_cast<double>(rotary) / static_cast<double>(headDim);
  }
  TRY_ASSIGN(theta, metadata.number("rope.freq_base", 10000.0));
  config["rope_theta"] = theta;

  // RoPE scaling, as llama.cpp applies it: rope.scaling.factor divides every
  // frequency (linear, also when the type is absent: llama.cpp's default),
  // or interpolates by YaRN's ramp with rope.scaling.original_context_length
  // (default: the context length); the Hugging Face rope_scaling that
  // computes the same.
  std::string type = "linear";
  if (metadata.has("rope.scaling.type")) {
    TRY_ASSIGN(stated, metadata.string(metadata.key("rope.scaling.type")));
    type = stated;
  }
  double factor = 1.0;
  if (metadata.has("rope.scaling.factor")) {
    TRY_ASSIGN(stated, metadata.number("rope.scaling.factor"));
    if (stated != 0.0)
      factor = stated;
    if (!(factor > 0.0) || std::isinf(factor))
      return metadata.unsupported("rope.scaling.factor",
                                  "= " + shortNumber(stated) +
                                      ": not a positive scaling factor");
  }
  if (type == "none") {
    if (factor != 1.0)
      return metadata.unsupported(
          "rope.scaling.factor",
          "= " + shortNumber(factor) +
              " with rope.scaling.type \"none\": state the type");
  } else if (type == "linear") {
    if (factor != 1.0)
      config["rope_scaling"] =
          json::Object{{"rope_type", "linear"}, {"factor", factor}};
  } else if (type == "yarn") {
    json::Object yarn{{"rope_type", "yarn"}, {"factor", factor}};
    if (metadata.has("rope.scaling.original_context_length")) {
      TRY_ASSIGN(original,
                 metadata.positive("rope.scaling.original_context_length"));
      yarn["original_max_position_embeddings"] = original;
    }
    config["rope_scaling"] = std::move(yarn);
  } else {
    return metadata.unsupported("rope.scaling.type",
                                "= \"" + type +
                                    "\": fmc applies none, linear and yarn");
  }

  for (auto [configKey, ggufKey] :
       {std::pair{"bos_token_id", "tokenizer.ggml.bos_token_id"},
        std::pair{"eos_token_id", "tokenizer.ggml.eos_token_id"}}) {
    Expected<std::optional<int64_t>> id = metadata.tokenId(ggufKey);
    if (!id)
      return id.takeError();
    if (*id)
      config[configKey] = **id;
  }
  return Error::success();
}

/// The vocabulary size and whether the output is tied.
static Error vocabularyConfig(const Metadata &metadata,
                              const std::vector<TensorRef> &tensors,
                              json::Object &config) {
  const TensorRef *embedding = nullptr;
  bool untied = false;
  for (const TensorRef &tensor : tensors) {
    if (tensor.name == "model.embed_tokens.weight")
      embedding = &tensor;
    untied |= tensor.name == "lm_head.weight";
  }
  config["tie_word_embeddings"] = !untied;
  if (metadata.has("vocab_size")) {
    TRY_ASSIGN(vocab, metadata.positive("vocab_size"));
    config["vocab_size"] = vocab;
  } else if (const GGUFValue *tokens =
                 metadata.gguf.find("tokenizer.ggml.tokens");
             tokens && tokens->getArray()) {
    config["vocab_size"] = static_cast<int64_t>(tokens->elements.size());
  } else if (embedding && embedding->shape.size() == 2) {
    config["vocab_size"] = embedding->shape[0];
  } else {
    return fileError(metadata.gguf.file,
                     "cannot tell the vocabulary size: no '" +
                         metadata.key("vocab_size") +
                         "', 'tokenizer.ggml.tokens' or 2-D "
                         "'token_embd.weight'");
  }
  return Error::success();
}

/// expert_count / expert_used_count as num_<experts> / num_experts_per_tok.
static Error expertConfig(const Metadata &metadata, json::Object &config,
                          StringRef expertsKey, int64_t &experts) {
  TRY_ASSIGN(count, metadata.positive("expert_count"));
  TRY_ASSIGN(used, metadata.positive("expert_used_count"));
  if (used > count)
    return fileError(metadata.gguf.file,
                     "metadata '" + metadata.key("expert_used_count") +
                         "' = " + Twine(used) + " exceeds '" +
                         metadata.key("expert_count") + "' = " + Twine(count));
  config[expertsKey] = count;
  config["num_experts_per_tok"] = used;
  experts = count;
  return Error::success();
}

/// Gemma's local layers from attention.sliding_window(_pattern): a period
/// (local unless il % period == period - 1, llama.cpp's set_swa_pattern),
/// or one bool per layer (true = sliding).
static Error gemmaLayers(const Metadata &metadata, json::Object &config,
                         int64_t layers, int64_t defaultPeriod, bool gemma3) {
  TRY_ASSIGN(window, metadata.nonNegative("attention.sliding_window", 0));
  if (!gemma3 && window == 0)
    return fileError(metadata.gguf.file,
                     "missing metadata '" +
                         metadata.key("attention.sliding_window") + "'");
  auto allGlobal = [&] {
    json::Array types;
    for (int64_t i = 0; i < layers; ++i)
      types.push_back("full_attention");
    config["layer_types"] = std::move(types);
  };
  if (window == 0) { // Gemma 3 without a window: every layer global.
    allGlobal();
    return Error::success();
  }
  config["sliding_window"] = window;
  const GGUFValue *pattern =
      metadata.gguf.find(metadata.key("attention.sliding_window_pattern"));
  if (!pattern) {
    config["sliding_window_pattern"] = defaultPeriod;
    return Error::success();
  }
  if (const std::vector<GGUFValue> *flags = pattern->getArray(GGUFType::Bool)) {
    if (static_cast<int64_t>(flags->size()) != layers)
      return fileError(metadata.gguf.file,
                       "metadata '" +
                           metadata.key("attention.sliding_window_pattern") +
                           "' has " + Twine(flags->size()) +
                           " entries, but block_count = " + Twine(layers));
    json::Array types;
    for (const GGUFValue &flag : *flags)
      types.push_back(flag.getBool().value_or(false) ? "sliding_attention"
                                                     : "full_attention");
    config["layer_types"] = std::move(types);
    return Error::success();
  }
  TRY_ASSIGN(period, metadata.positive("attention.sliding_window_pattern"));
  config["sliding_window_pattern"] = period;
  return Error::success();
}

/// llama.cpp's rope_freqs.weight (llama; Llama 3's frequency scaling as the
/// converter stores it): rotary / 2 f32 divisors of the inverse frequencies,
/// read into the config (fmc_rope_freq_factors, RopeScaling.h) and dropped
/// from the tensors.
static Error ropeFreqFactors(const GGUFFile &gguf, ModelSource &source,
                             int64_t rotary, json::Object &config) {
  auto it = llvm::find_if(source.tensors, [](const TensorRef &tensor) {
    return tensor.name == "rope_freqs.weight";
  });
  if (it == source.tensors.end())
    return Error::success();
  if (it->dtype != DType::F32 || it->shape.size() != 1 ||
      it->shape[0] != rotary / 2)
    return fileError(gguf.file,
                     "tensor 'rope_freqs.weight' must be F32 of shape [" +
                         Twine(rotary / 2) +
                         "] (rope.dimension_count / 2), got " +
                         Twine(it->shape.size()) + " dimensions of " +
                         Twine(it->shape.empty() ? 0 : it->shape.back()));
  std::unique_ptr<MemoryBuffer> slice;
  StringRef bytes;
  if (gguf.buffer && it->offset + it->bytes <= gguf.buffer->getBufferSize()) {
    bytes = gguf.buffer->getBuffer().substr(it->offset, it->bytes);
  } else {
    ErrorOr<std::unique_ptr<MemoryBuffer>> read =
        MemoryBuffer::getFileSlice(gguf.file, it->bytes, it->offset);
    if (!read)
      return fileError(gguf.file, "cannot read tensor 'rope_freqs.weight': " +
                                      read.getError().message());
    slice = std::move(*read);
    bytes = slice->getBuffer();
  }
  json::Array factors;
  for (int64_t i = 0; i < rotary / 2; ++i) {
    float value;
    std::memcpy(&value, bytes.data() + 4 * i, 4);
    if (!(value > 0.0f) || std::isinf(value))
      return fileError(gguf.file, "tensor 'rope_freqs.weight' holds " +
                                      shortNumber(value) + " at " + Twine(i) +
                                      ": frequency factors must be positive");
    factors.push_back(static_cast<double>(value));
  }
  config["fmc_rope_freq_factors"] = std::move(factors);
  source.tensors.erase(it);
  return Error::success();
}

Error mapGGUFArchitecture(const GGUFFile &gguf, ModelSource &source) {
  const GGUFValue *archValue = gguf.find("general.architecture");
  if (!archValue)
    return fileError(gguf.file, "missing metadata 'general.architecture'");
  std::optional<StringRef> archName = archValue->getString();
  if (!archName)
    return fileError(gguf.file, "metadata 'general.architecture' is a " +
                                    ggufTypeName(archValue->type) +
                                    ", expected a string");
  const ArchInfo *info = nullptr;
  for (const ArchInfo &candidate : kArchitectures)
    if (candidate.name == *archName)
      info = &candidate;
  if (!info)
    return fileError(gguf.file, "unsupported GGUF architecture '" + *archName +
                                    "' (fmc reads " + ggufArchitecturesList() +
                                    ")");
  Metadata metadata(gguf, info->name);
  if (Error error = checkKeys(metadata, *info))
    return error;

  json::Object config;
  int64_t headDim = 0, rotary = 0;
  if (Error error = commonConfig(metadata, config, headDim, rotary,
                                 /*ffnRequired=*/info->arch != Arch::Qwen2Moe))
    return error;
  if (info->arch == Arch::Llama)
    if (Error error = ropeFreqFactors(gguf, source, rotary, config))
      return error;
  int64_t layers = *config.getInteger("num_hidden_layers");
  int64_t hidden = *config.getInteger("hidden_size");
  int64_t heads = *config.getInteger("num_attention_heads");

  StringRef epsKey = info->arch == Arch::Cohere2
                         ? "attention.layer_norm_epsilon"
                         : "attention.layer_norm_rms_epsilon";
  TRY_ASSIGN(eps, metadata.number(epsKey));
  config[info->arch == Arch::Cohere2 ? "layer_norm_eps" : "rms_norm_eps"] = eps;

  bool mixtral = false;
  std::optional<int64_t> experts;
  auto readExperts = [&](StringRef expertsKey) -> Error {
    int64_t count = 0;
    if (Error error = expertConfig(metadata, config, expertsKey, count))
      return error;
    experts = count;
    return Error::success();
  };

  switch (info->arch) {
  case Arch::Llama: {
    config["hidden_act"] = "silu";
    // llama.cpp's converter permutes llama q/k rows for NORM RoPE.
    config["fmc_rope_layout"] = "interleaved";
    TRY_ASSIGN(expertCount, metadata.nonNegative("expert_count", 0));
    if (expertCount > 0) {
      // Mixtral: every layer MoE, softmax top-k renormalized.
      mixtral = true;
      if (Error error = readExperts("num_local_experts"))
        return error;
      config["model_type"] = "mixtral";
      config["architectures"] = json::Array{"MixtralForCausalLM"};
    } else {
      if (metadata.has("expert_used_count"))
        return metadata.unsupported("expert_used_count",
                                    "given without an expert_count");
      config["model_type"] = "llama";
      config["architectures"] = json::Array{"LlamaForCausalLM"};
    }
    break;
  }
  case Arch::Qwen2: {
    config["hidden_act"] = "silu";
    config["model_type"] = "qwen2";
    config["use_sliding_window"] = false;
    break;
  }
  case Arch::Qwen2Moe: {
    if (Error error = readExperts("num_experts"))
      return error;
    int64_t used = *config.getInteger("num_experts_per_tok");
    // llama.cpp: n_ff_exp defaults to n_ff / n_expert_used, n_ff_shexp to
    // n_ff; without n_ff both must be stated.
    std::optional<int64_t> ffn = config.getInteger("intermediate_size");
    std::optional<int64_t> ffnFallback;
    if (ffn)
      ffnFallback = std::max<int64_t>(1, *ffn / used);
    TRY_ASSIGN(expertFfn,
               metadata.positive("expert_feed_forward_length", ffnFallback));
    TRY_ASSIGN(sharedFfn,
               metadata.positive("expert_shared_feed_forward_length", ffn));
    if (!ffn)
      config["intermediate_size"] = expertFfn; // No dense layers.
    config["moe_intermediate_size"] = expertFfn;
    config["shared_expert_intermediate_size"] = sharedFfn;
    config["decoder_sparse_step"] = 1; // llama.cpp: every layer MoE.
    config["mlp_only_layers"] = json::Array{};
    config["norm_topk_prob"] = false; // llama.cpp's qwen2moe: no renorm.
    config["hidden_act"] = "silu";
    config["model_type"] = "qwen2_moe";
    config["use_sliding_window"] = false;
    break;
  }
  case Arch::Olmoe: {
    if (Error error = readExperts("num_experts"))
      return error;
    config["norm_topk_prob"] = false; // llama.cpp's olmoe: no renorm.
    config["hidden_act"] = "silu";
    config["model_type"] = "olmoe";
    break;
  }
  case Arch::Gemma2:
  case Arch::Gemma3: {
    bool gemma3 = info->arch == Arch::Gemma3;
    config["hidden_activation"] = "gelu_pytorch_tanh";
    config["model_type"] = gemma3 ? "gemma3_text" : "gemma2";
    // llama.cpp scales queries by 1/sqrt(head_dim), except for the 27B
    // models (gemma2: 46 layers, gemma3: 62) by 1/sqrt(n_embd / n_head).
    bool is27B = layers == (gemma3 ? 62 : 46);
    config["query_pre_attn_scalar"] = is27B ? hidden / heads : headDim;
    if (Error error =
            gemmaLayers(metadata, config, layers, gemma3 ? 6 : 2, gemma3))
      return error;
    if (gemma3) {
      TRY_ASSIGN(local, metadata.number("rope.freq_base_swa", 10000.0));
      config["rope_local_base_freq"] = local;
    } else {
      TRY_ASSIGN(attnCap, metadata.number("attn_logit_softcapping", 50.0));
      if (attnCap > 0)
        config["attn_logit_softcapping"] = attnCap;
    }
    TRY_ASSIGN(finalCap,
               metadata.number("final_logit_softcapping", gemma3 ? 0.0 : 30.0));
    if (finalCap > 0)
      config["final_logit_softcapping"] = finalCap;
    // The converter stores RMSNorm weights + 1; llama.cpp multiplies by them.
    config["fmc_norm_offset_folded"] = true;
    config["fmc_embedding_scale"] = std::sqrt(static_cast<double>(hidden));
    break;
  }
  case Arch::Cohere2: {
    config["hidden_act"] = "silu";
    config["model_type"] = "cohere2";
    TRY_ASSIGN(window, metadata.positive("attention.sliding_window"));
    config["sliding_window"] = window;
    config["sliding_window_pattern"] = 4; // llama.cpp: set_swa_pattern(4).
    TRY_ASSIGN(scale, metadata.number("logit_scale"));
    config["logit_scale"] = scale;
    break;
  }
  case Arch::Llama4: {
    if (Error error = readExperts("num_local_experts"))
      return error;
    TRY_ASSIGN(expertFfn, metadata.positive("expert_feed_forward_length"));
    TRY_ASSIGN(step, metadata.positive("interleave_moe_layer_step"));
    config["intermediate_size_mlp"] = *config.getInteger("intermediate_size");
    config["intermediate_size"] = expertFfn;
    config["interleave_moe_layer_step"] = step;
    config["hidden_act"] = "silu";
    config["model_type"] = "llama4_text";
    // llama.cpp: Maverick (128 experts) has no q/k norm.
    config["use_qk_norm"] = *experts != 128;
    const GGUFValue *window =
        gguf.find(metadata.key("attention.sliding_window"));
    TRY_ASSIGN(windowSize, metadata.nonNegative("attention.sliding_window", 1));
    if (window && windowSize == 0) {
      // llama.cpp: no chunking, RoPE on every layer.
      json::Array rope, types;
      for (int64_t i = 0; i < layers; ++i) {
        rope.push_back(1);
        types.push_back("full_attention");
      }
      config["no_rope_layers"] = std::move(rope);
      config["layer_types"] = std::move(types);
    } else {
      // llama.cpp: chunks of 8192 on 3 of 4 layers, whatever the key says.
      config["attention_chunk_size"] = 8192;
      config["no_rope_layer_interval"] = 4;
    }
    break;
  }
  }

  if (Error error = mapTensorNames(gguf, source, info->arch, mixtral, experts,
                                   metadata.key("expert_count")))
    return error;
  if (Error error = vocabularyConfig(metadata, source.tensors, config))
    return error;
  source.config = std::move(config);
  return Error::success();
}

} // namespace fmc::import
