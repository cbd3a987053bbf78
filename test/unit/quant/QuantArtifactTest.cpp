//===- QuantArtifactTest.cpp - packed parameters in a compiled artifact ---===//
//
// stories260K compiled with --quantize=afm (2-bit balanced linears, 4-bit
// embedding): the size report's bits per weight are the artifact's actual
// byte counts, and the writer's bytes are the quantization library's.
//
//===----------------------------------------------------------------------===//

#include "lowering/quant/QuantMath.h"
#include "runtime/Artifact.h"
#include "runtime/schema/fmc_generated.h"
#include "test/unit/runtime/SealArtifact.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

namespace {

std::string readText(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

/// The number after "key": in a JSON text (the report is flat enough).
double jsonNumber(const std::string &json, const std::string &key) {
  size_t at = json.find("\"" + key + "\":");
  EXPECT_NE(at, std::string::npos) << key;
  if (at == std::string::npos)
    return -1.0;
  return std::strtod(json.c_str() + at + key.size() + 3, nullptr);
}

int64_t elements(const fmc::schema::Tensor &t) {
  int64_t n = 1;
  for (int64_t d : *t.shape())
    n *= d;
  return n;
}

TEST(QuantArtifact, BitsPerWeightAreTheArtifactsBytes) {
  auto artifact = fmc::Artifact::open(FMC_TEST_ARTIFACT_AFM);
  ASSERT_TRUE(artifact.ok()) << artifact.status();
  const fmc::schema::Artifact &root = (*artifact)->root();
  std::set<int32_t> linear, embedding;
  for (const fmc::schema::Kernel *k : *root.decode()->kernels()) {
    if (const auto *s = k->spec_as_LinearSpec())
      linear.insert(s->weight());
    if (const auto *s = k->spec_as_EmbeddingSpec())
      embedding.insert(s->table());
  }
  ASSERT_EQ(linear.size(), 35u);
  ASSERT_EQ(embedding.size(), 1u);
  auto bitsPerWeight = [&](const std::set<int32_t> &tensors) {
    int64_t bytes = 0, count = 0;
    for (int32_t i : tensors) {
      const fmc::schema::Tensor &t = *root.tensors()->Get(i);
      EXPECT_EQ(t.dtype(), fmc::schema::DType::Packed) << t.name()->str();
      bytes += t.bytes();
      count += elements(t);
    }
    return 8.0 * bytes / count;
  };
  std::string json = readText(FMC_TEST_ARTIFACT_AFM ".json");
  double linearBpw = bitsPerWeight(linear),
         embeddingBpw = bitsPerWeight(embedding);
  EXPECT_DOUBLE_EQ(jsonNumber(json, "linear_bits_per_weight"), linearBpw);
  EXPECT_DOUBLE_EQ(jsonNumber(json, "embedding_bits_per_weight"), embeddingBpw);
  // 64-wide rows are exactly 2.25; down_proj's rows of 172 hold a short
  // third group (3 scales and 43 code bytes per row).
  EXPECT_DOUBLE_EQ(embeddingBpw, 4.25);
  // Per layer: q, o [64x64] and k, v [32x64] at 2.25 bits; gate, up
  // [172x64] rows of 16 code bytes and one scale; down [64x172] rows of 43
  // code bytes and 3 scales.
  int64_t attention = 2 * 64 * 64 + 2 * 32 * 64;
  int64_t expectedBytes =
      5 * (attention * 9 / 32 + 2 * 172 * (16 + 2) + 64 * (43 + 3 * 2));
  int64_t expectedElements = 5 * (attention + 3 * 172 * 64);
  EXPECT_DOUBLE_EQ(linearBpw, 8.0 * expectedBytes / expectedElements);

  // The weight segment is the tensors' bytes plus alignment padding only.
  uint64_t sum = 0;
  for (const fmc::schema::Tensor *t : *root.tensors())
    sum += t->bytes();
  EXPECT_LE(sum, root.weights_bytes());
  EXPECT_LT(root.weights_bytes() - sum, 64u * root.tensors()->size());
}

TEST(QuantArtifact, WriterPacksWhatTheLibraryPacks) {
  auto artifact = fmc::Artifact::open(FMC_TEST_ARTIFACT_AFM);
  ASSERT_TRUE(artifact.ok()) << artifact.status();
  const fmc::schema::Artifact &root = (*artifact)->root();
  // The token embedding: 512 x 64 f32 at offset 28 of stories260K.bin.
  std::string checkpoint =
      readText(FMC_SHARED_DIR "/models/stories260K/stories260K.bin");
  ASSERT_GE(checkpoint.size(), 28u + 512 * 64 * 4);
  std::vector<float> table(512 * 64);
  std::memcpy(table.data(), checkpoint.data() + 28, table.size() * 4);
  fmc::quant::Format format{4, fmc::quant::Grid::Balanced, 64,
                            fmc::quant::ScaleType::F16};
  std::vector<uint8_t> packed(fmc::quant::packedBytes(format, 512, 64));
  fmc::quant::quantize(format, table.data(), 512, 64, packed.data());
  for (uint32_t i = 0; i < root.tensors()->size(); ++i) {
    const fmc::schema::Tensor &t = *root.tensors()->Get(i);
    if (t.name()->str() != "model.embed_tokens.weight")
      continue;
    ASSERT_EQ(t.bytes(), packed.size());
    ASSERT_TRUE(t.quant());
    EXPECT_EQ(t.quant()->bits(), 4);
    EXPECT_EQ(t.quant()->group_size(), 64);
    EXPECT_EQ(
        std::memcmp((*artifact)->tensorData(i), packed.data(), packed.size()),
        0);
    return;
  }
  FAIL() << "no model.embed_tokens.weight tensor";
}

/// The artifact's bytes with one scalar field of the first packed (or ggml
/// block) tensor, or of its encoding, overwritten, and what validation says
/// about them.
template <typename T>
std::string corruptPackedField(bool encoding, flatbuffers::voffset_t field,
                               T value,
                               fmc::schema::DType dtype =
                                   fmc::schema::DType::Packed) {
  std::string text = readText(dtype == fmc::schema::DType::Packed
                                  ? FMC_TEST_ARTIFACT_AFM
                                  : FMC_TEST_ARTIFACT_GGML);
  EXPECT_GT(text.size(), 4096u) << "the fixture artifact is missing";
  if (text.size() <= 4096)
    return "";
  std::vector<uint8_t> bytes(text.begin(), text.end());
  const fmc::schema::Artifact *root =
      fmc::schema::GetSizePrefixedArtifact(bytes.data());
  for (const fmc::schema::Tensor *t : *root->tensors()) {
    if (t->dtype() != dtype)
      continue;
    const auto *table =
        encoding ? reinterpret_cast<const flatbuffers::Table *>(t->quant())
                 : reinterpret_cast<const flatbuffers::Table *>(t);
    const uint8_t *at = table->GetAddressOf(field);
    EXPECT_NE(at, nullptr); // The writer forces every default in.
    if (!at)
      return "";
    std::memcpy(bytes.data() + (at - bytes.data()), &value, sizeof(T));
    // Sealed again, as a crafted file would be: validation, not the
    // checksum, must reject it.
    fmc::test::resealArtifact(bytes);
    auto artifact = fmc::Artifact::fromBytes(std::move(bytes), "bad.fmc");
    EXPECT_FALSE(artifact.ok());
    return artifact.ok() ? "" : std::string(artifact.status().message());
  }
  ADD_FAILURE() << "no packed tensor";
  return "";
}

TEST(QuantArtifact, RejectsInconsistentPackedTensors) {
  using QE = fmc::schema::QuantEncoding;
  EXPECT_NE(corruptPackedField<uint8_t>(true, QE::VT_BITS, 3)
                .find("('model.embed_tokens.weight') has an unsupported "
                      "quant encoding (bits 3, grid 0, group_size 64"),
            std::string::npos);
  EXPECT_NE(corruptPackedField<int64_t>(true, QE::VT_GROUP_SIZE, 48)
                .find("has an unsupported quant encoding (bits 4, grid 0, "
                      "group_size 48"),
            std::string::npos);
  EXPECT_NE(corruptPackedField<int64_t>(true, QE::VT_GROUP_SIZE, 32)
                .find("of shape [512, 64] packed at 4 bits declares 17408 "
                      "bytes, expected 18432"),
            std::string::npos);
  EXPECT_NE(
      corruptPackedField<uint64_t>(false, fmc::schema::Tensor::VT_BYTES, 17409)
          .find("declares 17409 bytes, expected 17408"),
      std::string::npos);
}

TEST(QuantArtifact, RejectsInconsistentGgmlTensors) {
  using fmc::schema::Tensor;
  constexpr auto kGgml = fmc::schema::DType::GgmlBlocks;
  // The first ggml tensor: the 512 x 256 token embedding in Q4_K.
  EXPECT_NE(corruptPackedField<uint32_t>(false, Tensor::VT_GGML_TYPE, 16, kGgml)
                .find("('model.embed_tokens.weight') has unknown ggml block "
                      "type 16"),
            std::string::npos);
  EXPECT_NE(corruptPackedField<uint32_t>(false, Tensor::VT_GGML_TYPE, 8, kGgml)
                .find("of shape [512, 256] in Q8_0 blocks declares 73728 "
                      "bytes"),
            std::string::npos);
  EXPECT_NE(corruptPackedField<uint64_t>(false, Tensor::VT_BYTES, 73729, kGgml)
                .find("of shape [512, 256] in Q4_K blocks declares 73729 "
                      "bytes"),
            std::string::npos);
  EXPECT_NE(corruptPackedField<uint64_t>(false, Tensor::VT_OFFSET, 32, kGgml)
                .find("starts at offset 32, not a multiple of 64"),
            std::string::npos);
}

} // namespace
