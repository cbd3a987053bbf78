//===- Json.h - JSON files with diagnostics that name the file ------------===//
//
// llvm::json parses config.json, safetensors headers, shard indexes and
// tokenizer.json. These helpers turn its "[3:4, byte=16]: ..." errors into
// "<file>: malformed JSON at line 3, column 4: ...", and find duplicate keys,
// which llvm::json silently resolves to the last one.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_IMPORT_READERS_JSON_H
#define FMC_IMPORT_READERS_JSON_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

#include <optional>
#include <string>

namespace fmc::import {

/// The deepest nesting of arrays and objects fmc reads; real configs,
/// safetensors headers and tokenizer.json files stay below 10.
constexpr int kMaxJsonDepth = 128;

/// Parses `text`; errors start with `file`. Rejects nesting deeper than
/// kMaxJsonDepth.
llvm::Expected<llvm::json::Value> parseJson(llvm::StringRef file,
                                            llvm::StringRef text);

/// Reads and parses the file at `path`; an object must not repeat a
/// top-level key.
llvm::Expected<llvm::json::Value> readJsonFile(llvm::StringRef path);

/// The first key that occurs twice in the outermost object of `text`, which
/// must be valid JSON whose outermost value is an object.
std::optional<std::string> findDuplicateTopLevelKey(llvm::StringRef text);

/// The JSON type of `value` in words ("a string", "an array"), for messages.
llvm::StringRef describeJsonKind(const llvm::json::Value &value);

} // namespace fmc::import

#endif // FMC_IMPORT_READERS_JSON_H
