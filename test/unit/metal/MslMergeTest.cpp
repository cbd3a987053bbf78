//===- MslMergeTest.cpp - merging per-kernel MSL translation units --------===//

#include "lowering/metal/MslMerge.h"

#include "llvm/Support/Error.h"

#include <gtest/gtest.h>

namespace {

using fmc::metal::mergeMslUnits;
using fmc::metal::MslUnit;

const char *kPreamble = "#pragma clang diagnostic ignored \"-Wmissing-prototypes\"\n"
                        "\n"
                        "#include <metal_stdlib>\n"
                        "#include <simd/simd.h>\n"
                        "\n"
                        "using namespace metal;\n"
                        "\n";

const char *kStruct = "struct _5\n"
                      "{\n"
                      "    float _m0[4];\n"
                      "};\n";

std::string kernel(const std::string &name) {
  return "kernel void " + name + "(device _5& a [[buffer(0)]])\n"
         "{\n"
         "    a._m0[0] = 1.0;\n"
         "\n" // A blank line inside a body does not end the block.
         "    a._m0[1] = 2.0;\n"
         "}\n";
}

size_t count(const std::string &text, const std::string &needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos;
       at = text.find(needle, at + 1))
    ++n;
  return n;
}

TEST(MslMerge, KeepsSharedBlocksAndDirectivesOnce) {
  std::vector<MslUnit> units = {
      {"a", std::string(kPreamble) + kStruct + "\n" + kernel("a")},
      {"b", std::string(kPreamble) + kStruct + "\n" + kernel("b")}};
  llvm::Expected<std::string> merged = mergeMslUnits(units);
  ASSERT_TRUE(static_cast<bool>(merged)) << llvm::toString(merged.takeError());
  EXPECT_EQ(count(*merged, "#include <metal_stdlib>"), 1u);
  EXPECT_EQ(count(*merged, "#pragma clang"), 1u);
  EXPECT_EQ(count(*merged, "using namespace metal;"), 1u);
  EXPECT_EQ(count(*merged, "struct _5"), 1u);
  EXPECT_EQ(count(*merged, "kernel void a("), 1u);
  EXPECT_EQ(count(*merged, "kernel void b("), 1u);
  EXPECT_EQ(count(*merged, "a._m0[1] = 2.0;"), 2u);
  EXPECT_LT(merged->find("using namespace"), merged->find("struct _5"));
  EXPECT_LT(merged->find("struct _5"), merged->find("kernel void a("));
}

TEST(MslMerge, PutsANewHelperBeforeTheKernelThatNeedsIt) {
  std::string helper = "template<typename T>\n"
                       "inline T twice(T x)\n"
                       "{\n"
                       "    return x + x;\n"
                       "}\n";
  std::vector<MslUnit> units = {
      {"a", std::string(kPreamble) + kStruct + "\n" + kernel("a")},
      {"b", std::string(kPreamble) + helper + "\n" + kStruct + "\n" +
                kernel("b")}};
  llvm::Expected<std::string> merged = mergeMslUnits(units);
  ASSERT_TRUE(static_cast<bool>(merged)) << llvm::toString(merged.takeError());
  size_t helperAt = merged->find("inline T twice(T x)");
  ASSERT_NE(helperAt, std::string::npos);
  EXPECT_LT(merged->find("kernel void a("), helperAt);
  EXPECT_LT(helperAt, merged->find("kernel void b("));
}

TEST(MslMerge, AllowsOverloadsOfAHelper) {
  std::string intVersion = "inline int f(int x)\n{\n    return x;\n}\n";
  std::string boolVersion = "inline bool f(bool x)\n{\n    return !x;\n}\n";
  std::vector<MslUnit> units = {
      {"a", std::string(kPreamble) + intVersion + "\n" + kernel("a")},
      {"b", std::string(kPreamble) + boolVersion + "\n" + kernel("b")}};
  llvm::Expected<std::string> merged = mergeMslUnits(units);
  ASSERT_TRUE(static_cast<bool>(merged)) << llvm::toString(merged.takeError());
  EXPECT_EQ(count(*merged, "inline int f(int x)"), 1u);
  EXPECT_EQ(count(*merged, "inline bool f(bool x)"), 1u);
}

TEST(MslMerge, RejectsTwoDefinitionsOfOneStruct) {
  std::string other = "struct _5\n{\n    half _m0[4];\n};\n";
  std::vector<MslUnit> units = {
      {"first", std::string(kPreamble) + kStruct + "\n" + kernel("first")},
      {"second", std::string(kPreamble) + other + "\n" + kernel("second")}};
  llvm::Expected<std::string> merged = mergeMslUnits(units);
  ASSERT_FALSE(static_cast<bool>(merged));
  EXPECT_EQ(llvm::toString(merged.takeError()),
            "MSL: the translations of entry points 'first' and 'second' "
            "define 'struct _5' differently; they cannot share one Metal "
            "library");
}

TEST(MslMerge, RejectsTwoValuesOfOneConstant) {
  std::vector<MslUnit> units = {
      {"a", std::string(kPreamble) +
                "constant uint3 gl_WorkGroupSize [[maybe_unused]] = "
                "uint3(64u, 1u, 1u);\n\n" +
                kernel("a")},
      {"b", std::string(kPreamble) +
                "constant uint3 gl_WorkGroupSize [[maybe_unused]] = "
                "uint3(32u, 1u, 1u);\n\n" +
                kernel("b")}};
  llvm::Expected<std::string> merged = mergeMslUnits(units);
  ASSERT_FALSE(static_cast<bool>(merged));
  EXPECT_NE(llvm::toString(merged.takeError())
                .find("define 'constant gl_WorkGroupSize' differently"),
            std::string::npos);
}

} // namespace
