//===- Json.cpp - JSON files with diagnostics that name the file ----------===//

#include "import/readers/Json.h"

#include "import/readers/ByteReader.h"

#include "llvm/ADT/StringSet.h"

#include <algorithm>

using namespace llvm;

namespace fmc::import {

/// Rewrites llvm::json's "[L:C, byte=B]: message" as "line L, column C:
/// message"; leaves other messages alone.
static std::string describeParseError(StringRef message) {
  if (!message.consume_front("["))
    return message.str();
  auto [position, rest] = message.split("]: ");
  auto [lineColumn, byte] = position.split(", byte=");
  auto [line, column] = lineColumn.split(':');
  unsigned lineNumber, columnNumber;
  if (rest.empty() || line.getAsInteger(10, lineNumber) ||
      column.getAsInteger(10, columnNumber))
    return ("[" + message).str();
  return ("line " + Twine(lineNumber) + ", column " + Twine(columnNumber) +
          ": " + rest)
      .str();
}

/// The deepest nesting of arrays and objects in `text` (outside strings),
/// stopping as soon as it exceeds `limit`.
static int nestingDepth(StringRef text, int limit) {
  int depth = 0, deepest = 0;
  for (size_t i = 0; i < text.size() && deepest <= limit; ++i) {
    char c = text[i];
    if (c == '"') {
      for (++i; i < text.size() && text[i] != '"';)
        i += text[i] == '\\' ? 2 : 1;
    } else if (c == '{' || c == '[') {
      deepest = std::max(deepest, ++depth);
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return deepest;
}

Expected<json::Value> parseJson(StringRef file, StringRef text) {
  // llvm::json parses (and destroys) values recursively: a file nested
  // tens of thousands deep would overflow the stack.
  if (nestingDepth(text, kMaxJsonDepth) > kMaxJsonDepth)
    return fileError(file, "JSON nested deeper than " + Twine(kMaxJsonDepth) +
                               " arrays or objects");
  Expected<json::Value> value = json::parse(text);
  if (!value)
    return fileError(file, "malformed JSON at " +
                               describeParseError(toString(value.takeError())));
  return value;
}

Expected<json::Value> readJsonFile(StringRef path) {
  Expected<std::unique_ptr<MemoryBuffer>> buffer = mapFile(path);
  if (!buffer)
    return buffer.takeError();
  StringRef text = (*buffer)->getBuffer();
  Expected<json::Value> value = parseJson(path, text);
  if (!value)
    return value.takeError();
  // llvm::json keeps the last of two equal keys; a config that says
  // "num_hidden_layers" twice is ambiguous, not the later one.
  if (value->getAsObject())
    if (std::optional<std::string> duplicate = findDuplicateTopLevelKey(text))
      return fileError(path, "duplicate key '" + *duplicate + "'");
  return value;
}

std::optional<std::string> findDuplicateTopLevelKey(StringRef text) {
  StringSet<> keys;
  int depth = 0;
  bool expectKey = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '"') {
      size_t end = i + 1;
      while (end < text.size() && text[end] != '"')
        end += text[end] == '\\' ? 2 : 1;
      if (end >= text.size())
        return std::nullopt;
      if (depth == 1 && expectKey) {
        expectKey = false;
        // Decode escapes so that "a" and "\u0061" count as the same key.
        Expected<json::Value> key = json::parse(text.slice(i, end + 1));
        if (!key) {
          consumeError(key.takeError());
          return std::nullopt;
        }
        std::string decoded = key->getAsString()->str();
        if (!keys.insert(decoded).second)
          return decoded;
      }
      i = end;
    } else if (c == '{' || c == '[') {
      ++depth;
      expectKey = depth == 1 && c == '{';
    } else if (c == '}' || c == ']') {
      --depth;
    } else if (c == ',' && depth == 1) {
      expectKey = true;
    }
  }
  return std::nullopt;
}

StringRef describeJsonKind(const json::Value &value) {
  switch (value.kind()) {
  case json::Value::Null:
    return "null";
  case json::Value::Boolean:
    return "a boolean";
  case json::Value::Number:
    return "a number";
  case json::Value::String:
    return "a string";
  case json::Value::Array:
    return "an array";
  case json::Value::Object:
    return "an object";
  }
  return "a value";
}

} // namespace fmc::import
