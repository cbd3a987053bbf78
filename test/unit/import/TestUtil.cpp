//===- TestUtil.cpp - helpers for the reader tests ------------------------===//

#include "TestUtil.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <cstring>

using namespace llvm;

namespace fmc::import::test {

std::string storiesPath(StringRef name) {
  SmallString<256> path(FMC_SHARED_DIR);
  sys::path::append(path, "models", "stories260K", name);
  return std::string(path);
}

bool haveStories() { return sys::fs::exists(storiesPath("stories260K.bin")); }

TempDir::TempDir() {
  SmallString<256> path;
  if (std::error_code ec =
          sys::fs::createUniqueDirectory("fmc-import-test", path))
    ADD_FAILURE() << "cannot create a temporary directory: " << ec.message();
  root = std::string(path);
}

TempDir::~TempDir() { sys::fs::remove_directories(root); }

std::string TempDir::path(StringRef name) const {
  SmallString<256> path(root);
  sys::path::append(path, name);
  return std::string(path);
}

std::string TempDir::write(StringRef name, StringRef bytes) const {
  std::string file = path(name);
  std::error_code ec;
  raw_fd_ostream out(file, ec);
  if (ec)
    ADD_FAILURE() << "cannot write " << file << ": " << ec.message();
  out << bytes;
  return file;
}

std::string readFile(StringRef path) {
  ErrorOr<std::unique_ptr<MemoryBuffer>> buffer =
      MemoryBuffer::getFile(path, /*IsText=*/false,
                            /*RequiresNullTerminator=*/false);
  return buffer ? (*buffer)->getBuffer().str() : std::string();
}

std::string tensorBytes(const TensorRef &tensor) {
  return readFile(tensor.file).substr(tensor.offset, tensor.bytes);
}

std::string safetensorsFile(StringRef header, size_t dataBytes) {
  uint64_t length = header.size();
  std::string file(8, '\0');
  std::memcpy(file.data(), &length, 8); // The test machines are little-endian.
  file += header.str();
  for (size_t i = 0; i < dataBytes; ++i)
    file.push_back(static_cast<char>(i % 251));
  return file;
}

} // namespace fmc::import::test
