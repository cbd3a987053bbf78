//===- Decode.cpp - 16-bit floats and dense parameters in i32 words -------===//

#include "lowering/gpu/generator/Decode.h"

#include "lowering/gpu/families/WeightLayout.h"

using namespace mlir;

namespace fmc::gpu {

Value read16(KernelBuilder &kb, Value words, Value byte) {
  ImplicitLocOpBuilder &b = kb.builder();
  Value word = kb.div(byte, 4);
  Value shift = kb.indexToI32(kb.mul(kb.rem(byte, 4), 8));
  Value lo = kb.shrDynamic(kb.load(words, word), shift);
  int64_t last = cast<MemRefType>(words.getType()).getDimSize(0) - 1;
  Value next = kb.minIndex(kb.add(word, 1), kb.index(last));
  Value hi = b.createOrFold<arith::ShLIOp>(
      kb.load(words, next), b.createOrFold<arith::SubIOp>(kb.i32(32), shift));
  Value spans = kb.eq(kb.rem(byte, 4), 3);
  Value bits = kb.select(spans, b.createOrFold<arith::OrIOp>(lo, hi), lo);
  return kb.andMask(bits, 0xffff);
}

Value halfToF32(KernelBuilder &kb, Value bits16, bool bf16) {
  ImplicitLocOpBuilder &b = kb.builder();
  if (bf16)
    return kb.bitsToF32(kb.shl(bits16, 16));
  Value h = b.createOrFold<arith::TruncIOp>(b.getI16Type(), bits16);
  Value half = arith::BitcastOp::create(b, b.getF16Type(), h);
  return arith::ExtFOp::create(b, b.getF32Type(), half);
}

Value denseElement(KernelBuilder &kb, Value words, int64_t dtype, Value i) {
  if (dtype == F32)
    return kb.bitsToF32(kb.load(words, i));
  return halfToF32(kb, read16(kb, words, kb.mul(i, 2)), dtype == BF16);
}

Value f32ToF16Bits(KernelBuilder &kb, Value x) {
  ImplicitLocOpBuilder &b = kb.builder();
  Value half = arith::TruncFOp::create(b, b.getF16Type(), x);
  Value bits = arith::BitcastOp::create(b, b.getI16Type(), half);
  return arith::ExtUIOp::create(b, b.getI32Type(), bits);
}

Value f32ToBf16Bits(KernelBuilder &kb, Value x) {
  ImplicitLocOpBuilder &b = kb.builder();
  Value bits = arith::BitcastOp::create(b, b.getI32Type(), x);
  Value magnitude = kb.andMask(bits, 0x7fffffff);
  Value nan = b.createOrFold<arith::CmpIOp>(arith::CmpIPredicate::ugt,
                                            magnitude, kb.i32(0x7f800000));
  Value high = kb.shr(bits, 16);
  Value lsb = kb.andMask(high, 1);
  Value rounded = kb.shr(
      b.createOrFold<arith::AddIOp>(
          b.createOrFold<arith::AddIOp>(bits, kb.i32(0x7fff)), lsb),
      16);
  Value quiet = b.createOrFold<arith::OrIOp>(high, kb.i32(0x40));
  return kb.andMask(kb.select(nan, quiet, rounded), 0xffff);
}

} // namespace fmc::gpu
