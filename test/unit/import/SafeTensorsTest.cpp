//===- SafeTensorsTest.cpp - the safetensors header reader ----------------===//

#include "import/readers/SafeTensors.h"

#include "TestUtil.h"

#include "gmock/gmock.h"

using namespace fmc::import;
using namespace fmc::import::test;
using ::testing::HasSubstr;

namespace {

TEST(SafeTensors, ReadsTensorsInFileOrderWithAbsoluteOffsets) {
  TempDir tmp;
  std::string header =
      R"({"__metadata__": {"format": "pt"},
          "b": {"dtype": "BF16", "shape": [2, 3], "data_offsets": [16, 28]},
          "a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
          "c": {"dtype": "F16", "shape": [], "data_offsets": [28, 30]}})";
  std::string file = tmp.write("m.safetensors", safetensorsFile(header, 30));
  FMC_ASSERT_OK_AND_ASSIGN(tensors, readSafeTensors(file));
  ASSERT_EQ(tensors.size(), 3u);
  EXPECT_EQ(tensors[0].name, "a");
  EXPECT_EQ(tensors[0].dtype, DType::F32);
  EXPECT_EQ(tensors[0].shape, std::vector<int64_t>({4}));
  EXPECT_EQ(tensors[0].offset, 8 + header.size());
  EXPECT_EQ(tensors[0].bytes, 16u);
  EXPECT_EQ(tensors[0].file, file);
  EXPECT_EQ(tensors[1].name, "b");
  EXPECT_EQ(tensors[1].dtype, DType::BF16);
  EXPECT_EQ(tensors[1].shape, std::vector<int64_t>({2, 3}));
  EXPECT_EQ(tensors[1].offset, 8 + header.size() + 16);
  EXPECT_EQ(tensors[2].name, "c");
  EXPECT_EQ(tensors[2].dtype, DType::F16);
  EXPECT_TRUE(tensors[2].shape.empty());
  EXPECT_EQ(tensors[2].bytes, 2u);
  // The offsets point at the right bytes: data byte i is i % 251.
  EXPECT_EQ(tensorBytes(tensors[1])[0], 16);
}

TEST(SafeTensors, EmptyHeaderObjectHasNoTensors) {
  TempDir tmp;
  std::string file = tmp.write("m.safetensors", safetensorsFile("{}", 0));
  FMC_ASSERT_OK_AND_ASSIGN(tensors, readSafeTensors(file));
  EXPECT_TRUE(tensors.empty());
}

/// The message readSafeTensors gives for a file with `header` and
/// `dataBytes` bytes of data.
std::string headerError(llvm::StringRef header, size_t dataBytes) {
  TempDir tmp;
  return errorOf(readSafeTensors(
      tmp.write("model.safetensors", safetensorsFile(header, dataBytes))));
}

TEST(SafeTensors, OffsetsBeyondTheData) {
  EXPECT_THAT(
      headerError(R"({"model.norm.weight": {"dtype": "F32", "shape": [75],
                      "data_offsets": [0, 300]}})",
                  256),
      HasSubstr("model.safetensors: tensor 'model.norm.weight': data_offsets "
                "[0, 300] exceed the 256 bytes of data"));
}

TEST(SafeTensors, OffsetsInconsistentWithShape) {
  EXPECT_THAT(headerError(R"({"w": {"dtype": "F32", "shape": [4],
                               "data_offsets": [0, 8]}})",
                          16),
              HasSubstr("tensor 'w': data_offsets [0, 8] hold 8 bytes, but "
                        "shape [4] of F32 needs 16"));
}

TEST(SafeTensors, ReversedOffsets) {
  EXPECT_THAT(headerError(R"({"w": {"dtype": "F32", "shape": [0],
                               "data_offsets": [8, 4]}})",
                          16),
              HasSubstr("tensor 'w': data_offsets [8, 4] end before they "
                        "begin"));
}

TEST(SafeTensors, UnsupportedDType) {
  EXPECT_THAT(headerError(R"({"ids": {"dtype": "I64", "shape": [2],
                               "data_offsets": [0, 16]}})",
                          16),
              HasSubstr("model.safetensors: tensor 'ids': unsupported dtype "
                        "'I64' (fmc reads F32, F16 and BF16)"));
}

