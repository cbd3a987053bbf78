//===- Transpose16.h - 16 x 16 transpose of 32-bit lanes --------*- C++ -*-===//
//
// AVX-512 only: included by the kernel copies compiled for it, to lay out
// panels with rows in the lanes (FloatPanels.inc, QuantPanels.inc).
//
//===----------------------------------------------------------------------===//

#ifndef FMC_RUNTIME_CPU_TRANSPOSE16_H
#define FMC_RUNTIME_CPU_TRANSPOSE16_H

#include <immintrin.h>

namespace fmc::cpu {

/// m[i] = column i of the 16 x 16 matrix whose rows were m[0..16).
[[gnu::always_inline]] inline void transpose16(__m512 m[16]) {
  __m512 t[16];
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_ps(m[i], m[i + 1]);
    t[i + 1] = _mm512_unpackhi_ps(m[i], m[i + 1]);
  }
  for (int i = 0; i < 16; i += 4) {
    m[i] = _mm512_shuffle_ps(t[i], t[i + 2], 0x44);
    m[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], 0xee);
    m[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0x44);
    m[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0xee);
  }
  for (int i = 0; i < 4; ++i) {
    t[i] = _mm512_shuffle_f32x4(m[i], m[i + 4], 0x88);
    t[i + 4] = _mm512_shuffle_f32x4(m[i], m[i + 4], 0xdd);
    t[i + 8] = _mm512_shuffle_f32x4(m[i + 8], m[i + 12], 0x88);
    t[i + 12] = _mm512_shuffle_f32x4(m[i + 8], m[i + 12], 0xdd);
  }
  for (int i = 0; i < 4; ++i) {
    m[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
    m[i + 4] = _mm512_shuffle_f32x4(t[i + 4], t[i + 12], 0x88);
    m[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xdd);
    m[i + 12] = _mm512_shuffle_f32x4(t[i + 4], t[i + 12], 0xdd);
  }
}

/// The same for 32-bit integers.
[[gnu::always_inline]] inline void transpose16(__m512i m[16]) {
  __m512 f[16];
  for (int i = 0; i < 16; ++i)
    f[i] = _mm512_castsi512_ps(m[i]);
  transpose16(f);
  for (int i = 0; i < 16; ++i)
    m[i] = _mm512_castps_si512(f[i]);
}

} // namespace fmc::cpu

#endif // FMC_RUNTIME_CPU_TRANSPOSE16_H
