//===- GgmlDequant.cpp - ggml block formats decoded to f32 ----------------===//
//
// One decoder per block format, each the formula ggml's reference
// dequantization applies (block layouts as in ggml-common.h; sizes in
// runtime/GgmlBlocks.h). Loops run over runs of 16 or 32 consecutive
// outputs with one scale, so the compiler vectorizes them.
//
//===----------------------------------------------------------------------===//

#include "runtime/cpu/GgmlDequant.h"

#include "runtime/cpu/Float16.h"

#include <cstring>

namespace fmc::cpu {

namespace {

float half(const uint8_t *p) {
  uint16_t bits;
  std::memcpy(&bits, p, 2);
  return f16ToFloat(bits);
}

/// The 16 values of the IQ4_NL / IQ4_XS non-linear grid.
constexpr int8_t kIq4Grid[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                 1,    13,   25,  38,  53,  69,  89,  113};

/// Q4_0: d, then 16 bytes; byte j holds element j (low) and j + 16 (high).
void q4_0(const uint8_t *b, float *y) {
  float d = half(b);
  const uint8_t *q = b + 2;
  for (int j = 0; j < 16; ++j) {
    y[j] = static_cast<float>((q[j] & 0xF) - 8) * d;
    y[j + 16] = static_cast<float>((q[j] >> 4) - 8) * d;
  }
}

/// Q4_1: d, m, then nibbles as Q4_0: w = d q + m.
void q4_1(const uint8_t *b, float *y) {
  float d = half(b), m = half(b + 2);
  const uint8_t *q = b + 4;
  for (int j = 0; j < 16; ++j) {
    y[j] = static_cast<float>(q[j] & 0xF) * d + m;
    y[j + 16] = static_cast<float>(q[j] >> 4) * d + m;
  }
}

/// Q5_0: d, 32 fifth bits (bit j of the u32 for element j), nibbles.
void q5_0(const uint8_t *b, float *y) {
  float d = half(b);
  uint32_t qh;
  std::memcpy(&qh, b + 2, 4);
  const uint8_t *q = b + 6;
  for (int j = 0; j < 16; ++j) {
    int lo = (q[j] & 0xF) | (((qh >> j) << 4) & 0x10);
    int hi = (q[j] >> 4) | ((qh >> (j + 12)) & 0x10);
    y[j] = static_cast<float>(lo - 16) * d;
    y[j + 16] = static_cast<float>(hi - 16) * d;
  }
}

/// Q5_1: d, m, fifth bits, nibbles: w = d q + m.
void q5_1(const uint8_t *b, float *y) {
  float d = half(b), m = half(b + 2);
  uint32_t qh;
  std::memcpy(&qh, b + 4, 4);
  const uint8_t *q = b + 8;
  for (int j = 0; j < 16; ++j) {
    int lo = (q[j] & 0xF) | (((qh >> j) << 4) & 0x10);
    int hi = (q[j] >> 4) | ((qh >> (j + 12)) & 0x10);
    y[j] = static_cast<float>(lo) * d + m;
    y[j + 16] = static_cast<float>(hi) * d + m;
  }
}

/// Q8_0: d, 32 int8.
void q8_0(const uint8_t *b, float *y) {
  float d = half(b);
  const auto *q = reinterpret_cast<const int8_t *>(b + 2);
  for (int j = 0; j < 32; ++j)
    y[j] = static_cast<float>(q[j]) * d;
}

/// Q2_K: scales[16] (low nibble scale, high nibble min), qs[64], d, dmin.
/// Each 128-element half reads 32 bytes of codes at shifts 0, 2, 4, 6; each
/// shift gives two runs of 16 with their own scale and min.
void q2_K(const uint8_t *b, float *y) {
  const uint8_t *scales = b, *q = b + 16;
  float d = half(b + 80), dmin = half(b + 82);
  int is = 0;
  for (int n = 0; n < 256; n += 128, q += 32)
    for (int shift = 0; shift < 8; shift += 2)
      for (int half16 = 0; half16 < 2; ++half16) {
        uint8_t sc = scales[is++];
        float dl = d * static_cast<float>(sc & 0xF);
        float ml = dmin * static_cast<float>(sc >> 4);
        const uint8_t *qq = q + 16 * half16;
        for (int l = 0; l < 16; ++l)
          *y++ = dl * static_cast<float>((qq[l] >> shift) & 3) - ml;
      }
}

/// Q3_K: hmask[32], qs[64], 12 bytes of 16 6-bit scales, d. A code is its
/// 2 low bits minus 4 unless its hmask bit is set.
void q3_K(const uint8_t *b, float *y) {
  const uint8_t *hm = b, *q = b + 32, *packed = b + 96;
  float dAll = half(b + 108);
  // The 16 scales: low 4 bits from bytes 0-7 (nibbles), high 2 bits from
  // bytes 8-11, as ggml's kmask shuffle unpacks them.
  int8_t scales[16];
  for (int i = 0; i < 16; ++i) {
    int low = i < 8 ? packed[i] & 0xF : packed[i - 8] >> 4;
    int high = (packed[8 + i % 4] >> (2 * (i / 4))) & 3;
    scales[i] = static_cast<int8_t>((low | (high << 4)) - 32);
  }
  int is = 0;
  uint8_t m = 1;
  for (int n = 0; n < 256; n += 128, q += 32)
    for (int shift = 0; shift < 8; shift += 2, m <<= 1)
      for (int half16 = 0; half16 < 2; ++half16) {
        float dl = dAll * static_cast<float>(scales[is++]);
        const uint8_t *qq = q + 16 * half16, *hh = hm + 16 * half16;
        for (int l = 0; l < 16; ++l)
          *y++ = dl * static_cast<float>(((qq[l] >> shift) & 3) -
                                         ((hh[l] & m) ? 0 : 4));
      }
}

/// The 6-bit scale and min of sub-block j of a Q4_K / Q5_K block.
void scaleMinK4(int j, const uint8_t *q, uint8_t &d, uint8_t &m) {
  if (j < 4) {
    d = q[j] & 63;
    m = q[j + 4] & 63;
  } else {
    d = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
    m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
  }
}

/// Q4_K: d, dmin, scales[12], qs[128]; 64-element runs share 32 bytes
/// (low nibbles first, then high), each 32 with a scale and min.
void q4_K(const uint8_t *b, float *y) {
  float d = half(b), dmin = half(b + 2);
  const uint8_t *scales = b + 4, *q = b + 16;
  for (int is = 0; is < 8; is += 2, q += 32) {
    uint8_t sc, m;
    scaleMinK4(is, scales, sc, m);
    float d1 = d * sc, m1 = dmin * m;
    scaleMinK4(is + 1, scales, sc, m);
    float d2 = d * sc, m2 = dmin * m;
    for (int l = 0; l < 32; ++l)
      *y++ = d1 * static_cast<float>(q[l] & 0xF) - m1;
    for (int l = 0; l < 32; ++l)
      *y++ = d2 * static_cast<float>(q[l] >> 4) - m2;
  }
}

/// Q5_K: as Q4_K with a fifth bit per element in qh[32] (bit pair u1/u2
/// moving up two per 64 elements).
void q5_K(const uint8_t *b, float *y) {
  float d = half(b), dmin = half(b + 2);
  const uint8_t *scales = b + 4, *qh = b + 16, *ql = b + 48;
  uint8_t u1 = 1, u2 = 2;
  for (int is = 0; is < 8; is += 2, ql += 32, u1 <<= 2, u2 <<= 2) {
    uint8_t sc, m;
    scaleMinK4(is, scales, sc, m);
    float d1 = d * sc, m1 = dmin * m;
    scaleMinK4(is + 1, scales, sc, m);
    float d2 = d * sc, m2 = dmin * m;
    for (int l = 0; l < 32; ++l)
      *y++ = d1 * static_cast<float>((ql[l] & 0xF) + (qh[l] & u1 ? 16 : 0)) -
             m1;
    for (int l = 0; l < 32; ++l)
      *y++ = d2 * static_cast<float>((ql[l] >> 4) + (qh[l] & u2 ? 16 : 0)) -
             m2;
  }
}

/// Q6_K: ql[128], qh[64], int8 scales[16], d; w = d * scale * (q - 32).
void q6_K(const uint8_t *b, float *y) {
  const uint8_t *ql = b, *qh = b + 128;
  const auto *sc = reinterpret_cast<const int8_t *>(b + 192);
  float d = half(b + 208);
  for (int n = 0; n < 256; n += 128, y += 128, ql += 64, qh += 32, sc += 8)
    for (int l = 0; l < 32; ++l) {
      int is = l / 16;
      int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
      int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
      int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
      int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
      y[l] = d * sc[is] * static_cast<float>(q1);
      y[l + 32] = d * sc[is + 2] * static_cast<float>(q2);
      y[l + 64] = d * sc[is + 4] * static_cast<float>(q3);
      y[l + 96] = d * sc[is + 6] * static_cast<float>(q4);
    }
}

/// IQ4_NL: d, nibbles (as Q4_0) indexing the non-linear grid.
void iq4_nl(const uint8_t *b, float *y) {
  float d = half(b);
  const uint8_t *q = b + 2;
  for (int j = 0; j < 16; ++j) {
    y[j] = d * static_cast<float>(kIq4Grid[q[j] & 0xF]);
    y[j + 16] = d * static_cast<float>(kIq4Grid[q[j] >> 4]);
  }
}

/// IQ4_XS: d, scales_h (u16), scales_l[4], qs[128]; 8 runs of 32, each
/// with a 6-bit scale (minus 32) and IQ4_NL nibbles.
void iq4_xs(const uint8_t *b, float *y) {
  float d = half(b);
  uint16_t scalesHigh;
  std::memcpy(&scalesHigh, b + 2, 2);
  const uint8_t *scalesLow = b + 4, *q = b + 8;
  for (int ib = 0; ib < 8; ++ib, y += 32, q += 16) {
    int ls = ((scalesLow[ib / 2] >> (4 * (ib % 2))) & 0xF) |
             (((scalesHigh >> (2 * ib)) & 3) << 4);
    float dl = d * static_cast<float>(ls - 32);
    for (int j = 0; j < 16; ++j) {
      y[j] = dl * static_cast<float>(kIq4Grid[q[j] & 0xF]);
      y[j + 16] = dl * static_cast<float>(kIq4Grid[q[j] >> 4]);
    }
  }
}

/// The n-th base-3 digit (most significant first) of a byte holding 5 (or
/// 4) trits scaled into 0..255, as ggml's TQ1_0 packing stores them.
int trit(uint8_t packed, int n) {
  static constexpr uint8_t kPow3[5] = {1, 3, 9, 27, 81};
  uint8_t q = static_cast<uint8_t>(packed * kPow3[n]);
  return (static_cast<uint16_t>(q) * 3) >> 8;
}

/// TQ1_0: qs[48] (5 trits a byte: 32 bytes x 5, then 16 x 5), qh[4] (4
/// trits a byte), d: w = d (t - 1).
void tq1_0(const uint8_t *b, float *y) {
  const uint8_t *qs = b, *qh = b + 48;
  float d = half(b + 52);
  for (int n = 0; n < 5; ++n)
    for (int m = 0; m < 32; ++m)
      *y++ = static_cast<float>(trit(qs[m], n) - 1) * d;
  for (int n = 0; n < 5; ++n)
    for (int m = 0; m < 16; ++m)
      *y++ = static_cast<float>(trit(qs[32 + m], n) - 1) * d;
  for (int n = 0; n < 4; ++n)
    for (int m = 0; m < 4; ++m)
      *y++ = static_cast<float>(trit(qh[m], n) - 1) * d;
}

/// TQ2_0: qs[64], d; two 128-element halves of 32 bytes at shifts 0..6:
/// w = d (q - 1).
void tq2_0(const uint8_t *b, float *y) {
  const uint8_t *qs = b;
  float d = half(b + 64);
  for (int j = 0; j < 64; j += 32)
    for (int shift = 0; shift < 8; shift += 2)
      for (int m = 0; m < 32; ++m)
        *y++ = static_cast<float>(((qs[j + m] >> shift) & 3) - 1) * d;
}

using BlockDecoder = void (*)(const uint8_t *block, float *out);

BlockDecoder decoderFor(ggml::Type type) {
  switch (type) {
  case ggml::Type::Q4_0:
    return q4_0;
  case ggml::Type::Q4_1:
    return q4_1;
  case ggml::Type::Q5_0:
    return q5_0;
  case ggml::Type::Q5_1:
    return q5_1;
  case ggml::Type::Q8_0:
    return q8_0;
  case ggml::Type::Q2_K:
    return q2_K;
  case ggml::Type::Q3_K:
    return q3_K;
  case ggml::Type::Q4_K:
    return q4_K;
  case ggml::Type::Q5_K:
    return q5_K;
  case ggml::Type::Q6_K:
    return q6_K;
  case ggml::Type::IQ4_NL:
    return iq4_nl;
  case ggml::Type::IQ4_XS:
    return iq4_xs;
  case ggml::Type::TQ1_0:
    return tq1_0;
  case ggml::Type::TQ2_0:
    return tq2_0;
  }
  return nullptr;
}

} // namespace

void dequantizeGgml(const ggml::BlockFormat &format, const uint8_t *src,
                    int64_t blocks, float *dst) {
  BlockDecoder decode = decoderFor(format.type);
  for (int64_t i = 0; i < blocks; ++i)
    decode(src + i * format.bytes, dst + i * format.elements);
}

} // namespace fmc::cpu
