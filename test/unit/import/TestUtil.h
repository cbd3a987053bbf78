//===- TestUtil.h - helpers for the reader tests --------------------------===//

#ifndef FMC_TEST_UNIT_IMPORT_TESTUTIL_H
#define FMC_TEST_UNIT_IMPORT_TESTUTIL_H

#include "import/ModelSource.h"

#include "gtest/gtest.h"
#include "llvm/ADT/SmallString.h"

#include <string>

namespace fmc::import::test {

/// ../shared/models/stories260K/<name>.
std::string storiesPath(llvm::StringRef name);

/// Skips the calling test when ../shared/models/stories260K is absent.
#define FMC_REQUIRE_STORIES()                                                  \
  if (!::fmc::import::test::haveStories())                                     \
  GTEST_SKIP() << "../shared/models/stories260K is not beside the checkout"
bool haveStories();

/// A fresh directory, removed with its contents when the object dies.
class TempDir {
public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir &) = delete;
  TempDir &operator=(const TempDir &) = delete;
  /// <dir>/<name>.
  std::string path(llvm::StringRef name) const;
  /// Writes `bytes` to <dir>/<name> and returns its path.
  std::string write(llvm::StringRef name, llvm::StringRef bytes) const;
  const std::string &dir() const { return root; }

private:
  std::string root;
};

/// The whole contents of a file ("" when it cannot be read, which the
/// caller's expectations then catch).
std::string readFile(llvm::StringRef path);

/// The bytes a TensorRef points at.
std::string tensorBytes(const TensorRef &tensor);

/// A safetensors file: the length of `header`, `header`, then `dataBytes`
/// bytes of data (byte i is i % 251, so misplaced offsets show).
std::string safetensorsFile(llvm::StringRef header, size_t dataBytes);

/// The message of a failed Expected (and "" plus a test failure when it
/// succeeded).
template <typename T> std::string errorOf(llvm::Expected<T> value) {
  if (value) {
    ADD_FAILURE() << "expected an error, got success";
    return "";
  }
  return llvm::toString(value.takeError());
}

/// Unwraps an Expected, failing the test with its message when it is an error.
#define FMC_ASSERT_OK_AND_ASSIGN(lhs, expr)                                    \
  auto lhs##OrErr = (expr);                                                    \
  ASSERT_TRUE(static_cast<bool>(lhs##OrErr))                                   \
      << llvm::toString(lhs##OrErr.takeError());                               \
  auto &lhs = *lhs##OrErr

} // namespace fmc::import::test

#endif // FMC_TEST_UNIT_IMPORT_TESTUTIL_H
