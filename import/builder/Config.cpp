//===- Config.cpp - typed access to a model's config fields ---------------===//

#include "import/builder/Config.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>

using namespace llvm;

namespace fmc::import {

/// A JSON value as it appears in the file, shortened for a diagnostic.
static std::string shown(const json::Value &value) {
  std::string text;
  raw_string_ostream(text) << value;
  if (text.size() > 40)
    text = text.substr(0, 37) + "...";
  return text;
}

Config::Config(const ModelSource &source, FirstError &errors)
    : config(source.config), tensorCount(source.tensors.size()),
      errors(errors) {
  if (sys::fs::is_directory(source.origin)) {
    SmallString<256> joined(source.origin);
    sys::path::append(joined, "config.json");
    path = std::string(joined);
  } else {
    path = source.origin.empty() ? "<model>" : source.origin;
  }
}

StringRef Config::modelType() const {
  const json::Value *value = lookup("model_type");
  if (!value)
    return "";
  if (std::optional<StringRef> text = value->getAsString())
    return *text;
  return "";
}

/// `key`, or a dotted path into nested objects ("rope_parameters.rope_theta";
/// Hugging Face keys never contain dots).
static const json::Value *walk(const json::Object &config, StringRef key) {
  auto [head, rest] = key.split('.');
  const json::Value *value = config.get(head);
  while (value && !rest.empty()) {
    const json::Object *object = value->getAsObject();
    if (!object)
      return nullptr;
    std::tie(head, rest) = rest.split('.');
    value = object->get(head);
  }
  return value;
}

const json::Value *Config::lookup(StringRef key) const {
  const json::Value *value = walk(config, key);
  if (!value || value->kind() == json::Value::Null)
    return nullptr;
  return value;
}

bool Config::has(StringRef key) const { return lookup(key) != nullptr; }

const json::Value *Config::require(StringRef key) {
  const json::Value *value = walk(config, key);
  if (!value)
    invalid(key, "is missing");
  else if (value->kind() == json::Value::Null)
    invalid(key, "is null");
  else
    return value;
  return nullptr;
}

void Config::invalid(StringRef key, const Twine &message) {
  errors.report(path, "config field '" + key + "' " + message);
}

void Config::fail(const Twine &message) { errors.report(path, message); }

std::string Config::describe(StringRef key) const {
  const json::Value *value = lookup(key);
  return (key + " = " + (value ? shown(*value) : std::string("null"))).str();
}

static constexpr int64_t kMaxInteger = (int64_t(1) << 31) - 1;

/// Integer fields: JSON integers, or floats with an integral value (4096.0).
static std::optional<int64_t> asInteger(const json::Value &value) {
  if (std::optional<int64_t> integer = value.getAsInteger())
    return integer;
  return std::nullopt;
}

int64_t Config::positiveInt(StringRef key) {
  const json::Value *value = require(key);
  if (!value)
    return 1;
  std::optional<int64_t> integer = asInteger(*value);
  if (!integer || *integer <= 0) {
    invalid(key, "must be a positive integer, got " + shown(*value));
    return 1;
  }
  if (*integer > kMaxInteger) {
    invalid(key, "= " + shown(*value) + " is too large (at most 2^31 - 1)");
    return 1;
  }
  return *integer;
}

int64_t Config::count(StringRef key) {
  int64_t value = positiveInt(key);
  if (static_cast<uint64_t>(value) > tensorCount) {
    invalid(key, "= " + Twine(value) + " is more than the " +
                     Twine(tensorCount) + " tensors the model has");
    return 1;
  }
  return value;
}

int64_t Config::positiveInt(StringRef key, int64_t fallback) {
  if (!has(key))
    return fallback;
  return positiveInt(key);
}

int64_t Config::nonNegativeInt(StringRef key, int64_t fallback) {
  const json::Value *value = lookup(key);
  if (!value)
    return fallback;
  std::optional<int64_t> integer = asInteger(*value);
  if (!integer || *integer < 0 || *integer > kMaxInteger) {
    invalid(key,
            "must be a non-negative integer below 2^31, got " + shown(*value));
    return fallback;
  }
  return *integer;
}

std::optional<int64_t> Config::optionalPositiveInt(StringRef key) {
  if (!has(key))
    return std::nullopt;
  return positiveInt(key);
}

double Config::positiveNumber(StringRef key) {
  const json::Value *value = require(key);
  if (!value)
    return 1.0;
  std::optional<double> number = value->getAsNumber();
  if (!number || !(*number > 0.0) || !std::isfinite(*number)) {
    invalid(key, "must be a positive number, got " + shown(*value));
    return 1.0;
  }
  // The kernels compute with f32: 1e-300 would be 0 there, 1e308 infinite.
  float asF32 = static_cast<float>(*number);
  if (asF32 == 0.0f || std::isinf(asF32)) {
    invalid(key, "= " + shown(*value) + " is " +
                     (asF32 == 0.0f ? "0" : "infinite") +
                     " as the f32 the kernels compute with");
    return 1.0;
  }
  return *number;
}

double Config::positiveNumber(StringRef key, double fallback) {
  if (!has(key))
    return fallback;
  return positiveNumber(key);
}

std::optional<double> Config::optionalPositiveNumber(StringRef key) {
  if (!has(key))
    return std::nullopt;
  return positiveNumber(key);
}

bool Config::truthy(StringRef key, bool fallback) {
  const json::Value *value = lookup(key);
  if (!value)
    return fallback;
  if (std::optional<double> number = value->getAsNumber())
    return *number != 0.0;
  return boolean(key, fallback);
}

bool Config::boolean(StringRef key, bool fallback) {
  const json::Value *value = lookup(key);
  if (!value)
    return fallback;
  if (std::optional<bool> flag = value->getAsBoolean())
    return *flag;
  invalid(key, "must be true or false, got " + shown(*value));
  return fallback;
}

std::string Config::string(StringRef key) {
  const json::Value *value = require(key);
  if (!value)
    return "";
  if (std::optional<StringRef> text = value->getAsString())
    return text->str();
  invalid(key, "must be a string, got " + shown(*value));
  return "";
}

std::string Config::string(StringRef key, StringRef fallback) {
  if (!has(key))
    return fallback.str();
  return string(key);
}

int64_t Config::tokenId(StringRef key) {
  const json::Value *value = lookup(key);
  if (!value)
    return -1;
  const json::Value *first = value;
  if (const json::Array *list = value->getAsArray()) {
    if (list->empty())
      return -1;
    first = &list->front();
  }
  std::optional<int64_t> id = asInteger(*first);
  if (!id || *id < 0) {
    invalid(key, "must be a token id or a list of them, got " + shown(*value));
    return -1;
  }
  return *id;
}

std::optional<std::vector<int64_t>> Config::intList(StringRef key) {
  const json::Value *value = lookup(key);
  if (!value)
    return std::nullopt;
  const json::Array *list = value->getAsArray();
  std::vector<int64_t> result;
  if (list) {
    for (const json::Value &element : *list) {
      std::optional<int64_t> integer = asInteger(element);
      if (!integer) {
        list = nullptr;
        break;
      }
      result.push_back(*integer);
    }
  }
  if (!list) {
    invalid(key, "must be a list of integers, got " + shown(*value));
    return std::nullopt;
  }
  return result;
}

std::optional<std::vector<double>>
Config::positiveNumberList(StringRef key) {
  const json::Value *value = lookup(key);
  if (!value)
    return std::nullopt;
  const json::Array *list = value->getAsArray();
  std::vector<double> result;
  if (list) {
    for (const json::Value &element : *list) {
      std::optional<double> number = element.getAsNumber();
      if (!number || !(*number > 0.0) || std::isinf(*number)) {
        list = nullptr;
        break;
      }
      result.push_back(*number);
    }
  }
  if (!list) {
    invalid(key, "must be a list of positive numbers, got " + shown(*value));
    return std::nullopt;
  }
  return result;
}

bool Config::isObject(StringRef key) const {
  const json::Value *value = lookup(key);
  return value && value->getAsObject();
}

std::optional<std::vector<std::string>> Config::stringList(StringRef key) {
  const json::Value *value = lookup(key);
  if (!value)
    return std::nullopt;
  const json::Array *list = value->getAsArray();
  std::vector<std::string> result;
  if (list) {
    for (const json::Value &element : *list) {
      std::optional<StringRef> text = element.getAsString();
      if (!text) {
        list = nullptr;
        break;
      }
      result.push_back(text->str());
    }
  }
  if (!list) {
    invalid(key, "must be a list of strings, got " + shown(*value));
    return std::nullopt;
  }
  return result;
}

void Config::rejectUnless(StringRef key, ArrayRef<StringRef> allowed,
                          const Twine &why) {
  const json::Value *value = lookup(key);
  if (!value)
    return;
  if (std::optional<StringRef> text = value->getAsString())
    if (llvm::is_contained(allowed, *text))
      return;
  // {"rope_type": "default"} and friends: an object whose type is allowed.
  if (const json::Object *object = value->getAsObject()) {
    for (StringRef typeKey : {"rope_type", "type"})
      if (std::optional<StringRef> type = object->getString(typeKey))
        if (llvm::is_contained(allowed, *type))
          return;
  }
  invalid(key, "= " + shown(*value) + " is not supported: " + why);
}

} // namespace fmc::import
