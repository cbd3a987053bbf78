//===- FmDialectTest.cpp - the fm dialect's C++ helpers -------------------===//
//
// The byte counts here feed the size report and the KV plan, so they are
// checked against hand-computed values for every storage format.
//
//===----------------------------------------------------------------------===//

#include "dialects/fm/IR/FmOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace mlir;
using namespace mlir::fm;

namespace {

class FmDialectTest : public ::testing::Test {
protected:
  FmDialectTest() { context.loadDialect<FmDialect, func::FuncDialect>(); }

  OwningOpRef<ModuleOp> parse(StringRef source) {
    OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(source, &context);
    EXPECT_TRUE(module) << "failed to parse:\n" << source.str();
    return module;
  }

  template <typename OpT>
  OpT first(ModuleOp module) {
    OpT found;
    module.walk([&](OpT op) {
      if (!found)
        found = op;
    });
    return found;
  }

  uint64_t paramBytes(StringRef declaration) {
    OwningOpRef<ModuleOp> module = parse(declaration);
    return module ? first<ParamOp>(*module).getStorageBytes() : 0;
  }

  MLIRContext context;
};

TEST_F(FmDialectTest, DenseStorageBytes) {
  EXPECT_EQ(paramBytes(R"(fm.param @p : tensor<3x5xf32> from <"m", offset = 0, dtype = f32>)"), 60u);
  EXPECT_EQ(paramBytes(R"(fm.param @p : tensor<3x5xf32> from <"m", offset = 0, dtype = f16>)"), 30u);
  EXPECT_EQ(paramBytes(R"(fm.param @p : tensor<3x5xf32> from <"m", offset = 0, dtype = bf16>)"), 30u);
  EXPECT_EQ(paramBytes(R"(fm.param @p : tensor<3x5xf32> from <"m", offset = 0, dtype = i8>)"), 15u);
}

TEST_F(FmDialectTest, GgmlBlockStorageBytes) {
  // 4 rows of 64: 8 blocks of 32.
  EXPECT_EQ(paramBytes(R"(fm.param @p : tensor<4x64xf32> from <"m", offset = 0, dtype = q8_0>)"), 8u * 34);
  EXPECT_EQ(paramBytes(R"(fm.param @p : tensor<4x64xf32> from <"m", offset = 0, dtype = q4_0>)"), 8u * 18);
  // Super-blocks of 256: 4 rows of 512 are 8 blocks.
  EXPECT_EQ(paramBytes(R"(fm.param @p : tensor<4x512xf32> from <"m", offset = 0, dtype = q4_k>)"), 8u * 144);
  EXPECT_EQ(paramBytes(R"(fm.param @p : tensor<4x512xf32> from <"m", offset = 0, dtype = q6_k>)"), 8u * 210);
  EXPECT_EQ(paramBytes(R"(fm.param @p : tensor<4x512xf32> from <"m", offset = 0, dtype = tq1_0>)"), 8u * 54);
  EXPECT_EQ(paramBytes(R"(fm.param @p : tensor<4x64xf32> from <"m", offset = 0, dtype = iq4_nl>)"), 8u * 18);
}

TEST_F(FmDialectTest, PackedStorageBytes) {
  // 2048x2048 at 2 bits, group 64, f16 scales: 2 + 16/64 = 2.25 bits/weight.
  uint64_t bytes = paramBytes(
      R"(fm.param @p : tensor<2048x2048xf32, #fm.quant<bits = 2, grid = balanced, group_size = 64, scale_type = f16, layout = row_major>> from <"m", offset = 0, dtype = packed>)");
  EXPECT_EQ(bytes, 2048u * 2048 / 4 + 2048u * 32 * 2);
  EXPECT_DOUBLE_EQ(bytes * 8.0 / (2048.0 * 2048.0), 2.25);
  // Group 128: 2.125 bits/weight.
  bytes = paramBytes(
      R"(fm.param @p : tensor<2048x2048xf32, #fm.quant<bits = 2, grid = balanced, group_size = 128, scale_type = f16, layout = row_major>> from <"m", offset = 0, dtype = packed>)");
  EXPECT_DOUBLE_EQ(bytes * 8.0 / (2048.0 * 2048.0), 2.125);
  // K = 100 is not a multiple of the group of 64: 2 groups per row, and the
  // 200 bits of codes round up to 25 bytes. Affine grids store a minimum too.
  EXPECT_EQ(paramBytes(R"(fm.param @p : tensor<3x100xf32, #fm.quant<bits = 2, grid = affine, group_size = 64, scale_type = bf16, layout = row_major>> from <"m", offset = 0, dtype = packed>)"),
            3u * 25 + 3u * 2 * 2 * 2);
  // One group per row.
  EXPECT_EQ(paramBytes(R"(fm.param @p : tensor<3x100xf32, #fm.quant<bits = 4, grid = balanced, group_size = 0, scale_type = f32, layout = row_major>> from <"m", offset = 0, dtype = packed>)"),
            3u * 50 + 3u * 4);
}

TEST_F(FmDialectTest, StackStorage) {
  OwningOpRef<ModuleOp> module = parse(R"(
    fm.param @a : tensor<2x64xf32> from <"m", offset = 0, dtype = f16>
    fm.param @b : tensor<6x64xf32> from <"m", offset = 256, dtype = f16>
    fm.param @s : tensor<2x4x64xf32> stacks [@a, @b]
    fm.param @q : tensor<2x4x64xf32, #fm.quant<bits = 2, grid = balanced, group_size = 64, scale_type = f16, layout = row_major>> stacks [@a, @b]
  )");
  ASSERT_TRUE(module);
  SmallVector<ParamOp> params(module->getOps<ParamOp>());
  ASSERT_EQ(params.size(), 4u);
  // A dense stack is stored as its parts are: 512 f16 elements.
  EXPECT_TRUE(params[2].isStack());
  EXPECT_EQ(params[2].getStorageType(), StorageType::f16);
  EXPECT_EQ(params[2].getStorageBytes(), 512u * 2);
  // A quantized stack is packed: 8 rows of 16 bytes of codes + one scale.
  EXPECT_EQ(params[3].getStorageType(), StorageType::packed);
  EXPECT_EQ(params[3].getStorageBytes(), 8u * 16 + 8u * 2);
}

TEST_F(FmDialectTest, CacheBytesPerPosition) {
  OwningOpRef<ModuleOp> module = parse(R"(
    fm.kv_cache @a linear capacity = 4096, kv_heads = 2, head_dim = 128 : f32
    fm.kv_cache @b ring capacity = 4096, kv_heads = 2, head_dim = 128 : i8
  )");
  ASSERT_TRUE(module);
  SmallVector<KVCacheOp> caches(module->getOps<KVCacheOp>());
  ASSERT_EQ(caches.size(), 2u);
  // Keys and values: 2 * heads * head_dim elements.
  EXPECT_EQ(caches[0].getBytesPerPosition(), 2 * 2 * 128 * 4);
  // AFM's int8 KV: 512 bytes of values per position and layer.
  EXPECT_EQ(caches[1].getBytesPerPosition(), 512);
}

TEST_F(FmDialectTest, AttentionScaleAndEffects) {
  OwningOpRef<ModuleOp> module = parse(R"(
    fm.kv_cache @c linear capacity = 16, kv_heads = 2, head_dim = 8 : f32
    func.func @f(%q: tensor<?x32xf32>, %k: tensor<?x16xf32>, %p: tensor<?xi32>) -> tensor<?x32xf32> {
      %a = fm.attention global %q, %k, %k at %p reads @c writes @c heads = 4, kv_heads = 2, head_dim = 8
          : (tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x32xf32>
      %b = fm.attention global %a at %p reads @c heads = 4, kv_heads = 2, head_dim = 8 {scale = 0.5 : f64}
          : (tensor<?x32xf32>, tensor<?xi32>) -> tensor<?x32xf32>
      return %b : tensor<?x32xf32>
    })");
  ASSERT_TRUE(module);
  SmallVector<AttentionOp> ops;
  module->walk([&](AttentionOp op) { ops.push_back(op); });
  ASSERT_EQ(ops.size(), 2u);

  EXPECT_DOUBLE_EQ(ops[0].getEffectiveScale(), 1.0 / std::sqrt(8.0));
  EXPECT_DOUBLE_EQ(ops[1].getEffectiveScale(), 0.5);
  EXPECT_FALSE(ops[0].isCacheReader());
  EXPECT_TRUE(ops[1].isCacheReader());

  // The writer reads and writes @c; the reader only reads it. Both effects
  // name the cache, so analyses can tell caches apart.
  auto effectsOf = [](AttentionOp op) {
    SmallVector<MemoryEffects::EffectInstance> effects;
    op.getEffects(effects);
    return effects;
  };
  auto writer = effectsOf(ops[0]);
  ASSERT_EQ(writer.size(), 2u);
  EXPECT_TRUE(isa<MemoryEffects::Read>(writer[0].getEffect()));
  EXPECT_TRUE(isa<MemoryEffects::Write>(writer[1].getEffect()));
  EXPECT_EQ(writer[1].getSymbolRef().getRootReference().getValue(), "c");
  EXPECT_EQ(writer[1].getResource(), KVCacheResource::get());
  auto reader = effectsOf(ops[1]);
  ASSERT_EQ(reader.size(), 1u);
  EXPECT_TRUE(isa<MemoryEffects::Read>(reader[0].getEffect()));
  EXPECT_FALSE(isMemoryEffectFree(ops[0]));
}

} // namespace
