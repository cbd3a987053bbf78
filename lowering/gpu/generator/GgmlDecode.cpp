//===- GgmlDecode.cpp - ggml blocks decoded in GPU kernels ----------------===//
//
// One decoder per format, each the formula of runtime/cpu/GgmlDequant.inc
// for the 32 elements of one run; the comments name the bytes a run reads.
//
//===----------------------------------------------------------------------===//

#include "lowering/gpu/generator/GgmlDecode.h"

#include "lowering/gpu/generator/Decode.h"

#include "llvm/Support/ErrorHandling.h"

using namespace mlir;

namespace fmc::gpu {

SmallVector<Value> readWordsAt(KernelBuilder &kb, Value words, Value byte,
                               int64_t count) {
  ImplicitLocOpBuilder &b = kb.builder();
  Value shift = kb.indexToI32(kb.mul(kb.rem(byte, 4), 8));
  Value aligned = kb.eq(kb.rem(byte, 4), 0);
  Value back = b.createOrFold<arith::SubIOp>(kb.i32(32), shift);
  SmallVector<Value> out;
  for (int64_t i = 0; i < count; ++i) {
    Value at = kb.add(byte, 4 * i);
    Value lo = kb.load(words, kb.div(at, 4));
    // The word holding the last byte: the next one unless aligned.
    Value hi = kb.load(words, kb.div(kb.add(at, 3), 4));
    Value joined = b.createOrFold<arith::OrIOp>(
        kb.shrDynamic(lo, shift), b.createOrFold<arith::ShLIOp>(hi, back));
    out.push_back(kb.select(aligned, lo, joined));
  }
  return out;
}

namespace {

/// The 16 values of the IQ4_NL / IQ4_XS grid (GgmlDequant.inc kIq4Grid).
constexpr int8_t kIq4Grid[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                 1,    13,   25,  38,  53,  69,  89,  113};

/// The emitter of one run: the block's words, the run and the idioms the
/// formats share.
class RunDecoder {
public:
  RunDecoder(KernelBuilder &kb, Value words, Value block, Value run)
      : kb(kb), b(kb.builder()), words(words), block(block), run(run) {}

  SmallVector<Value, kGgmlRun> decode(ggml::Type type);

private:
  SmallVector<Value, kGgmlRun> q4_0();
  SmallVector<Value, kGgmlRun> q4_1();
  SmallVector<Value, kGgmlRun> q5(bool affine);
  SmallVector<Value, kGgmlRun> q8_0();
  SmallVector<Value, kGgmlRun> q2_K();
  SmallVector<Value, kGgmlRun> q3_K();
  SmallVector<Value, kGgmlRun> q4_K(bool fifthBit);
  SmallVector<Value, kGgmlRun> q6_K();
  SmallVector<Value, kGgmlRun> iq4_nl();
  SmallVector<Value, kGgmlRun> iq4_xs();
  SmallVector<Value, kGgmlRun> tq1_0();
  SmallVector<Value, kGgmlRun> tq2_0();

