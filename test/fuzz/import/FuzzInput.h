//===- FuzzInput.h - how the reader fuzzers read their input --------------===//
//
// The readers check tensors against the size of the file, but never read
// tensor data; so a fuzz input is a file's leading bytes plus, in its last 4
// bytes, how many more bytes the file is imagined to have. A 1 MB model is
// then a 5 KB input whose mutations all land in the parsed header.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_TEST_FUZZ_IMPORT_FUZZINPUT_H
#define FMC_TEST_FUZZ_IMPORT_FUZZINPUT_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Endian.h"

#include <cstddef>
#include <cstdint>

namespace fmc::import::fuzz {

struct FuzzInput {
  llvm::StringRef prefix; ///< The file's first bytes.
  uint64_t fileSize;      ///< prefix.size() + the imagined rest.
};

inline FuzzInput splitInput(const uint8_t *data, size_t size) {
  llvm::StringRef bytes(reinterpret_cast<const char *>(data), size);
  if (size < 4)
    return {bytes, size};
  uint32_t rest = llvm::support::endian::read32le(data + size - 4);
  llvm::StringRef prefix = bytes.drop_back(4);
  return {prefix, prefix.size() + static_cast<uint64_t>(rest)};
}

} // namespace fmc::import::fuzz

#endif // FMC_TEST_FUZZ_IMPORT_FUZZINPUT_H