TEST(SafeTensors, DuplicateTensor) {
  EXPECT_THAT(headerError(R"({"w": {"dtype": "F32", "shape": [1],
                                "data_offsets": [0, 4]},
                              "\u0077": {"dtype": "F32", "shape": [1],
                                "data_offsets": [4, 8]}})",
                          8),
              HasSubstr("model.safetensors: duplicate tensor 'w'"));
}

TEST(SafeTensors, OverlappingTensors) {
  EXPECT_THAT(headerError(R"({"a": {"dtype": "F32", "shape": [4],
                                "data_offsets": [0, 16]},
                              "z": {"dtype": "F32", "shape": [0],
                                "data_offsets": [4, 4]},
                              "b": {"dtype": "F32", "shape": [1],
                                "data_offsets": [8, 12]}})",
                          16),
              HasSubstr("tensors 'a' and 'b' overlap in the data"));
}

TEST(SafeTensors, MalformedJsonGivesLineAndColumn) {
  EXPECT_THAT(
      headerError("{\"w\": {\"dtype\": \"F32\",\n \"shape\": [1,,2]}}", 0),
      HasSubstr("model.safetensors: malformed JSON at line 2, column"));
}

TEST(SafeTensors, DeeplyNestedHeader) {
  std::string header = "{\"__metadata__\": " + std::string(50000, '[') +
                       std::string(50000, ']') + "}";
  EXPECT_THAT(headerError(header, 0),
              HasSubstr("model.safetensors: JSON nested deeper than 128 "
                        "arrays or objects"));
}

TEST(SafeTensors, MalformedEntries) {
  EXPECT_THAT(headerError(R"({"w": "F32"})", 0),
              HasSubstr("tensor 'w': entry is a string, expected an object"));
  EXPECT_THAT(headerError(R"([1, 2])", 0),
              HasSubstr("header is an array, expected an object"));
  EXPECT_THAT(
      headerError(R"({"w": {"shape": [1], "data_offsets": [0, 4]}})", 4),
      HasSubstr("tensor 'w': missing string 'dtype'"));
  EXPECT_THAT(
      headerError(R"({"w": {"dtype": "F32", "data_offsets": [0, 4]}})", 4),
      HasSubstr("tensor 'w': missing array 'shape'"));
  EXPECT_THAT(headerError(R"({"w": {"dtype": "F32", "shape": [-1],
                                "data_offsets": [0, 4]}})",
                          4),
              HasSubstr("tensor 'w': shape has an entry that is not a "
                        "non-negative integer"));
  EXPECT_THAT(headerError(R"({"w": {"dtype": "F32", "shape": [1],
                                "data_offsets": [0]}})",
                          4),
              HasSubstr("tensor 'w': 'data_offsets' must be an array of two "
                        "non-negative integers"));
  EXPECT_THAT(headerError(R"({"w": {"dtype": "F32",
                "shape": [4294967296, 4294967296, 4294967296],
                "data_offsets": [0, 4]}})",
                          4),
              HasSubstr("tensor 'w': shape [4294967296, 4294967296, "
                        "4294967296] has more elements than fit in 64 bits"));
}

TEST(SafeTensors, TruncatedLengthField) {
  TempDir tmp;
  EXPECT_THAT(errorOf(readSafeTensors(tmp.write("m.safetensors", "abcde"))),
              HasSubstr("m.safetensors: truncated: the 8-byte header length "
                        "needs 8 bytes, but the file has 5"));
}

TEST(SafeTensors, HeaderLengthOverflowingTheFile) {
  TempDir tmp;
  std::string file = safetensorsFile("{}", 10);
  file[0] = 100; // Claims a 100-byte header in a 20-byte file.
  EXPECT_THAT(errorOf(readSafeTensors(tmp.write("m.safetensors", file))),
              HasSubstr("m.safetensors: header length 100 exceeds the 12 "
                        "bytes after the length field"));
  std::fill(file.begin(), file.begin() + 8, '\xff'); // 2^64 - 1.
  EXPECT_THAT(errorOf(readSafeTensors(tmp.write("m.safetensors", file))),
              HasSubstr("header length 18446744073709551615 exceeds"));
}

TEST(SafeTensors, MissingFile) {
  TempDir tmp;
  EXPECT_THAT(errorOf(readSafeTensors(tmp.path("absent.safetensors"))),
              HasSubstr("absent.safetensors: No such file or directory"));
}

} // namespace
