//===- GGUFFile.h - the GGUF container: metadata and tensor infos ---------===//
//
// GGUF (llama.cpp's format, versions 2 and 3): "GGUF", u32 version, u64
// tensor count, u64 metadata count; metadata as (string key, u32 type, value)
// with strings as u64 length + bytes and arrays as (u32 element type, u64
// count, elements); tensor infos as (name, u32 n_dims, u64 dims innermost
// first, u32 ggml type, u64 offset); then the tensor data, aligned to
// general.alignment (default 32), with offsets relative to its start.
//
// This layer parses the container only; GGUF.cpp maps the llama architecture
// onto Hugging Face names, VocabularyGGUF.cpp reads tokenizer.ggml.*.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_IMPORT_READERS_GGUFFILE_H
#define FMC_IMPORT_READERS_GGUFFILE_H

#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

namespace fmc::import {

enum class GGUFType : uint32_t {
  U8 = 0,
  I8 = 1,
  U16 = 2,
  I16 = 3,
  U32 = 4,
  I32 = 5,
  F32 = 6,
  Bool = 7,
  String = 8,
  Array = 9,
  U64 = 10,
  I64 = 11,
  F64 = 12,
};

/// "u32", "string", "array", ... for messages.
llvm::StringRef ggufTypeName(GGUFType type);

/// One metadata value. Strings reference the parsed bytes, which must outlive
/// the value.
struct GGUFValue {
  GGUFType type = GGUFType::U8;
  uint64_t unsignedValue = 0; ///< U8..U64 and Bool.
  int64_t signedValue = 0;    ///< I8..I64.
  double floatValue = 0;      ///< F32, F64.
  llvm::StringRef string;     ///< String.
  GGUFType elementType = GGUFType::U8; ///< Array.
  std::vector<GGUFValue> elements;     ///< Array.

  /// The value of an integer of any width and signedness, if it fits int64.
  std::optional<int64_t> getInteger() const;
  /// The value of an F32/F64, or of an integer.
  std::optional<double> getNumber() const;
  std::optional<bool> getBool() const;
  std::optional<llvm::StringRef> getString() const;
  /// The elements, when this is an array of `element` (any type when null).
  const std::vector<GGUFValue> *
  getArray(std::optional<GGUFType> element = std::nullopt) const;
};

struct GGUFTensorInfo {
  llvm::StringRef name;
  std::vector<uint64_t> dims; ///< Innermost first, as stored.
  uint32_t ggmlType;
  uint64_t offset; ///< Relative to dataStart.
};

struct GGUFFile {
  std::string file;
  uint32_t version;
  uint64_t alignment;
  llvm::StringMap<GGUFValue> metadata;
  std::vector<GGUFTensorInfo> tensors;
  /// Absolute offset of the tensor data; at most the file size.
  uint64_t dataStart;
  uint64_t fileSize;
  /// The mapped file that the StringRefs above point into (null when the
  /// caller owns the bytes).
  std::unique_ptr<llvm::MemoryBuffer> buffer;

  const GGUFValue *find(llvm::StringRef key) const;
};

/// Parses the GGUF file `file` whose bytes are `bytes`; the result references
/// them. Checks the structure (magic, version, counts, lengths, alignment,
/// duplicate keys and tensor names) but not the tensors' types and sizes,
/// which readGGUF checks for the types it supports.
llvm::Expected<GGUFFile> parseGGUFFile(llvm::StringRef file,
                                       llvm::StringRef bytes);

/// As above, when `bytes` are the first bytes of a file of `fileSize` bytes
/// (at least bytes.size()): metadata must lie inside `bytes`, tensors inside
/// `fileSize`. Lets a fuzzer stand for large files with small inputs.
llvm::Expected<GGUFFile> parseGGUFFile(llvm::StringRef file,
                                       llvm::StringRef bytes,
                                       uint64_t fileSize);

/// Maps the file at `path` and parses it; the result owns the mapping.
llvm::Expected<GGUFFile> readGGUFFile(llvm::StringRef path);

} // namespace fmc::import

#endif // FMC_IMPORT_READERS_GGUFFILE_H
