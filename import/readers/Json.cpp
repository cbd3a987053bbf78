//===- Json.cpp - JSON files with diagnostics that name the file ----------===//

#include "import/readers/Json.h"

#include "import/readers/ByteReader.h"

#include "llvm/ADT/StringSet.h"

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

Expected<json::Value> parseJson(StringRef file, StringRef text) {
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
  return parseJson(path, (*buffer)->getBuffer());
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
