//===- AdapterTest.cpp - .fmca adapters checked against their base --------===//
//
// Every message Adapter::open gives a file that does not belong to the base
// it is opened with, and the artifact validator's checks of LoRA slots.
//
//===----------------------------------------------------------------------===//

#include "TinyAdapter.h"
#include "TinyGpuArtifact.h"

#include "runtime/Adapter.h"
#include "runtime/Artifact.h"

#include <gtest/gtest.h>

namespace fmc {
namespace {

using test::buildTinyAdapter;
using test::TinyAdapterSpec;

class AdapterTest : public ::testing::Test {
protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<Artifact>> a = Artifact::fromBytes(
        test::buildTinyArtifact({}, false, {test::kTinyLoraSlot}), "base.fmc");
    ASSERT_TRUE(a.ok()) << a.status().message();
    base = std::move(*a);
  }

  /// A spec filling A with 1s and B with 2s, for this base.
  TinyAdapterSpec valid() const {
    TinyAdapterSpec spec;
    spec.baseWeightsChecksum = base->root().checksums()->weights();
    spec.tensors = {{2, "logits.weight.lora_a", 1},
                    {3, "logits.weight.lora_b", 2}};
    return spec;
  }

  /// The message of opening `bytes`, or "" when it opens.
  std::string error(const std::vector<uint8_t> &bytes) const {
    absl::StatusOr<std::unique_ptr<Adapter>> a =
        Adapter::fromBytes(bytes, *base, "x.fmca");
    return a.ok() ? "" : std::string(a.status().message());
  }

  std::unique_ptr<Artifact> base;
};

TEST_F(AdapterTest, OpensAnAdapterOfItsBaseAndGivesEachSlotTensorItsBytes) {
  absl::StatusOr<std::unique_ptr<Adapter>> a =
      Adapter::fromBytes(buildTinyAdapter(valid()), *base, "x.fmca");
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_EQ((*a)->name(), "tiny-adapter");
  EXPECT_EQ((*a)->tensorCount(), 2u);
  ASSERT_EQ((*a)->bytesOf(2).size(), 32u);
  EXPECT_EQ((*a)->bytesOf(2)[0], 1);
  EXPECT_EQ((*a)->bytesOf(3)[31], 2);
  EXPECT_TRUE((*a)->bytesOf(0).empty());
  EXPECT_TRUE((*a)->bytesOf(99).empty());
  EXPECT_EQ(loraSlotTensors(base->root()), (std::vector<uint32_t>{2, 3}));
}

TEST_F(AdapterTest, RejectsFilesThatAreNotAdapters) {
  EXPECT_EQ(error({1, 2, 3}),
            "x.fmca: not an fmc LoRA adapter (.fmca, from fmc-compile "
            "--adapter)");
  std::vector<uint8_t> truncated = buildTinyAdapter(valid());
  truncated.resize(truncated.size() / 2);
  EXPECT_EQ(error(truncated), "x.fmca: corrupt adapter: the FlatBuffer does "
                              "not verify");
  TinyAdapterSpec future = valid();
  future.formatVersion = kAdapterFormatVersion + 1;
  EXPECT_EQ(error(buildTinyAdapter(future)),
            "x.fmca: adapter format 2, this runtime reads 1; recompile it "
            "with this fmc-compile");
}

TEST_F(AdapterTest, RejectsAnAdapterOfAnotherBase) {
  TinyAdapterSpec other = valid();
  other.baseWeightsChecksum ^= 1;
  EXPECT_NE(error(buildTinyAdapter(other))
                .find("compiled for another base (weights checksum "),
            std::string::npos);
  TinyAdapterSpec count = valid();
  count.baseTensors = 5;
  EXPECT_NE(error(buildTinyAdapter(count)).find("compiled for another base"),
            std::string::npos);
  absl::StatusOr<std::unique_ptr<Artifact>> plain =
      Artifact::fromBytes(test::buildTinyArtifact({}), "plain.fmc");
  ASSERT_TRUE(plain.ok());
  absl::StatusOr<std::unique_ptr<Adapter>> a =
      Adapter::fromBytes(buildTinyAdapter(valid()), **plain, "x.fmca");
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().message(),
            "x.fmca: plain.fmc has no LoRA slots; compile the base with "
            "--lora-rank to apply adapters to it");
}

TEST_F(AdapterTest, RejectsTensorsThatAreNotItsBasesSlots) {
  TinyAdapterSpec weight = valid();
  weight.tensors[0] = {0, "logits.weight", 1};
  EXPECT_EQ(error(buildTinyAdapter(weight)),
            "x.fmca: corrupt adapter: tensor 'logits.weight' (0) is not a "
            "LoRA slot of the base");
  TinyAdapterSpec outside = valid();
  outside.tensors[0].tensor = 7;
  EXPECT_EQ(error(buildTinyAdapter(outside)),
            "x.fmca: corrupt adapter: tensor 'logits.weight.lora_a' (7) is "
            "not a LoRA slot of the base");
  TinyAdapterSpec renamed = valid();
  renamed.tensors[1].name = "other";
  EXPECT_EQ(error(buildTinyAdapter(renamed)),
            "x.fmca: corrupt adapter: tensor 3 is 'other' here but "
            "'logits.weight.lora_b' in the base");
  TinyAdapterSpec size = valid();
  size.tensors[0].bytes = 16;
  EXPECT_EQ(error(buildTinyAdapter(size)),
            "x.fmca: corrupt adapter: tensor 'logits.weight.lora_a' has 16 "
            "bytes at 0 of 64; the slot holds 32");
  TinyAdapterSpec past = valid();
  past.dataBytes = 48;
  EXPECT_EQ(error(buildTinyAdapter(past)),
            "x.fmca: corrupt adapter: tensor 'logits.weight.lora_b' has 32 "
            "bytes at 32 of 48; the slot holds 32");
  TinyAdapterSpec twice = valid();
  twice.tensors[1] = twice.tensors[0];
  EXPECT_EQ(error(buildTinyAdapter(twice)),
            "x.fmca: corrupt adapter: tensor 'logits.weight.lora_a' is "
            "filled twice");
}

/// The validator's message for the tiny artifact with `slots`.
std::string slotError(std::vector<schema::LoraSlot> slots) {
  absl::StatusOr<std::unique_ptr<Artifact>> a =
      Artifact::fromBytes(test::buildTinyArtifact({}, false, slots), "t.fmc");
  return a.ok() ? "" : std::string(a.status().message());
}

TEST(LoraSlotValidationTest, SlotsNameF16MatricesThatFitTheirWeight) {
  EXPECT_EQ(slotError({test::kTinyLoraSlot}), "");
  EXPECT_EQ(slotError({schema::LoraSlot(9, 2, 3)}),
            "'t.fmc': corrupt artifact: LoRA slot 0 names tensors 9, 2, 3 of 4");
  EXPECT_EQ(slotError({schema::LoraSlot(0, 1, 3)}),
            "'t.fmc': corrupt artifact: LoRA slot 0: tensor 'embed.table' is "
            "not an F16 matrix");
  EXPECT_EQ(slotError({schema::LoraSlot(0, 3, 2)}),
            "'t.fmc': corrupt artifact: LoRA slot 0: A [8, 2] and B [2, 8] do "
            "not fit weight [8, 8]");
  EXPECT_EQ(slotError({test::kTinyLoraSlot, schema::LoraSlot(1, 2, 3)}),
            "'t.fmc': corrupt artifact: LoRA slot 1: tensor 2 belongs to "
            "another slot");
}

} // namespace
} // namespace fmc
