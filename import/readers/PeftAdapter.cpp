//===- PeftAdapter.cpp - a PEFT LoRA adapter directory --------------------===//

#include "import/readers/PeftAdapter.h"

#include "import/readers/Json.h"
#include "import/readers/SafeTensors.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Regex.h"

#include <cmath>
#include <map>

using namespace llvm;

namespace fmc::import {

namespace {

Error fail(const Twine &message) {
  return createStringError(inconvertibleErrorCode(), message);
}

/// PEFT's rank_pattern / alpha_pattern rule: a key applies to the modules
/// matching `(.*\.)?key$`; the first key that matches wins.
const json::Value *patternFor(const json::Object *patterns,
                              StringRef module) {
  if (!patterns)
    return nullptr;
  for (const auto &[key, value] : *patterns) {
    Regex regex(("^(.*\\.)?" + key.str() + "$"));
    if (regex.isValid() && regex.match(module))
      return &value;
  }
  return nullptr;
}

std::string shapeText(const std::vector<int64_t> &shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

/// Config keys whose non-default values ask for something fmc does not do.
Error checkUnsupported(const json::Object &config, StringRef file) {
  auto truthy = [&](StringRef key) {
    const json::Value *v = config.get(key);
    return v && v->getAsBoolean().value_or(false);
  };
  if (truthy("use_dora"))
    return fail(file + ": use_dora: DoRA adapters are not supported (only "
                       "plain LoRA)");
  if (truthy("fan_in_fan_out"))
    return fail(file + ": fan_in_fan_out: adapters of Conv1D (GPT-2 style) "
                       "layers are not supported");
  if (std::optional<StringRef> bias = config.getString("bias");
      bias && *bias != "none")
    return fail(file + ": bias \"" + *bias +
                "\": adapters that train biases are not supported (only "
                "\"none\")");
  if (const json::Array *saved = config.getArray("modules_to_save");
      saved && !saved->empty())
    return fail(file + ": modules_to_save: adapters that retrain whole "
                       "modules are not supported");
  if (std::optional<StringRef> type = config.getString("peft_type");
      type && *type != "LORA")
    return fail(file + ": peft_type \"" + *type +
                "\": only LORA adapters are supported");
  return Error::success();
}

} // namespace

Expected<PeftAdapter> readPeftAdapter(StringRef directory) {
  if (!sys::fs::is_directory(directory))
    return fail("'" + directory + "' is not a directory (a PEFT adapter is "
                "a directory with adapter_config.json and "
                "adapter_model.safetensors)");
  SmallString<256> configPath(directory), weightsPath(directory);
  sys::path::append(configPath, "adapter_config.json");
  sys::path::append(weightsPath, "adapter_model.safetensors");
  if (!sys::fs::exists(configPath))
    return fail(directory + ": no adapter_config.json (not a PEFT adapter)");
  if (!sys::fs::exists(weightsPath))
    return fail(directory + ": no adapter_model.safetensors (PEFT's .bin "
                            "adapters are not read; save with "
                            "safe_serialization=True)");
  Expected<json::Value> json = readJsonFile(configPath);
  if (!json)
    return json.takeError();
  const json::Object *config = json->getAsObject();
  if (!config)
    return fail(configPath + ": not a JSON object");
  if (Error err = checkUnsupported(*config, configPath))
    return std::move(err);

  PeftAdapter adapter;
  adapter.directory = directory.str();
  std::optional<int64_t> rank = config->getInteger("r");
  if (!rank || *rank <= 0)
    return fail(configPath + ": 'r' must be a positive integer rank");
  adapter.rank = *rank;
  const json::Value *alphaValue = config->get("lora_alpha");
  std::optional<double> alpha =
      alphaValue ? alphaValue->getAsNumber() : std::optional<double>(*rank);
  if (!alpha)
    return fail(configPath + ": 'lora_alpha' must be a number");
  adapter.alpha = *alpha;
  bool rslora = config->getBoolean("use_rslora").value_or(false);
  const json::Object *rankPattern = config->getObject("rank_pattern");
  const json::Object *alphaPattern = config->getObject("alpha_pattern");

  Expected<std::vector<TensorRef>> tensors = readSafeTensors(weightsPath);
  if (!tensors)
    return tensors.takeError();
  // base_model.model.<module>.lora_{A,B}.weight -> the module's pair.
  std::map<std::string, std::pair<const TensorRef *, const TensorRef *>> pairs;
  for (const TensorRef &tensor : *tensors) {
    StringRef name = tensor.name;
    StringRef module = name;
    if (!module.consume_front("base_model.model."))
      return fail(weightsPath + ": tensor '" + name +
                  "' is not a PEFT LoRA weight (base_model.model.<module>."
                  "lora_A.weight)");
    bool isA = module.consume_back(".lora_A.weight");
    bool isB = !isA && module.consume_back(".lora_B.weight");
    if (!isA && !isB)
      return fail(weightsPath + ": tensor '" + name +
                  "' is not a LoRA A or B matrix (embedding adapters, "
                  "DoRA magnitudes and biases are not supported)");
    auto &pair = pairs[module.str()];
    (isA ? pair.first : pair.second) = &tensor;
  }
  if (pairs.empty())
    return fail(weightsPath + ": no LoRA tensors");
  for (const auto &[module, pair] : pairs) {
    if (!pair.first || !pair.second)
      return fail(weightsPath + ": module '" + module + "' has lora_" +
                  (pair.first ? "A" : "B") + " but no lora_" +
                  (pair.first ? "B" : "A"));
    LoraModule lora;
    lora.module = module;
    lora.rank = adapter.rank;
    if (const json::Value *r = patternFor(rankPattern, module)) {
      std::optional<int64_t> value = r->getAsInteger();
      if (!value || *value <= 0)
        return fail(configPath + ": rank_pattern for '" + module +
                    "' is not a positive integer");
      lora.rank = *value;
    }
    lora.alpha = adapter.alpha;
    if (const json::Value *a = patternFor(alphaPattern, module)) {
      std::optional<double> value = a->getAsNumber();
      if (!value)
        return fail(configPath + ": alpha_pattern for '" + module +
                    "' is not a number");
      lora.alpha = *value;
    }
    lora.scale = rslora ? lora.alpha / std::sqrt(double(lora.rank))
                        : lora.alpha / double(lora.rank);
    lora.a = *pair.first;
    lora.b = *pair.second;
    for (const TensorRef *t : {&lora.a, &lora.b})
      if (t->dtype != DType::F32 && t->dtype != DType::F16 &&
          t->dtype != DType::BF16)
        return fail(weightsPath + ": tensor '" + t->name +
                    "' is not F32, F16 or BF16");
    const std::vector<int64_t> &a = lora.a.shape, &b = lora.b.shape;
    if (a.size() != 2 || b.size() != 2 || a[0] != lora.rank ||
        b[1] != lora.rank)
      return fail(weightsPath + ": module '" + module + "' has lora_A " +
                  shapeText(a) + " and lora_B " + shapeText(b) +
                  ", expected [" + Twine(lora.rank) + ", in] and [out, " +
                  Twine(lora.rank) + "] for its rank " + Twine(lora.rank));
    adapter.modules.push_back(std::move(lora));
  }
  return adapter;
}

} // namespace fmc::import
