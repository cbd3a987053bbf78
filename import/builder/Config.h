//===- Config.h - typed access to a model's config fields -----------------===//
//
// The Hugging Face-style config of a ModelSource, read field by field with
// precise diagnostics: a field that is missing, null when required, of the
// wrong JSON kind or out of range is reported as
//   <dir>/config.json: config field 'hidden_size' must be a positive integer,
//   got "64"
// Getters never fail: after reporting they return a harmless value, so an
// architecture's description reads as straight-line code and the caller
// checks failed() once (see FirstError.h).
//
//===----------------------------------------------------------------------===//

#ifndef FMC_IMPORT_BUILDER_CONFIG_H
#define FMC_IMPORT_BUILDER_CONFIG_H

#include "import/ModelSource.h"
#include "import/builder/FirstError.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/JSON.h"

#include <optional>
#include <string>
#include <vector>

namespace fmc::import {

class Config {
public:
  Config(const ModelSource &source, FirstError &errors);

  /// A count of repeated structures (layers, experts, tracks): a positive
  /// integer no larger than the number of tensors the model has, since each
  /// repetition has tensors of its own. Keeps a corrupt config from making
  /// the builder describe a billion layers before noticing they are absent.
  int64_t count(llvm::StringRef key);

  /// The file the config came from: <dir>/config.json for a Hugging Face
  /// directory, else the model file whose header or metadata it translates.
  llvm::StringRef file() const { return path; }
  /// The config's model_type ("" when absent).
  llvm::StringRef modelType() const;

  /// Keys may be dotted paths into nested objects
  /// ("rope_parameters.rope_theta"); diagnostics name the whole path.
  bool has(llvm::StringRef key) const; ///< Present and not null.

  /// Required fields.
  int64_t positiveInt(llvm::StringRef key);
  double positiveNumber(llvm::StringRef key);
  std::string string(llvm::StringRef key);

  /// Optional fields: absent or null gives the fallback (or nullopt).
  int64_t positiveInt(llvm::StringRef key, int64_t fallback);
  int64_t nonNegativeInt(llvm::StringRef key, int64_t fallback);
  std::optional<int64_t> optionalPositiveInt(llvm::StringRef key);
  double positiveNumber(llvm::StringRef key, double fallback);
  std::optional<double> optionalPositiveNumber(llvm::StringRef key);
  bool boolean(llvm::StringRef key, bool fallback);
  /// A flag some configs write as a number (Llama 4's
  /// attn_temperature_tuning): non-zero numbers are true.
  bool truthy(llvm::StringRef key, bool fallback);
  std::string string(llvm::StringRef key, llvm::StringRef fallback);
  /// A token id, or a list of them (the first is used); -1 when absent.
  int64_t tokenId(llvm::StringRef key);
  /// Lists; absent or null gives nullopt.
  std::optional<std::vector<int64_t>> intList(llvm::StringRef key);
  std::optional<std::vector<std::string>> stringList(llvm::StringRef key);
  /// A list of positive finite numbers (llama.cpp's RoPE frequency factors).
  std::optional<std::vector<double>> positiveNumberList(llvm::StringRef key);
  /// Present and a JSON object (rope_scaling, rope_parameters).
  bool isObject(llvm::StringRef key) const;

  /// Reports a problem with `key`: "<file>: config field '<key>' <message>".
  void invalid(llvm::StringRef key, const llvm::Twine &message);
  /// Reports a problem that involves several fields.
  void fail(const llvm::Twine &message);
  /// Rejects a field the builder cannot honour when it is set to anything but
  /// null (or one of `allowed` string values): "... is not supported: <why>".
  void rejectUnless(llvm::StringRef key,
                    llvm::ArrayRef<llvm::StringRef> allowed,
                    const llvm::Twine &why);

  /// "hidden_size = 64" for diagnostics.
  std::string describe(llvm::StringRef key) const;

  bool failed() const { return errors.failed(); }

private:
  const llvm::json::Value *lookup(llvm::StringRef key) const;
  const llvm::json::Value *require(llvm::StringRef key);

  const llvm::json::Object &config;
  std::string path;
  size_t tensorCount;
  FirstError &errors;
};

} // namespace fmc::import

#endif // FMC_IMPORT_BUILDER_CONFIG_H
