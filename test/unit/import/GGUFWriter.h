//===- GGUFWriter.h - builds GGUF files for the reader tests --------------===//
//
// Writes well-formed GGUF by default, and lets a test write any field wrong
// (a raw value of any type, an explicit tensor offset, a version, a magic).
//
//===----------------------------------------------------------------------===//

#ifndef FMC_TEST_UNIT_IMPORT_GGUFWRITER_H
#define FMC_TEST_UNIT_IMPORT_GGUFWRITER_H

#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

namespace fmc::import::test {

/// Little-endian encoding of a trivially copyable value.
template <typename T> std::string le(T value) {
  std::string bytes(sizeof(T), '\0');
  std::memcpy(bytes.data(), &value, sizeof(T)); // Test hosts are LE.
  return bytes;
}

/// A GGUF string: u64 length, bytes.
inline std::string ggufString(llvm::StringRef s) {
  return le<uint64_t>(s.size()) + s.str();
}

class GGUFWriter {
public:
  std::string magic = "GGUF";
  uint32_t version = 3;
  uint64_t alignment = 32; ///< For laying out tensors; write the metadata
                           ///< key yourself to change the file's.

  /// A metadata entry with an already encoded value of GGUF type `type`.
  GGUFWriter &raw(llvm::StringRef key, uint32_t type, std::string value) {
    metadata += ggufString(key) + le<uint32_t>(type) + value;
    ++metadataCount;
    return *this;
  }
  GGUFWriter &u32(llvm::StringRef key, uint32_t v) { return raw(key, 4, le(v)); }
  GGUFWriter &i32(llvm::StringRef key, int32_t v) { return raw(key, 5, le(v)); }
  GGUFWriter &f32(llvm::StringRef key, float v) { return raw(key, 6, le(v)); }
  GGUFWriter &boolean(llvm::StringRef key, bool v) {
    return raw(key, 7, std::string(1, v ? 1 : 0));
  }
  GGUFWriter &str(llvm::StringRef key, llvm::StringRef v) {
    return raw(key, 8, ggufString(v));
  }
  GGUFWriter &strings(llvm::StringRef key,
                      const std::vector<std::string> &values) {
    std::string value = le<uint32_t>(8) + le<uint64_t>(values.size());
    for (const std::string &v : values)
      value += ggufString(v);
    return raw(key, 9, value);
  }
  template <typename T>
  GGUFWriter &array(llvm::StringRef key, uint32_t elementType,
                    const std::vector<T> &values) {
    std::string value = le<uint32_t>(elementType) + le<uint64_t>(values.size());
    for (const T &v : values)
      value += le(v);
    return raw(key, 9, value);
  }

  /// A tensor with `dims` innermost first and `bytes` bytes of data (filled
  /// with a pattern), placed after the previous one at the alignment, or at
  /// `offset` (relative to the data section) with no data written.
  GGUFWriter &tensor(llvm::StringRef name, std::vector<uint64_t> dims,
                     uint32_t ggmlType, uint64_t bytes,
                     std::optional<uint64_t> offset = std::nullopt) {
    uint64_t at = offset ? *offset : (data.size() + alignment - 1) /
                                         alignment * alignment;
    if (!offset) {
      data.resize(at, '\0');
      for (uint64_t i = 0; i < bytes; ++i)
        data.push_back(static_cast<char>((at + i) % 253));
    }
    infos += ggufString(name) + le<uint32_t>(dims.size());
    for (uint64_t d : dims)
      infos += le(d);
    infos += le(ggmlType) + le(at);
    ++tensorCount;
    return *this;
  }

  /// The file; `dataStart` receives the absolute offset of the data.
  std::string build(uint64_t *dataStart = nullptr) const {
    std::string file = magic + le(version) + le(tensorCount) +
                       le(metadataCount) + metadata + infos;
    file.resize((file.size() + alignment - 1) / alignment * alignment, '\0');
    if (dataStart)
      *dataStart = file.size();
    return file + data;
  }

private:
  uint64_t tensorCount = 0, metadataCount = 0;
  std::string metadata, infos, data;
};

/// The metadata of a tiny llama (dim 32, 1 layer, 2 heads, 64 tokens...).
inline GGUFWriter &tinyLlama(GGUFWriter &w) {
  return w.str("general.architecture", "llama")
      .u32("llama.embedding_length", 32)
      .u32("llama.feed_forward_length", 64)
      .u32("llama.block_count", 1)
      .u32("llama.attention.head_count", 2)
      .u32("llama.context_length", 16)
      .f32("llama.attention.layer_norm_rms_epsilon", 1e-6f);
}

} // namespace fmc::import::test

#endif // FMC_TEST_UNIT_IMPORT_GGUFWRITER_H
