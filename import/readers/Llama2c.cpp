//===- Llama2c.cpp - llama2.c legacy checkpoints --------------------------===//
//
// The layout (llama2.c run.c, memory_map_weights): after the header, fp32
//   token_embedding[vocab, dim]
//   rms_att[L, dim]  wq[L, dim, dim]  wk[L, kv_dim, dim]  wv[L, kv_dim, dim]
//   wo[L, dim, dim]  rms_ffn[L, dim]  w1[L, hidden, dim]  w2[L, dim, hidden]
//   w3[L, hidden, dim]  rms_final[dim]
//   freq_cis_real[seq_len * head_size / 2]  freq_cis_imag[same]  (unused)
//   wcls[vocab, dim]  (only when vocab_size < 0, i.e. untied)
// Per-layer arrays are stacked: layer i's slice starts i slices in.
//
//===----------------------------------------------------------------------===//

#include "import/readers/Llama2c.h"

#include "import/readers/ByteReader.h"
#include "import/readers/TensorOrder.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"

#include <array>

using namespace llvm;

namespace fmc::import {

namespace {
struct Header {
  int64_t dim, hiddenDim, nLayers, nHeads, nKVHeads, vocabSize, seqLen;
};

/// Lays tensors out one after another, with overflow checks: the header's
/// int32 fields multiply to more than 64 bits in a corrupt file. Without an
/// output vector it only measures, so that a header describing billions of
/// tensors is rejected by size before any is created.
class Layout {
public:
  Layout(StringRef file, std::vector<TensorRef> *out)
      : file(file), out(out), offset(kLlama2cHeaderBytes) {}

  /// Appends `count` stacked tensors of `shape` ("{0}" in `name` is the
  /// index). Returns false on overflow.
  bool add(const std::string &name, int64_t count,
           std::vector<int64_t> shape) {
    std::optional<uint64_t> bytes = storageBytes(DType::F32, shape);
    uint64_t total;
    if (!bytes || mulOverflows(*bytes, count, total))
      return false;
    if (out) {
      for (int64_t i = 0; i < count; ++i)
        out->push_back(TensorRef{formatv(name.c_str(), i).str(), shape,
                                 DType::F32, file.str(), offset + i * *bytes,
                                 *bytes});
    }
    return !addOverflows(offset, total, offset);
  }

  /// Skips `floats` fp32 values.
  bool skip(uint64_t floats) {
    uint64_t bytes;
    return !mulOverflows(floats, 4, bytes) &&
           !addOverflows(offset, bytes, offset);
  }

