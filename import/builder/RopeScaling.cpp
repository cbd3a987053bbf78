//===- RopeScaling.cpp - RoPE frequency scaling as a frequency table ------===//

#include "import/builder/RopeScaling.h"

#include "import/builder/Config.h"

#include <algorithm>
#include <cmath>

namespace fmc::import {

RopeScaling readRopeScaling(Config &config) {
  std::string at;
  if (config.has("rope_scaling")) {
    if (config.isObject("rope_scaling"))
      at = "rope_scaling";
    else // A bare string: only "default" means anything.
      config.rejectUnless("rope_scaling", {"default"},
                          "RoPE scaling is an object with a rope_type");
  } else if (config.isObject("rope_parameters")) {
    at = "rope_parameters";
  }
  return readRopeScalingAt(config, at);
}

RopeScaling readRopeScalingAt(Config &config, const std::string &at) {
  RopeScaling scaling;
  if (!at.empty()) {
    auto key = [&](const char *field) { return at + "." + field; };
    // transformers' rope_type, or the legacy `type` of older configs.
    std::string typeKey = key("rope_type");
    if (!config.has(typeKey) && config.has(key("type")))
      typeKey = key("type");
    std::string type = config.string(typeKey, "default");
    if (type == "linear") {
      scaling.type = RopeScaling::Type::Linear;
      scaling.factor = config.positiveNumber(key("factor"));
    } else if (type == "llama3") {
      scaling.type = RopeScaling::Type::Llama3;
      scaling.factor = config.positiveNumber(key("factor"));
      scaling.lowFreqFactor = config.positiveNumber(key("low_freq_factor"));
      scaling.highFreqFactor = config.positiveNumber(key("high_freq_factor"));
      scaling.originalContext =
          config.positiveNumber(key("original_max_position_embeddings"));
      if (!(scaling.highFreqFactor > scaling.lowFreqFactor))
        config.invalid(key("high_freq_factor"),
                       "must be greater than low_freq_factor, got " +
                           config.describe(key("high_freq_factor")) + " and " +
                           config.describe(key("low_freq_factor")));
    } else if (type == "yarn") {
      scaling.type = RopeScaling::Type::Yarn;
      scaling.factor = config.positiveNumber(key("factor"));
      scaling.attentionFactor =
          config.optionalPositiveNumber(key("attention_factor"));
      scaling.mscale = config.optionalPositiveNumber(key("mscale"));
      scaling.mscaleAllDim =
          config.optionalPositiveNumber(key("mscale_all_dim"));
      scaling.betaFast = config.positiveNumber(key("beta_fast"), 32.0);
      scaling.betaSlow = config.positiveNumber(key("beta_slow"), 1.0);
      scaling.truncate = config.boolean(key("truncate"), true);
      scaling.originalContext =
          config.has(key("original_max_position_embeddings"))
              ? config.positiveNumber(key("original_max_position_embeddings"))
              : config.positiveNumber("max_position_embeddings");
    } else if (type != "default") {
      config.invalid(typeKey, "= \"" + type +
                                  "\" is not supported: fmc applies RoPE "
                                  "scaling of type default, linear, llama3 "
                                  "and yarn");
    }
  }
  if (std::optional<std::vector<double>> divisors =
          config.positiveNumberList("fmc_rope_freq_factors"))
    scaling.divisors = std::move(*divisors);
  return scaling;
}

/// transformers' get_mscale: YaRN's attention scaling for a context factor.
static double yarnMscale(double scale, double mscale) {
  return scale <= 1.0 ? 1.0 : 0.1 * mscale * std::log(scale) + 1.0;
}

RopeTable ropeTable(const RopeScaling &scaling, double theta,
                    int64_t rotaryDim) {
  int64_t half = rotaryDim / 2;
  auto dim = static_cast<double>(rotaryDim);
  std::vector<double> inv(half);
  for (int64_t i = 0; i < half; ++i) {
    inv[i] = std::pow(theta, -2.0 * static_cast<double>(i) / dim);
    // The GGUF reader checks that rope_freqs has rotary / 2 entries.
    if (static_cast<size_t>(i) < scaling.divisors.size())
      inv[i] /= scaling.divisors[i];
  }
  RopeTable table;
  double factor = scaling.factor;
  switch (scaling.type) {
  case RopeScaling::Type::Default:
    break;
  case RopeScaling::Type::Linear:
    for (double &f : inv)
      f /= factor;
    break;
  case RopeScaling::Type::Llama3: {
    double context = scaling.originalContext;
    double low = scaling.lowFreqFactor, high = scaling.highFreqFactor;
    double lowWavelength = context / low, highWavelength = context / high;
    for (double &f : inv) {
      double wavelength = 2.0 * M_PI / f;
      if (wavelength < highWavelength)
        continue; // High frequencies stay.
      if (wavelength > lowWavelength) {
        f /= factor; // Low frequencies are interpolated.
        continue;
      }
      double smooth = (context / wavelength - low) / (high - low);
      f = (1.0 - smooth) * f / factor + smooth * f;
    }
    break;
  }
  case RopeScaling::Type::Yarn: {
    // The dimensions that turn beta_fast and beta_slow times over the
    // original context bound the ramp from extrapolation (kept) to
    // interpolation (divided by factor).
    auto correctionDim = [&](double rotations) {
      return dim * std::log(scaling.originalContext / (rotations * 2.0 * M_PI)) /
             (2.0 * std::log(theta));
    };
    double low = correctionDim(scaling.betaFast);
    double high = correctionDim(scaling.betaSlow);
    if (scaling.truncate) {
      low = std::floor(low);
      high = std::ceil(high);
    }
    low = std::max(low, 0.0);
    high = std::min(high, dim - 1.0);
    if (low == high)
      high += 0.001;
    for (int64_t i = 0; i < half; ++i) {
      double ramp = std::clamp((static_cast<double>(i) - low) / (high - low),
                               0.0, 1.0);
      double extrapolation = 1.0 - ramp;
      inv[i] = inv[i] / factor * (1.0 - extrapolation) + inv[i] * extrapolation;
    }
    if (scaling.attentionFactor)
      table.attentionFactor = *scaling.attentionFactor;
    else if (scaling.mscale && scaling.mscaleAllDim)
      table.attentionFactor = yarnMscale(factor, *scaling.mscale) /
                              yarnMscale(factor, *scaling.mscaleAllDim);
    else
      table.attentionFactor = yarnMscale(factor, 1.0);
    break;
  }
  }
  table.frequencies.assign(inv.begin(), inv.end());
  return table;
}

} // namespace fmc::import
