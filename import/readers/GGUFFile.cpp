//===- GGUFFile.cpp - the GGUF container: metadata and tensor infos -------===//

#include "import/readers/GGUFFile.h"

#include "import/readers/ByteReader.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/MathExtras.h"

using namespace llvm;

namespace fmc::import {

/// Arrays of arrays are legal GGUF but unused in practice; a bound on their
/// depth keeps a hostile file from exhausting the stack.
static constexpr unsigned kMaxArrayDepth = 4;

/// GGML's maximum tensor rank.
static constexpr uint32_t kMaxDims = 4;

static constexpr uint64_t kDefaultAlignment = 32;

StringRef ggufTypeName(GGUFType type) {
  switch (type) {
  case GGUFType::U8:
    return "u8";
  case GGUFType::I8:
    return "i8";
  case GGUFType::U16:
    return "u16";
  case GGUFType::I16:
    return "i16";
  case GGUFType::U32:
    return "u32";
  case GGUFType::I32:
    return "i32";
  case GGUFType::F32:
    return "f32";
  case GGUFType::Bool:
    return "bool";
  case GGUFType::String:
    return "string";
  case GGUFType::Array:
    return "array";
  case GGUFType::U64:
    return "u64";
  case GGUFType::I64:
    return "i64";
  case GGUFType::F64:
    return "f64";
  }
  return "?";
}

static bool isKnownType(uint32_t type) { return type <= 12; }

/// The fewest bytes a value of `type` occupies, to bound array counts by the
/// bytes left before allocating anything.
static uint64_t minEncodedSize(GGUFType type) {
  switch (type) {
  case GGUFType::U8:
  case GGUFType::I8:
  case GGUFType::Bool:
    return 1;
  case GGUFType::U16:
  case GGUFType::I16:
    return 2;
  case GGUFType::U32:
  case GGUFType::I32:
  case GGUFType::F32:
    return 4;
  case GGUFType::U64:
  case GGUFType::I64:
  case GGUFType::F64:
  case GGUFType::String:
    return 8;
  case GGUFType::Array:
    return 4 + 8;
  }
  return 1;
}

std::optional<int64_t> GGUFValue::getInteger() const {
  switch (type) {
  case GGUFType::U8:
  case GGUFType::U16:
  case GGUFType::U32:
  case GGUFType::U64:
    if (unsignedValue > static_cast<uint64_t>(INT64_MAX))
      return std::nullopt;
    return static_cast<int64_t>(unsignedValue);
  case GGUFType::I8:
  case GGUFType::I16:
  case GGUFType::I32:
  case GGUFType::I64:
    return signedValue;
  default:
    return std::nullopt;
  }
}

std::optional<double> GGUFValue::getNumber() const {
  if (type == GGUFType::F32 || type == GGUFType::F64)
    return floatValue;
  if (std::optional<int64_t> integer = getInteger())
    return static_cast<double>(*integer);
  return std::nullopt;
}

std::optional<bool> GGUFValue::getBool() const {
  if (type != GGUFType::Bool)
    return std::nullopt;
  return unsignedValue != 0;
}

std::optional<StringRef> GGUFValue::getString() const {
  if (type != GGUFType::String)
    return std::nullopt;
  return string;
}

const std::vector<GGUFValue> *
GGUFValue::getArray(std::optional<GGUFType> element) const {
  if (type != GGUFType::Array || (element && elementType != *element))
    return nullptr;
  return &elements;
}

const GGUFValue *GGUFFile::find(StringRef key) const {
  auto it = metadata.find(key);
  return it == metadata.end() ? nullptr : &it->second;
}

/// A u64-length-prefixed string.
static Expected<StringRef> parseString(ByteReader &reader, const Twine &field) {
  Expected<uint64_t> length = reader.readU64(field + " length");
  if (!length)
    return length.takeError();
  return reader.readBytes(*length, field);
}

static Expected<GGUFValue> parseValue(ByteReader &reader, GGUFType type,
                                      const Twine &field, unsigned depth) {
  GGUFValue value;
  value.type = type;
  auto withUnsigned = [&](auto expected) -> Expected<GGUFValue> {
    if (!expected)
      return expected.takeError();
    value.unsignedValue = *expected;
    return std::move(value);
  };
  // Sign-extends from the stored width.
  auto withSigned = [&](auto expected, auto narrow) -> Expected<GGUFValue> {
    if (!expected)
      return expected.takeError();
    value.signedValue = static_cast<decltype(narrow)>(*expected);
    return std::move(value);
  };
  auto withFloat = [&](auto expected) -> Expected<GGUFValue> {
    if (!expected)
      return expected.takeError();
    value.floatValue = *expected;
    return std::move(value);
  };
  switch (type) {
  case GGUFType::U8:
    return withUnsigned(reader.readU8(field));
  case GGUFType::U16:
    return withUnsigned(reader.readU16(field));
  case GGUFType::U32:
    return withUnsigned(reader.readU32(field));
  case GGUFType::U64:
    return withUnsigned(reader.readU64(field));
  case GGUFType::I8:
    return withSigned(reader.readU8(field), int8_t());
  case GGUFType::I16:
    return withSigned(reader.readU16(field), int16_t());
  case GGUFType::I32:
    return withSigned(reader.readU32(field), int32_t());
  case GGUFType::I64:
    return withSigned(reader.readU64(field), int64_t());
  case GGUFType::F32:
    return withFloat(reader.readF32(field));
  case GGUFType::F64:
    return withFloat(reader.readF64(field));
  case GGUFType::Bool: {
    Expected<uint8_t> byte = reader.readU8(field);
    if (!byte)
      return byte.takeError();
    if (*byte > 1)
      return reader.error(field + ": bool value " + Twine(unsigned(*byte)) +
                          " is neither 0 nor 1");
    value.unsignedValue = *byte;
    return std::move(value);
  }
  case GGUFType::String: {
    Expected<StringRef> string = parseString(reader, field);
    if (!string)
      return string.takeError();
    value.string = *string;
    return std::move(value);
  }
  case GGUFType::Array: {
    if (depth >= kMaxArrayDepth)
      return reader.error(field + ": arrays nested deeper than " +
                          Twine(kMaxArrayDepth));
    Expected<uint32_t> elementType = reader.readU32(field + " element type");
    if (!elementType)
      return elementType.takeError();
    if (!isKnownType(*elementType))
      return reader.error(field + ": unknown array element type " +
                          Twine(*elementType));
    value.elementType = static_cast<GGUFType>(*elementType);
    Expected<uint64_t> count = reader.readU64(field + " element count");
    if (!count)
      return count.takeError();
    if (*count > reader.remaining() / minEncodedSize(value.elementType))
      return reader.error("truncated: " + field + ": " + Twine(*count) + " " +
                          ggufTypeName(value.elementType) +
                          " elements do not fit in the " +
                          Twine(reader.remaining()) + " bytes left");
    value.elements.reserve(*count);
    for (uint64_t i = 0; i < *count; ++i) {
      Expected<GGUFValue> element = parseValue(
          reader, value.elementType, field + "[" + Twine(i) + "]", depth + 1);
      if (!element)
        return element.takeError();
      value.elements.push_back(std::move(*element));
    }
    return std::move(value);
  }
  }
  return reader.error(field + ": unknown value type " +
                      Twine(static_cast<uint32_t>(type)));
}

/// Printable text of untrusted bytes, for messages.
static std::string printable(StringRef bytes) {
  std::string text;
  for (char c : bytes) {
    if (c >= 0x20 && c < 0x7f) {
      text += c;
    } else {
      text += "\\x";
      text += hexdigit((c >> 4) & 0xf, /*LowerCase=*/true);
      text += hexdigit(c & 0xf, /*LowerCase=*/true);
    }
  }
  return text;
}

Expected<GGUFFile> parseGGUFFile(StringRef file, StringRef bytes) {
  return parseGGUFFile(file, bytes, bytes.size());
}

Expected<GGUFFile> parseGGUFFile(StringRef file, StringRef bytes,
                                 uint64_t fileSize) {
  ByteReader reader(file, bytes);
  GGUFFile gguf;
  gguf.file = file.str();
  gguf.fileSize = std::max<uint64_t>(fileSize, bytes.size());

  Expected<StringRef> magic = reader.readBytes(4, "the magic");
  if (!magic)
    return magic.takeError();
  if (*magic != "GGUF")
    return reader.error("not a GGUF file: magic '" + printable(*magic) +
                        "', expected 'GGUF'");
  Expected<uint32_t> version = reader.readU32("the version");
  if (!version)
    return version.takeError();
  if (*version != 2 && *version != 3)
    return reader.error("GGUF version " + Twine(*version) +
                        " is not supported (fmc reads versions 2 and 3)");
  gguf.version = *version;
  Expected<uint64_t> tensorCount = reader.readU64("the tensor count");
  if (!tensorCount)
    return tensorCount.takeError();
  Expected<uint64_t> metadataCount = reader.readU64("the metadata count");
  if (!metadataCount)
    return metadataCount.takeError();

  // Each entry takes at least 8 (key length) + 4 (type) + 1 bytes; each
  // tensor info 8 (name length) + 4 (n_dims) + 4 (type) + 8 (offset).
  if (*metadataCount > reader.remaining() / 13)
    return reader.error("truncated: " + Twine(*metadataCount) +
                        " metadata entries do not fit in the " +
                        Twine(reader.remaining()) + " bytes left");
  for (uint64_t i = 0; i < *metadataCount; ++i) {
    Expected<StringRef> key =
        parseString(reader, "metadata entry " + Twine(i) + " key");
    if (!key)
      return key.takeError();
    std::string field = "metadata '" + printable(*key) + "'";
    Expected<uint32_t> type = reader.readU32(field + " type");
    if (!type)
      return type.takeError();
    if (!isKnownType(*type))
      return reader.error(field + ": unknown value type " + Twine(*type));
    Expected<GGUFValue> value =
        parseValue(reader, static_cast<GGUFType>(*type), field, 0);
    if (!value)
      return value.takeError();
    if (!gguf.metadata.try_emplace(*key, std::move(*value)).second)
      return reader.error("duplicate " + field);
  }

  gguf.alignment = kDefaultAlignment;
  if (const GGUFValue *alignment = gguf.find("general.alignment")) {
    std::optional<int64_t> value = alignment->getInteger();
    if (!value || *value <= 0 || !isPowerOf2_64(*value))
      return reader.error("metadata 'general.alignment' must be a power of "
                          "two, not " +
                          (value ? Twine(*value)
                                 : Twine("a ") + ggufTypeName(alignment->type)));
    gguf.alignment = *value;
  }

  if (*tensorCount > reader.remaining() / 24)
    return reader.error("truncated: " + Twine(*tensorCount) +
                        " tensor infos do not fit in the " +
                        Twine(reader.remaining()) + " bytes left");
  StringSet<> names;
  for (uint64_t i = 0; i < *tensorCount; ++i) {
    Expected<StringRef> name =
        parseString(reader, "tensor info " + Twine(i) + " name");
    if (!name)
      return name.takeError();
    std::string field = "tensor '" + printable(*name) + "'";
    if (!names.insert(*name).second)
      return reader.error("duplicate " + field);
    GGUFTensorInfo info;
    info.name = *name;
    Expected<uint32_t> rank = reader.readU32(field + " n_dims");
    if (!rank)
      return rank.takeError();
    if (*rank > kMaxDims)
      return reader.error(field + ": n_dims " + Twine(*rank) +
                          " exceeds GGML's " + Twine(kMaxDims));
    for (uint32_t d = 0; d < *rank; ++d) {
      Expected<uint64_t> dim =
          reader.readU64(field + " dimension " + Twine(d));
      if (!dim)
        return dim.takeError();
      if (*dim > static_cast<uint64_t>(INT64_MAX))
        return reader.error(field + ": dimension " + Twine(d) + " is " +
                            Twine(*dim) + ", more than 2^63 - 1");
      info.dims.push_back(*dim);
    }
    Expected<uint32_t> type = reader.readU32(field + " type");
    if (!type)
      return type.takeError();
    info.ggmlType = *type;
    Expected<uint64_t> offset = reader.readU64(field + " offset");
    if (!offset)
      return offset.takeError();
    if (*offset % gguf.alignment != 0)
      return reader.error(field + ": offset " + Twine(*offset) +
                          " is not a multiple of the alignment " +
                          Twine(gguf.alignment));
    info.offset = *offset;
    gguf.tensors.push_back(std::move(info));
  }

  uint64_t infosEnd = reader.offset();
  gguf.dataStart = alignTo(infosEnd, gguf.alignment);
  if (gguf.dataStart > gguf.fileSize || gguf.dataStart < infosEnd) {
    if (!gguf.tensors.empty())
      return reader.error("truncated: the tensor data starts at offset " +
                          Twine(gguf.dataStart) + ", but the file ends at " +
                          Twine(gguf.fileSize));
    gguf.dataStart = gguf.fileSize;
  }
  return gguf;
}

Expected<GGUFFile> readGGUFFile(StringRef path) {
  Expected<std::unique_ptr<MemoryBuffer>> buffer = mapFile(path);
  if (!buffer)
    return buffer.takeError();
  Expected<GGUFFile> gguf = parseGGUFFile(path, (*buffer)->getBuffer());
  if (!gguf)
    return gguf.takeError();
  gguf->buffer = std::move(*buffer);
  return gguf;
}

} // namespace fmc::import