  uint64_t end() const { return offset; }

private:
  StringRef file;
  std::vector<TensorRef> *out;
  uint64_t offset;
};
} // namespace

/// The llama2.c "export version" files begin with this magic ("ak42" read as
/// a little-endian int32) instead of the legacy header.
static constexpr uint32_t kExportMagic = 0x616b3432;

static Expected<Header> parseHeader(StringRef file, StringRef bytes) {
  ByteReader reader(file, bytes);
  static constexpr std::array<const char *, 7> names = {
      "dim",        "hidden_dim", "n_layers", "n_heads",
      "n_kv_heads", "vocab_size", "seq_len"};
  std::array<int64_t, 7> values;
  for (size_t i = 0; i < names.size(); ++i) {
    Expected<int32_t> value =
        reader.readI32(Twine("header field '") + names[i] + "'");
    if (!value)
      return value.takeError();
    if (i == 0 && static_cast<uint32_t>(*value) == kExportMagic)
      return reader.error("a llama2.c export-version file (magic 'ak42'); fmc "
                          "reads the legacy format (run.c's export "
                          "--version 0)");
    values[i] = *value;
    // vocab_size alone may be negative (untied classifier).
    if (*value == 0 || (*value < 0 && i != 5))
      return reader.error(Twine("header field '") + names[i] + "' is " +
                          Twine(*value) + ", expected a positive value");
  }
  Header header{values[0], values[1], values[2], values[3],
                values[4], values[5], values[6]};
  if (header.dim % header.nHeads != 0)
    return reader.error("header field 'dim' " + Twine(header.dim) +
                        " is not a multiple of 'n_heads' " +
                        Twine(header.nHeads));
  if (header.nHeads % header.nKVHeads != 0)
    return reader.error("header field 'n_heads' " + Twine(header.nHeads) +
                        " is not a multiple of 'n_kv_heads' " +
                        Twine(header.nKVHeads));
  return header;
}

Expected<ModelSource> parseLlama2c(StringRef file, StringRef headerBytes,
                                   uint64_t fileSize) {
  Expected<Header> parsed = parseHeader(file, headerBytes);
  if (!parsed)
    return parsed.takeError();
  const Header &h = *parsed;
  bool tied = h.vocabSize > 0;
  int64_t vocab = tied ? h.vocabSize : -h.vocabSize;
  int64_t headSize = h.dim / h.nHeads;
  int64_t kvDim = headSize * h.nKVHeads;

  ModelSource source;
  source.origin = file.str();
  auto layOut = [&](Layout &layout) {
    const std::string layer = "model.layers.{0}.";
    return layout.add("model.embed_tokens.weight", 1, {vocab, h.dim}) &&
           layout.add(layer + "input_layernorm.weight", h.nLayers, {h.dim}) &&
           layout.add(layer + "self_attn.q_proj.weight", h.nLayers,
                      {h.dim, h.dim}) &&
           layout.add(layer + "self_attn.k_proj.weight", h.nLayers,
                      {kvDim, h.dim}) &&
           layout.add(layer + "self_attn.v_proj.weight", h.nLayers,
                      {kvDim, h.dim}) &&
           layout.add(layer + "self_attn.o_proj.weight", h.nLayers,
                      {h.dim, h.dim}) &&
           layout.add(layer + "post_attention_layernorm.weight", h.nLayers,
                      {h.dim}) &&
           layout.add(layer + "mlp.gate_proj.weight", h.nLayers,
                      {h.hiddenDim, h.dim}) &&
           layout.add(layer + "mlp.down_proj.weight", h.nLayers,
                      {h.dim, h.hiddenDim}) &&
           layout.add(layer + "mlp.up_proj.weight", h.nLayers,
                      {h.hiddenDim, h.dim}) &&
           layout.add("model.norm.weight", 1, {h.dim}) &&
           // freq_cis_real and freq_cis_imag, each seq_len * head_size / 2
           // floats (run.c's integer arithmetic).
           layout.skip(static_cast<uint64_t>(h.seqLen) * headSize / 2) &&
           layout.skip(static_cast<uint64_t>(h.seqLen) * headSize / 2) &&
           (tied || layout.add("lm_head.weight", 1, {vocab, h.dim}));
  };
  Layout measure(file, nullptr);
  bool ok = layOut(measure);

  std::string described = formatv(
      "the header (dim {0}, hidden_dim {1}, n_layers {2}, n_heads {3}, "
      "n_kv_heads {4}, vocab_size {5}, seq_len {6})",
      h.dim, h.hiddenDim, h.nLayers, h.nHeads, h.nKVHeads, h.vocabSize,
      h.seqLen);
  if (!ok)
    return fileError(file, described + " describes more than 2^64 bytes");
  if (measure.end() != fileSize)
    return fileError(
        file, Twine(fileSize < measure.end() ? "truncated: " : "") +
                  "file is " + Twine(fileSize) + " bytes, but " + described +
                  " describes " + Twine(measure.end()) + " bytes" +
                  (fileSize > measure.end() ? " (trailing bytes)" : ""));
  Layout build(file, &source.tensors);
  layOut(build);
  sortTensorsCanonically(source.tensors);

  json::Object &c = source.config;
  c["architectures"] = json::Array{"LlamaForCausalLM"};
  c["model_type"] = "llama";
  c["hidden_size"] = h.dim;
  c["intermediate_size"] = h.hiddenDim;
  c["num_hidden_layers"] = h.nLayers;
  c["num_attention_heads"] = h.nHeads;
  c["num_key_value_heads"] = h.nKVHeads;
  c["vocab_size"] = vocab;
  c["max_position_embeddings"] = h.seqLen;
  c["rms_norm_eps"] = 1e-5;
  c["rope_theta"] = 10000.0;
  c["hidden_act"] = "silu";
  c["tie_word_embeddings"] = tied;
  c["bos_token_id"] = 1;
  c["eos_token_id"] = 2;
  c["fmc_rope_layout"] = "interleaved";
  return source;
}

Expected<ModelSource> readLlama2c(StringRef checkpoint,
                                  std::optional<StringRef> tokenizer) {
  Expected<uint64_t> size = fileSize(checkpoint);
  if (!size)
    return size.takeError();
  Expected<std::unique_ptr<MemoryBuffer>> header = readFileSlice(
      checkpoint, 0, std::min<uint64_t>(*size, kLlama2cHeaderBytes));
  if (!header)
    return header.takeError();
  Expected<ModelSource> source =
      parseLlama2c(checkpoint, (*header)->getBuffer(), *size);
  if (!source)
    return source.takeError();
  if (tokenizer) {
    if (Expected<uint64_t> tokenizerSize = fileSize(*tokenizer); !tokenizerSize)
      return tokenizerSize.takeError();
    source->tokenizer = TokenizerRef{TokenizerRef::Format::Llama2c,
                                     tokenizer->str()};
  }
  return source;
}

} // namespace fmc::import
