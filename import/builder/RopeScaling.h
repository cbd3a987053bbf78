//===- RopeScaling.h - RoPE frequency scaling as a frequency table --------===//
//
// Hugging Face's rope_scaling (or rope_parameters) types default, linear,
// llama3 and yarn, and llama.cpp's per-frequency divisors (a GGUF's
// rope_freqs.weight, which the GGUF reader passes on as the config key
// fmc_rope_freq_factors), stated the one way fm.rope takes them: the
// rotary / 2 inverse frequencies and an attention factor that multiplies
// cos and sin. Both importers share it: the GGUF reader translates
// rope.scaling.* into the same Hugging Face keys.
//
// The formulas are transformers' modeling_rope_utils.py
// (_compute_{default,linear_scaling,llama3,yarn}_parameters); for yarn,
// `factor` is the config's and the original context is
// original_max_position_embeddings (default: max_position_embeddings), as
// llama.cpp's rope.scaling.factor and rope.scaling.original_context_length.
// Any other type (dynamic, longrope, ...) is an error naming the key.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_IMPORT_BUILDER_ROPESCALING_H
#define FMC_IMPORT_BUILDER_ROPESCALING_H

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace fmc::import {

class Config;

/// A model's RoPE frequency scaling, as its config states it.
struct RopeScaling {
  enum class Type { Default, Linear, Llama3, Yarn };
  Type type = Type::Default;
  double factor = 1.0;
  /// Llama 3 and YaRN: the context the model was pretrained with.
  double originalContext = 0.0;
  /// Llama 3.
  double lowFreqFactor = 1.0, highFreqFactor = 4.0;
  /// YaRN.
  std::optional<double> attentionFactor, mscale, mscaleAllDim;
  double betaFast = 32.0, betaSlow = 1.0;
  bool truncate = true;
  /// llama.cpp's rope_freqs: inverse frequency i is divided by divisors[i]
  /// before any scaling (empty: none).
  std::vector<double> divisors;

  bool isIdentity() const {
    return type == Type::Default && divisors.empty();
  }
};

/// rope_scaling, else rope_parameters (its rope_type, or the legacy `type`),
/// and fmc_rope_freq_factors. Problems are reported through `config`.
RopeScaling readRopeScaling(Config &config);
/// The scaling stated by the object at `at` (a dotted path such as
/// "rope_parameters.full_attention"; empty: none), and fmc_rope_freq_factors.
RopeScaling readRopeScalingAt(Config &config, const std::string &at);

/// The inverse frequencies fm.rope's `frequencies` holds.
struct RopeTable {
  std::vector<float> frequencies; ///< rotaryDim / 2 of them.
  double attentionFactor = 1.0;
};

/// The table of `scaling` for base `theta` over `rotaryDim` features.
RopeTable ropeTable(const RopeScaling &scaling, double theta,
                    int64_t rotaryDim);

} // namespace fmc::import

#endif // FMC_IMPORT_BUILDER_ROPESCALING_H
