//===- MetallibTest.cpp - building a metallib needs Xcode's xcrun ---------===//

#include "lowering/metal/Metallib.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace {

/// Sets PATH for the scope of the test.
class ScopedPath {
public:
  explicit ScopedPath(const char *path) {
    if (const char *old = std::getenv("PATH"))
      saved = old;
    setenv("PATH", path, 1);
  }
  ~ScopedPath() { setenv("PATH", saved.c_str(), 1); }

private:
  std::string saved;
};

TEST(Metallib, SaysWhenThereIsNoXcrun) {
  ScopedPath path("/nonexistent-fmc-test-dir");
  llvm::Expected<std::string> library =
      fmc::metal::buildMetallib("kernel void k() {}");
  ASSERT_FALSE(static_cast<bool>(library));
  EXPECT_EQ(llvm::toString(library.takeError()),
            "metallib: no xcrun on PATH: a metallib is built by Xcode's Metal "
            "compiler, on macOS only; keep the MSL source (the runtime "
            "compiles it at load)");
}

} // namespace
