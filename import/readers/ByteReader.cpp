//===- ByteReader.cpp - file access and bounds-checked parsing ------------===//

#include "import/readers/ByteReader.h"

#include "llvm/Support/Endian.h"
#include "llvm/Support/FileSystem.h"

#include <cstring>

using namespace llvm;

namespace fmc::import {

Error fileError(StringRef file, const Twine &message) {
  return createStringError(inconvertibleErrorCode(), file + ": " + message);
}

/// Model files are regular files: a FIFO blocks a reader forever and a
/// device such as /dev/zero reads without end.
static Error requireRegularFile(StringRef path) {
  sys::fs::file_status status;
  if (std::error_code ec = sys::fs::status(path, status))
    return fileError(path, ec.message());
  if (sys::fs::is_directory(status))
    return fileError(path, "is a directory, expected a file");
  if (!sys::fs::is_regular_file(status))
    return fileError(path, "is not a regular file");
  return Error::success();
}

Expected<uint64_t> fileSize(StringRef path) {
  if (Error error = requireRegularFile(path))
    return std::move(error);
  sys::fs::file_status status;
  if (std::error_code ec = sys::fs::status(path, status))
    return fileError(path, ec.message());
  return status.getSize();
}

Expected<std::unique_ptr<MemoryBuffer>> mapFile(StringRef path) {
  if (Error error = requireRegularFile(path))
    return std::move(error);
  ErrorOr<std::unique_ptr<MemoryBuffer>> buffer = MemoryBuffer::getFile(
      path, /*IsText=*/false, /*RequiresNullTerminator=*/false);
  if (!buffer)
    return fileError(path, buffer.getError().message());
  return std::move(*buffer);
}

Expected<std::unique_ptr<MemoryBuffer>>
readFileSlice(StringRef path, uint64_t offset, uint64_t length) {
  if (Error error = requireRegularFile(path))
    return std::move(error);
  ErrorOr<std::unique_ptr<MemoryBuffer>> buffer =
      MemoryBuffer::getFileSlice(path, length, offset);
  if (!buffer)
    return fileError(path, buffer.getError().message());
  return std::move(*buffer);
}

Expected<std::string> readMagic(StringRef path) {
  Expected<uint64_t> size = fileSize(path);
  if (!size)
    return size.takeError();
  if (*size == 0)
    return std::string();
  Expected<std::unique_ptr<MemoryBuffer>> head =
      readFileSlice(path, 0, std::min<uint64_t>(*size, 4));
  if (!head)
    return head.takeError();
  return (*head)->getBuffer().str();
}

Error ByteReader::need(uint64_t length, const Twine &field) const {
  if (length <= remaining())
    return Error::success();
  return error("truncated: " + field + " needs " + Twine(length) +
               " bytes at offset " + Twine(pos) + ", but the file ends at " +
               Twine(bytes.size()));
}

Expected<uint8_t> ByteReader::readU8(const Twine &field) {
  if (Error e = need(1, field))
    return std::move(e);
  return static_cast<uint8_t>(bytes[pos++]);
}

Expected<uint16_t> ByteReader::readU16(const Twine &field) {
  if (Error e = need(2, field))
    return std::move(e);
  uint16_t value = support::endian::read16le(bytes.data() + pos);
  pos += 2;
  return value;
}

Expected<uint32_t> ByteReader::readU32(const Twine &field) {
  if (Error e = need(4, field))
    return std::move(e);
  uint32_t value = support::endian::read32le(bytes.data() + pos);
  pos += 4;
  return value;
}

Expected<uint64_t> ByteReader::readU64(const Twine &field) {
  if (Error e = need(8, field))
    return std::move(e);
  uint64_t value = support::endian::read64le(bytes.data() + pos);
  pos += 8;
  return value;
}

Expected<int32_t> ByteReader::readI32(const Twine &field) {
  Expected<uint32_t> value = readU32(field);
  if (!value)
    return value.takeError();
  return static_cast<int32_t>(*value);
}

Expected<float> ByteReader::readF32(const Twine &field) {
  Expected<uint32_t> bits = readU32(field);
  if (!bits)
    return bits.takeError();
  float value;
  std::memcpy(&value, &*bits, sizeof(value));
  return value;
}

Expected<double> ByteReader::readF64(const Twine &field) {
  Expected<uint64_t> bits = readU64(field);
  if (!bits)
    return bits.takeError();
  double value;
  std::memcpy(&value, &*bits, sizeof(value));
  return value;
}

Expected<StringRef> ByteReader::readBytes(uint64_t length, const Twine &field) {
  if (Error e = need(length, field))
    return std::move(e);
  StringRef value = bytes.substr(pos, length);
  pos += length;
  return value;
}

Error ByteReader::seek(uint64_t offset, const Twine &field) {
  if (offset > bytes.size())
    return error("truncated: " + field + " starts at offset " + Twine(offset) +
                 ", but the file ends at " + Twine(bytes.size()));
  pos = offset;
  return Error::success();
}

} // namespace fmc::import