  /// Bytes of the block from `offset` (plus `dynamic` bytes) as words.
  SmallVector<Value> wordsAt(int64_t offset, int64_t count,
                             Value dynamic = Value()) {
    Value at = kb.add(block, offset);
    if (dynamic)
      at = kb.add(at, dynamic);
    return readWordsAt(kb, words, at, count);
  }
  /// The f16 at byte `offset` of the block, as f32.
  Value half(int64_t offset) {
    return halfToF32(kb, read16(kb, words, kb.add(block, offset)), false);
  }
  /// Byte `j` of `ws`, zero-extended.
  Value byteOf(ArrayRef<Value> ws, int64_t j) {
    return kb.andMask(kb.shr(ws[j / 4], 8 * (j % 4)), 0xff);
  }
  /// Byte `j` (an index) of `ws`.
  Value byteAt(ArrayRef<Value> ws, Value j) {
    Value w = kb.div(j, 4);
    Value word = ws[0];
    for (size_t i = 1; i < ws.size(); ++i)
      word = kb.select(kb.eq(w, static_cast<int64_t>(i)), ws[i], word);
    return kb.andMask(shrBy(word, kb.mul(kb.rem(j, 4), 8)), 0xff);
  }
  /// `x` >> `bits` (an index).
  Value shrBy(Value x, Value bits) {
    return kb.shrDynamic(x, kb.indexToI32(bits));
  }
  /// Every word of `ws` >> `bits` (an index).
  SmallVector<Value> shiftAll(ArrayRef<Value> ws, Value bits) {
    SmallVector<Value> out;
    for (Value w : ws)
      out.push_back(shrBy(w, bits));
    return out;
  }
  /// Nibble `e` of 32 in Q4_0's order: byte e low, then byte e - 16 high.
  Value nibble(ArrayRef<Value> q, int64_t e) {
    return e < 16 ? kb.andMask(byteOf(q, e), 0xF) : kb.shr(byteOf(q, e - 16), 4);
  }
  Value ori(Value x, Value y) { return b.createOrFold<arith::OrIOp>(x, y); }
  Value subi(Value x, int64_t y) {
    return b.createOrFold<arith::SubIOp>(x, kb.i32(y));
  }
  Value muli(Value x, Value y) { return b.createOrFold<arith::MulIOp>(x, y); }
  /// The low byte of `x` as a signed value.
  Value signed8(Value x) {
    return b.createOrFold<arith::ShRSIOp>(kb.shl(x, 24), kb.i32(24));
  }
  /// kIq4Grid[code] as f32: the table packed four entries a word.
  Value grid(Value code) {
    int64_t packed[4] = {0, 0, 0, 0};
    for (int i = 0; i < 16; ++i)
      packed[i / 4] |= static_cast<int64_t>(static_cast<uint8_t>(kIq4Grid[i]))
                       << (8 * (i % 4));
    auto word = [&](int i) {
      return kb.i32(static_cast<int32_t>(static_cast<uint32_t>(packed[i])));
    };
    Value high = b.createOrFold<arith::CmpIOp>(arith::CmpIPredicate::ne,
                                               kb.andMask(code, 8), kb.i32(0));
    Value mid = b.createOrFold<arith::CmpIOp>(arith::CmpIPredicate::ne,
                                              kb.andMask(code, 4), kb.i32(0));
    Value w = kb.select(high, kb.select(mid, word(3), word(2)),
                        kb.select(mid, word(1), word(0)));
    Value shift = kb.shl(kb.andMask(code, 3), 3);
    return kb.sitofp(signed8(kb.shrDynamic(w, shift)));
  }

