//===- SafeTensors.cpp - the header of a .safetensors file ----------------===//

#include "import/readers/SafeTensors.h"

#include "import/readers/ByteReader.h"
#include "import/readers/Json.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/Endian.h"

using namespace llvm;

namespace fmc::import {

namespace {
/// A validated header entry, before offsets are made absolute.
struct Entry {
  TensorRef tensor;
  uint64_t begin, end;
};
} // namespace

static std::string formatShape(ArrayRef<int64_t> shape) {
  std::string text = "[";
  for (auto [i, dim] : llvm::enumerate(shape))
    text += (i ? ", " : "") + std::to_string(dim);
  return text + "]";
}

/// Validates one header entry; `dataSize` is the number of bytes after the
/// header.
static Expected<Entry> parseEntry(StringRef file, StringRef name,
                                  const json::Value &value, uint64_t dataSize) {
  auto fail = [&](const Twine &message) {
    return fileError(file, "tensor '" + name + "': " + message);
  };
  const json::Object *object = value.getAsObject();
  if (!object)
    return fail("entry is " + describeJsonKind(value) + ", expected an object");

  Entry entry;
  entry.tensor.name = name.str();
  entry.tensor.file = file.str();

  std::optional<StringRef> dtype = object->getString("dtype");
  if (!dtype)
    return fail("missing string 'dtype'");
  std::optional<DType> parsed = StringSwitch<std::optional<DType>>(*dtype)
                                    .Case("F32", DType::F32)
                                    .Case("F16", DType::F16)
                                    .Case("BF16", DType::BF16)
                                    .Default(std::nullopt);
  if (!parsed)
    return fail("unsupported dtype '" + *dtype +
                "' (fmc reads F32, F16 and BF16)");
  entry.tensor.dtype = *parsed;

  const json::Array *shape = object->getArray("shape");
  if (!shape)
    return fail("missing array 'shape'");
  for (const json::Value &dim : *shape) {
    std::optional<int64_t> size = dim.getAsInteger();
    if (!size || *size < 0)
      return fail("shape has an entry that is not a non-negative integer");
    entry.tensor.shape.push_back(*size);
  }

  const json::Array *offsets = object->getArray("data_offsets");
  if (!offsets || offsets->size() != 2 || !(*offsets)[0].getAsUINT64() ||
      !(*offsets)[1].getAsUINT64())
    return fail("'data_offsets' must be an array of two non-negative integers");
  entry.begin = *(*offsets)[0].getAsUINT64();
  entry.end = *(*offsets)[1].getAsUINT64();
  std::string range =
      "data_offsets [" + std::to_string(entry.begin) + ", " +
      std::to_string(entry.end) + "]";
  if (entry.begin > entry.end)
    return fail(range + " end before they begin");
  if (entry.end > dataSize)
    return fail(range + " exceed the " + Twine(dataSize) + " bytes of data");

  std::optional<uint64_t> expected =
      storageBytes(entry.tensor.dtype, entry.tensor.shape);
  if (!expected)
    return fail("shape " + formatShape(entry.tensor.shape) +
                " has more elements than fit in 64 bits");
  if (*expected != entry.end - entry.begin)
    return fail(range + " hold " + Twine(entry.end - entry.begin) +
                " bytes, but shape " + formatShape(entry.tensor.shape) +
                " of " + *dtype + " needs " + Twine(*expected));
  entry.tensor.bytes = *expected;
  return entry;
}

Expected<std::vector<TensorRef>>
parseSafeTensors(StringRef file, StringRef prefix, uint64_t fileSize) {
  if (fileSize < 8)
    return fileError(file, "truncated: the 8-byte header length needs 8 bytes, "
                           "but the file has " +
                               Twine(fileSize));
  ByteReader reader(file, prefix);
  Expected<uint64_t> headerSize = reader.readU64("the header length");
  if (!headerSize)
    return headerSize.takeError();
  if (*headerSize > fileSize - 8)
    return reader.error("header length " + Twine(*headerSize) +
                        " exceeds the " + Twine(fileSize - 8) +
                        " bytes after the length field");
  Expected<StringRef> headerText =
      reader.readBytes(*headerSize, "the JSON header");
  if (!headerText)
    return headerText.takeError();

  Expected<json::Value> header = parseJson(file, *headerText);
  if (!header)
    return header.takeError();
  const json::Object *entries = header->getAsObject();
  if (!entries)
    return fileError(file, "header is " + describeJsonKind(*header) +
                               ", expected an object");
  if (std::optional<std::string> duplicate =
          findDuplicateTopLevelKey(*headerText))
    return fileError(file, "duplicate tensor '" + *duplicate + "'");

  uint64_t dataStart = 8 + *headerSize;
  uint64_t dataSize = fileSize - dataStart;
  std::vector<Entry> parsed;
  for (const auto &[key, value] : *entries) {
    if (key == "__metadata__")
      continue;
    Expected<Entry> entry = parseEntry(file, key, value, dataSize);
    if (!entry)
      return entry.takeError();
    parsed.push_back(std::move(*entry));
  }

  // File order (json::Object is a hash map); overlapping tensors mean a
  // corrupt header, as the format forbids them.
  llvm::sort(parsed, [](const Entry &a, const Entry &b) {
    return std::tie(a.begin, a.end, a.tensor.name) <
           std::tie(b.begin, b.end, b.tensor.name);
  });
  std::vector<TensorRef> tensors;
  const Entry *furthest = nullptr; // The entry that ends last so far.
  for (Entry &entry : parsed) {
    if (furthest && entry.begin < furthest->end && entry.end > entry.begin)
      return fileError(file, "tensors '" + furthest->tensor.name + "' and '" +
                                 entry.tensor.name + "' overlap in the data");
    if (!furthest || entry.end > furthest->end)
      furthest = &entry;
    entry.tensor.offset = dataStart + entry.begin;
    tensors.push_back(entry.tensor); // A copy: `furthest` may point here.
  }
  return tensors;
}

Expected<std::vector<TensorRef>> readSafeTensors(StringRef path) {
  Expected<uint64_t> size = fileSize(path);
  if (!size)
    return size.takeError();
  // Read the length field, then exactly the header: never the tensor data.
  uint64_t prefixSize = std::min<uint64_t>(*size, 8);
  Expected<std::unique_ptr<MemoryBuffer>> prefix =
      readFileSlice(path, 0, prefixSize);
  if (!prefix)
    return prefix.takeError();
  if (prefixSize == 8) {
    uint64_t headerSize =
        support::endian::read64le((*prefix)->getBufferStart());
    if (headerSize <= *size - 8) {
      prefix = readFileSlice(path, 0, 8 + headerSize);
      if (!prefix)
        return prefix.takeError();
    }
  }
  return parseSafeTensors(path, (*prefix)->getBuffer(), *size);
}

} // namespace fmc::import
