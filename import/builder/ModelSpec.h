//===- ModelSpec.h - a decoder model's structure, before it is IR ---------===//
//
// What each architecture file (archs/*.cpp) derives from a config: the layers,
// what each layer's attention and FFN look like, and which tensors they use
// under their Hugging Face names. The graph emitter (GraphEmitter.h) turns a
// ModelSpec into fm ops with one set of layer-building helpers, so every
// architecture shares the same attention, FFN and MoE code and differs only
// in the facts it states here.
//
// Sizes carry the config fields they come from, so a tensor whose shape
// disagrees with them is reported against those fields.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_IMPORT_BUILDER_MODELSPEC_H
#define FMC_IMPORT_BUILDER_MODELSPEC_H

#include "dialects/fm/IR/FmAttrs.h"
#include "import/builder/RopeScaling.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace fmc::import {

/// A size and the config field(s) it comes from ("hidden_size",
/// "num_attention_heads * head_dim").
struct Dim {
  int64_t size = 0;
  std::string field;
};

/// An RMSNorm or LayerNorm.
struct NormSpec {
  enum class Kind { RMS, Layer };
  Kind kind = Kind::RMS;
  std::string weight; ///< Tensor name; empty: no learned weight.
  std::string bias;   ///< LayerNorm bias tensor; empty: none.
  Dim size;           ///< Weight length (the group, or the whole row).
  double eps = 1e-5;
  double weightOffset = 0.0;        ///< Gemma stores weight - 1.
  std::optional<int64_t> groupSize; ///< Per-head norms (qk-norm).
};

struct RopeSpec {
  mlir::fm::RopeLayout layout = mlir::fm::RopeLayout::rotate_half;
  double theta = 10000.0;
  double rotaryFraction = 1.0;
  RopeScaling scaling; ///< Frequency scaling (none by default).
};

/// y = x W^T (+ b), W an [out, in] tensor.
struct ProjSpec {
  std::string weight;
  std::string bias; ///< Empty: none.
};

struct AttentionSpec {
  Dim heads, kvHeads, headDim;
  ProjSpec q, k, v, o; ///< k and v empty: reads an earlier layer's cache.
  std::optional<NormSpec> qNorm, kNorm; ///< Applied before RoPE.
  std::optional<RopeSpec> rope;         ///< None: NoPE.
  mlir::fm::AttentionKind kind = mlir::fm::AttentionKind::global;
  int64_t window = 0; ///< Local window or chunk size.
  std::optional<double> scale, softcap;
  /// The cache this attention reads; it also owns and writes it when k and v
  /// are given (a ring of `window` for local and chunked attention, else a
  /// linear cache of the model's context length).
  std::string cache;

  bool readsSharedCache() const { return k.weight.empty(); }
};

/// A gated FFN: down(act(gate x) * up x).
struct GluSpec {
  std::string gate, up, down;
  Dim intermediate;
};

struct MoeSpec {
  std::string router; ///< [experts, hidden] tensor.
  Dim experts;
  int64_t topK = 1;
  bool normTopK = false;
  mlir::fm::RouterScoring scoring = mlir::fm::RouterScoring::softmax;
  std::vector<GluSpec> expertFfns;
  std::optional<GluSpec> shared;
  std::string sharedGate; ///< [1, hidden]; scales the shared expert by sigmoid.
  /// Llama 4 multiplies each selected expert's input, not its output, by its
  /// routing weight (only expressed for top_k = 1).
  bool scaleExpertInputs = false;
};

struct FfnSpec {
  mlir::fm::Activation activation = mlir::fm::Activation::silu;
  std::optional<GluSpec> dense; ///< Exactly one of dense and moe is set.
  std::optional<MoeSpec> moe;
};

struct LayerSpec {
  /// Names this layer's values and cache ("3", "t1.5").
  std::string tag;
  NormSpec inputNorm;
  std::optional<NormSpec>
      postAttentionNorm; ///< Gemma: on the attention output.
  /// Before the FFN; absent for a parallel block (Cohere: attention and FFN
  /// both read the input norm and are added to the residual together).
  std::optional<NormSpec> ffnNorm;
  std::optional<NormSpec> postFfnNorm; ///< Gemma: on the FFN output.
  AttentionSpec attention;
  FfnSpec ffn;
};

/// One block of parallel tracks: tracks[t] are track t's `depth` layers.
struct TrackBlockSpec {
  mlir::fm::TrackCombine combine = mlir::fm::TrackCombine::mean;
  std::vector<std::vector<LayerSpec>> tracks;
};

struct ModelSpec {
  Dim hidden, vocab;
  int64_t contextLength = 0;
  std::string embedding;
  std::optional<double> embeddingScale;
  /// The decoder: a stack of layers, or blocks of parallel tracks.
  std::vector<LayerSpec> layers;
  std::vector<TrackBlockSpec> trackBlocks;
  NormSpec finalNorm;
  std::string outputWeight; ///< The embedding table when tied.
  std::optional<double> logitScale, logitSoftcap;
  /// Tensors the file may hold that the model does not use (a tied
  /// lm_head.weight): accepted and left out of the module.
  std::vector<std::string> ignoredTensors;
};

} // namespace fmc::import

#endif // FMC_IMPORT_BUILDER_MODELSPEC_H