  KernelBuilder &kb;
  ImplicitLocOpBuilder &b;
  Value words, block, run;
};

SmallVector<Value, kGgmlRun> RunDecoder::decode(ggml::Type type) {
  switch (type) {
  case ggml::Type::Q4_0:
    return q4_0();
  case ggml::Type::Q4_1:
    return q4_1();
  case ggml::Type::Q5_0:
    return q5(/*affine=*/false);
  case ggml::Type::Q5_1:
    return q5(/*affine=*/true);
  case ggml::Type::Q8_0:
    return q8_0();
  case ggml::Type::Q2_K:
    return q2_K();
  case ggml::Type::Q3_K:
    return q3_K();
  case ggml::Type::Q4_K:
    return q4_K(/*fifthBit=*/false);
  case ggml::Type::Q5_K:
    return q4_K(/*fifthBit=*/true);
  case ggml::Type::Q6_K:
    return q6_K();
  case ggml::Type::IQ4_NL:
    return iq4_nl();
  case ggml::Type::IQ4_XS:
    return iq4_xs();
  case ggml::Type::TQ1_0:
    return tq1_0();
  case ggml::Type::TQ2_0:
    return tq2_0();
  }
  llvm_unreachable("every ggml block format has a decoder");
}

/// Q4_0: d at 0, nibbles at 2: w = (q - 8) d.
SmallVector<Value, kGgmlRun> RunDecoder::q4_0() {
  Value d = half(0);
  SmallVector<Value> q = wordsAt(2, 4);
  SmallVector<Value, kGgmlRun> y;
  for (int64_t e = 0; e < kGgmlRun; ++e)
    y.push_back(kb.fmul(kb.sitofp(subi(nibble(q, e), 8)), d));
  return y;
}

/// Q4_1: d at 0, m at 2, nibbles at 4: w = q d + m.
SmallVector<Value, kGgmlRun> RunDecoder::q4_1() {
  Value d = half(0), m = half(2);
  SmallVector<Value> q = wordsAt(4, 4);
  SmallVector<Value, kGgmlRun> y;
  for (int64_t e = 0; e < kGgmlRun; ++e)
    y.push_back(kb.fadd(kb.fmul(kb.uitofp(nibble(q, e)), d), m));
  return y;
}

/// Q5_0 (d, fifth bits at 2, nibbles at 6: w = (q - 16) d) and Q5_1 (d, m,
/// fifth bits at 4, nibbles at 8: w = q d + m). Bit j of the fifth-bit
/// word belongs to element j.
SmallVector<Value, kGgmlRun> RunDecoder::q5(bool affine) {
  Value d = half(0), m = affine ? half(2) : Value();
  int64_t bitsAt = affine ? 4 : 2;
  Value qh = wordsAt(bitsAt, 1)[0];
  SmallVector<Value> q = wordsAt(bitsAt + 4, 4);
  SmallVector<Value, kGgmlRun> y;
  for (int64_t e = 0; e < kGgmlRun; ++e) {
    Value code = ori(nibble(q, e), kb.shl(kb.andMask(kb.shr(qh, e), 1), 4));
    y.push_back(affine ? kb.fadd(kb.fmul(kb.uitofp(code), d), m)
                       : kb.fmul(kb.sitofp(subi(code, 16)), d));
  }
  return y;
}

/// Q8_0: d at 0, 32 int8 at 2: w = q d.
SmallVector<Value, kGgmlRun> RunDecoder::q8_0() {
  Value d = half(0);
  SmallVector<Value> q = wordsAt(2, 8);
  SmallVector<Value, kGgmlRun> y;
  for (int64_t e = 0; e < kGgmlRun; ++e)
    y.push_back(kb.fmul(kb.sitofp(signed8(byteOf(q, e))), d));
  return y;
}

/// Q2_K: scale/min bytes at 0, codes at 16, d at 80, dmin at 82. Run r
/// reads bytes 32 (r / 4) .. + 31 of the codes at shift 2 (r % 4); its two
/// halves have scale bytes 2r and 2r + 1: w = (d sc) q - dmin m.
SmallVector<Value, kGgmlRun> RunDecoder::q2_K() {
  Value d = half(80), dmin = half(82);
  SmallVector<Value> q = shiftAll(wordsAt(16, 8, kb.mul(kb.div(run, 4), 32)),
                                  kb.mul(kb.rem(run, 4), 2));
  Value scales = read16(kb, words, kb.add(block, kb.mul(run, 2)));
  Value dl[2], ml[2];
  for (int h = 0; h < 2; ++h) {
    Value sc = kb.andMask(kb.shr(scales, 8 * h), 0xff);
    dl[h] = kb.fmul(d, kb.uitofp(kb.andMask(sc, 0xF)));
    ml[h] = kb.fmul(dmin, kb.uitofp(kb.shr(sc, 4)));
  }
  SmallVector<Value, kGgmlRun> y;
  for (int64_t e = 0; e < kGgmlRun; ++e) {
    Value code = kb.andMask(byteOf(q, e), 3);
    y.push_back(kb.fsub(kb.fmul(dl[e / 16], kb.uitofp(code)), ml[e / 16]));
  }
  return y;
}

/// Q3_K: high-bit mask at 0, codes at 32, 12 bytes of 6-bit scales at 96,
/// d at 108. Run r: codes as Q2_K's, bit r of mask byte e, scales 2r and
/// 2r + 1 (low nibble from byte i % 8 at shift 4 (i / 8), high 2 bits from
/// byte 8 + i % 4 at shift 2 (i / 4), minus 32): w = (d sc) (q - 4 [no
/// mask bit]).
SmallVector<Value, kGgmlRun> RunDecoder::q3_K() {
  Value dAll = half(108);
  SmallVector<Value> mask = shiftAll(wordsAt(0, 8), run);
  SmallVector<Value> q = shiftAll(wordsAt(32, 8, kb.mul(kb.div(run, 4), 32)),
                                  kb.mul(kb.rem(run, 4), 2));
  SmallVector<Value> packed = wordsAt(96, 3);
  Value dl[2];
  for (int h = 0; h < 2; ++h) {
    Value i = kb.add(kb.mul(run, 2), h);
    Value low = kb.andMask(
        shrBy(byteAt(packed, kb.rem(i, 8)), kb.mul(kb.div(i, 8), 4)), 0xF);
    Value high = kb.andMask(
        shrBy(byteAt(packed, kb.add(kb.rem(i, 4), 8)), kb.mul(kb.div(i, 4), 2)),
        3);
    Value scale = subi(ori(low, kb.shl(high, 4)), 32);
    dl[h] = kb.fmul(dAll, kb.sitofp(scale));
  }
  SmallVector<Value, kGgmlRun> y;
  for (int64_t e = 0; e < kGgmlRun; ++e) {
    Value low = kb.andMask(byteOf(q, e), 3);
    Value bit = kb.andMask(byteOf(mask, e), 1);
    Value code = b.createOrFold<arith::AddIOp>(subi(low, 4), kb.shl(bit, 2));
    y.push_back(kb.fmul(dl[e / 16], kb.sitofp(code)));
  }
  return y;
}

/// Q4_K: d at 0, dmin at 2, 12 bytes of 6-bit scales and mins at 4,
/// nibbles at 16 (Q5_K: fifth bits at 16, nibbles at 48). Run r reads
/// bytes 32 (r / 2) .. + 31 of the nibbles, low or high by r % 2, and
/// (Q5_K) bit r of fifth-bit byte e; scale and min r as ggml's
/// get_scale_min_k4: w = (d sc) q - dmin m.
SmallVector<Value, kGgmlRun> RunDecoder::q4_K(bool fifthBit) {
  Value d = half(0), dmin = half(2);
  SmallVector<Value> s = wordsAt(4, 3);
  Value a = byteAt(s, run), c = byteAt(s, kb.add(run, 4)),
        e4 = byteAt(s, kb.rem(run, 4));
  Value first = kb.ult(run, 4);
  Value sc = kb.select(first, kb.andMask(a, 63),
                       ori(kb.andMask(c, 0xF), kb.shl(kb.shr(e4, 6), 4)));
  Value m = kb.select(first, kb.andMask(c, 63),
                      ori(kb.shr(c, 4), kb.shl(kb.shr(a, 6), 4)));
  Value d1 = kb.fmul(d, kb.uitofp(sc)), m1 = kb.fmul(dmin, kb.uitofp(m));
  int64_t codesAt = fifthBit ? 48 : 16;
  SmallVector<Value> q =
      shiftAll(wordsAt(codesAt, 8, kb.mul(kb.div(run, 2), 32)),
               kb.mul(kb.rem(run, 2), 4));
  SmallVector<Value> high;
  if (fifthBit)
    high = shiftAll(wordsAt(16, 8), run);
  SmallVector<Value, kGgmlRun> y;
  for (int64_t e = 0; e < kGgmlRun; ++e) {
    Value code = kb.andMask(byteOf(q, e), 0xF);
    if (fifthBit)
      code = ori(code, kb.shl(kb.andMask(byteOf(high, e), 1), 4));
    y.push_back(kb.fsub(kb.fmul(d1, kb.uitofp(code)), m1));
  }
  return y;
}

/// Q6_K: low nibbles at 0, high 2 bits at 128, int8 scales at 192, d at
/// 208. Run r (half h = r / 4, quarter u = r % 4): nibbles from bytes
/// 64 h + 32 (u % 2) + e at shift 4 (u / 2), high bits from byte
/// 128 + 32 h + e at shift 2 u, scales 2r and 2r + 1: w = (d sc) (q - 32).
SmallVector<Value, kGgmlRun> RunDecoder::q6_K() {
  Value d = half(208);
  Value h = kb.div(run, 4), u = kb.rem(run, 4);
  SmallVector<Value> ql = shiftAll(
      wordsAt(0, 8, kb.add(kb.mul(h, 64), kb.mul(kb.rem(u, 2), 32))),
      kb.mul(kb.div(u, 2), 4));
  SmallVector<Value> qh =
      shiftAll(wordsAt(128, 8, kb.mul(h, 32)), kb.mul(u, 2));
  Value scales = read16(kb, words, kb.add(kb.add(block, 192), kb.mul(run, 2)));
  Value dl[2];
  for (int i = 0; i < 2; ++i)
    dl[i] = kb.fmul(d, kb.sitofp(signed8(kb.shr(scales, 8 * i))));
  SmallVector<Value, kGgmlRun> y;
  for (int64_t e = 0; e < kGgmlRun; ++e) {
    Value code = ori(kb.andMask(byteOf(ql, e), 0xF),
                     kb.shl(kb.andMask(byteOf(qh, e), 3), 4));
    y.push_back(kb.fmul(dl[e / 16], kb.sitofp(subi(code, 32))));
  }
  return y;
}

/// IQ4_NL: d at 0, nibbles at 2 (Q4_0's order) into the grid: w = d g.
SmallVector<Value, kGgmlRun> RunDecoder::iq4_nl() {
  Value d = half(0);
  SmallVector<Value> q = wordsAt(2, 4);
  SmallVector<Value, kGgmlRun> y;
  for (int64_t e = 0; e < kGgmlRun; ++e)
    y.push_back(kb.fmul(d, grid(nibble(q, e))));
  return y;
}

/// IQ4_XS: d at 0, high scale bits (u16) at 2, low scale nibbles at 4,
/// nibbles at 8. Run r: scale nibble r of the low word and bits 2r, 2r + 1
/// of the high ones, minus 32; nibbles 16r .. + 15 in Q4_0's order:
/// w = (d ls) g.
SmallVector<Value, kGgmlRun> RunDecoder::iq4_xs() {
  Value d = half(0);
  Value scalesHigh = read16(kb, words, kb.add(block, 2));
  Value scalesLow = wordsAt(4, 1)[0];
  Value ls = ori(kb.andMask(shrBy(scalesLow, kb.mul(run, 4)), 0xF),
                 kb.shl(kb.andMask(shrBy(scalesHigh, kb.mul(run, 2)), 3), 4));
  Value dl = kb.fmul(d, kb.sitofp(subi(ls, 32)));
  SmallVector<Value> q = wordsAt(8, 4, kb.mul(run, 16));
  SmallVector<Value, kGgmlRun> y;
  for (int64_t e = 0; e < kGgmlRun; ++e)
    y.push_back(kb.fmul(dl, grid(nibble(q, e))));
  return y;
}

/// TQ1_0: 48 bytes of 5 trits at 0, 4 bytes of 4 trits at 48, d at 52.
/// Elements 0..159 are trit r of bytes 0..31 (runs 0-4); 160..239 trits
/// 0..4 of bytes 32..47, 16 a trit; 240..255 trits 0..3 of bytes 48..51,
/// 4 a trit. The n-th trit of byte p is ((p 3^n mod 256) 3) >> 8:
/// w = (t - 1) d.
SmallVector<Value, kGgmlRun> RunDecoder::tq1_0() {
  Value d = half(52);
  SmallVector<Value> first = wordsAt(0, 8), second = wordsAt(32, 4),
                     last = wordsAt(48, 1);
  Value r = kb.indexToI32(run);
  auto pow3 = [&](Value n) {
    Value p = kb.i32(1);
    for (int64_t i = 1, v = 3; i < 5; ++i, v *= 3)
      p = kb.select(kb.eq(n, i), kb.i32(v), p);
    return p;
  };
  auto i32mul2 = [&](int64_t minus) {
    return subi(b.createOrFold<arith::AddIOp>(r, r), minus);
  };
  Value inFirst = kb.ult(run, 5), isLast = kb.eq(run, 7);
  Value pFirst = pow3(r), pLow = pow3(i32mul2(10)), pHigh = pow3(i32mul2(9));
  SmallVector<Value, kGgmlRun> y;
  for (int64_t e = 0; e < kGgmlRun; ++e) {
    Value byte, p;
    if (e < 16) {
      byte = byteOf(second, e);
      p = pLow;
    } else {
      int64_t tail = e - 16;
      byte = kb.select(isLast, byteOf(last, tail % 4), byteOf(second, tail));
      int64_t lastPow = 1;
      for (int64_t i = 0; i < tail / 4; ++i)
        lastPow *= 3;
      p = kb.select(isLast, kb.i32(lastPow), pHigh);
    }
    byte = kb.select(inFirst, byteOf(first, e), byte);
    p = kb.select(inFirst, pFirst, p);
    Value scaled = kb.andMask(muli(byte, p), 0xff);
    Value trit = kb.shr(muli(scaled, kb.i32(3)), 8);
    y.push_back(kb.fmul(kb.sitofp(subi(trit, 1)), d));
  }
  return y;
}

/// TQ2_0: 2-bit codes at 0, d at 64. Run r reads bytes 32 (r / 4) .. + 31
/// at shift 2 (r % 4): w = (q - 1) d.
SmallVector<Value, kGgmlRun> RunDecoder::tq2_0() {
  Value d = half(64);
  SmallVector<Value> q = shiftAll(wordsAt(0, 8, kb.mul(kb.div(run, 4), 32)),
                                  kb.mul(kb.rem(run, 4), 2));
  SmallVector<Value, kGgmlRun> y;
  for (int64_t e = 0; e < kGgmlRun; ++e)
    y.push_back(
        kb.fmul(kb.sitofp(subi(kb.andMask(byteOf(q, e), 3), 1)), d));
  return y;
}

} // namespace

SmallVector<Value, kGgmlRun> decodeGgmlRun(KernelBuilder &kb,
                                           const ggml::BlockFormat &format,
                                           Value words, Value block,
                                           Value run) {
  return RunDecoder(kb, words, block, run).decode(format.type);
}

} // namespace fmc::gpu
