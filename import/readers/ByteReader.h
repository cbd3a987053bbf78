//===- ByteReader.h - file access and bounds-checked parsing --------------===//
//
// What every reader shares: opening files (memory-mapped, or only a slice of
// them, so tensor data is never read), errors that start with the file's
// name, and a cursor over little-endian bytes whose every read is checked
// against the end of the buffer and names the field it was reading.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_IMPORT_READERS_BYTEREADER_H
#define FMC_IMPORT_READERS_BYTEREADER_H

#include "llvm/ADT/StringRef.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cstdint>
#include <memory>

namespace fmc::import {

/// "<file>: <message>": the one shape of every reader diagnostic.
llvm::Error fileError(llvm::StringRef file, const llvm::Twine &message);

/// The size of `path`, or an error naming it ("no such file or directory").
llvm::Expected<uint64_t> fileSize(llvm::StringRef path);

/// The whole file, memory-mapped where the OS allows: pages are read only when
/// touched, so mapping a multi-GB GGUF file to parse its metadata is cheap.
llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>>
mapFile(llvm::StringRef path);

/// `length` bytes of `path` starting at `offset` (the caller checked that they
/// lie inside the file).
llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>>
readFileSlice(llvm::StringRef path, uint64_t offset, uint64_t length);

/// The first min(4, size) bytes of `path`, to recognise its format.
llvm::Expected<std::string> readMagic(llvm::StringRef path);

/// Overflow-checked arithmetic for sizes computed from untrusted headers.
inline bool mulOverflows(uint64_t a, uint64_t b, uint64_t &result) {
  return __builtin_mul_overflow(a, b, &result);
}
inline bool addOverflows(uint64_t a, uint64_t b, uint64_t &result) {
  return __builtin_add_overflow(a, b, &result);
}

/// A cursor over little-endian bytes. Every read names the field it reads, so
/// a truncated file reports which field ran past the end and where.
class ByteReader {
public:
  ByteReader(llvm::StringRef file, llvm::StringRef bytes)
      : file(file), bytes(bytes) {}

  uint64_t offset() const { return pos; }
  uint64_t size() const { return bytes.size(); }
  uint64_t remaining() const { return bytes.size() - pos; }
  llvm::StringRef fileName() const { return file; }

  llvm::Expected<uint8_t> readU8(const llvm::Twine &field);
  llvm::Expected<uint16_t> readU16(const llvm::Twine &field);
  llvm::Expected<uint32_t> readU32(const llvm::Twine &field);
  llvm::Expected<uint64_t> readU64(const llvm::Twine &field);
  llvm::Expected<int32_t> readI32(const llvm::Twine &field);
  llvm::Expected<float> readF32(const llvm::Twine &field);
  llvm::Expected<double> readF64(const llvm::Twine &field);
  /// `length` raw bytes, referencing the underlying buffer.
  llvm::Expected<llvm::StringRef> readBytes(uint64_t length,
                                            const llvm::Twine &field);
  /// Moves to `offset` (at most the end of the buffer).
  llvm::Error seek(uint64_t offset, const llvm::Twine &field);

  /// "<file>: <message>".
  llvm::Error error(const llvm::Twine &message) const {
    return fileError(file, message);
  }

private:
  /// Checks that `length` more bytes exist; the error names `field`.
  llvm::Error need(uint64_t length, const llvm::Twine &field) const;

  llvm::StringRef file;
  llvm::StringRef bytes;
  uint64_t pos = 0;
};

} // namespace fmc::import

#endif // FMC_IMPORT_READERS_BYTEREADER_H
