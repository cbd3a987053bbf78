//===- Float16.h - scalar f16 / bf16 conversions --------------------------===//
//
// Portable bit-level conversions for the scalar paths (tails, reference
// kernels, cache writes); the vector kernels convert with the ISA's
// instructions.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_RUNTIME_CPU_FLOAT16_H
#define FMC_RUNTIME_CPU_FLOAT16_H

#include <cstdint>
#include <cstring>

namespace fmc::cpu {

inline float bitsToFloat(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, sizeof(f));
  return f;
}

inline uint32_t floatToBits(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof(bits));
  return bits;
}

inline float bf16ToFloat(uint16_t h) {
  return bitsToFloat(static_cast<uint32_t>(h) << 16);
}

/// Round to nearest even; NaN stays NaN.
inline uint16_t floatToBf16(float f) {
  uint32_t bits = floatToBits(f);
  if ((bits & 0x7fffffffu) > 0x7f800000u)
    return static_cast<uint16_t>((bits >> 16) | 0x40);
  bits += 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>(bits >> 16);
}

inline float f16ToFloat(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exponent = (h >> 10) & 0x1fu;
  uint32_t mantissa = h & 0x3ffu;
  if (exponent == 0x1f)
    return bitsToFloat(sign | 0x7f800000u | (mantissa << 13));
  if (exponent == 0) {
    if (mantissa == 0)
      return bitsToFloat(sign);
    // Subnormal: value = mantissa * 2^-24.
    float value = static_cast<float>(mantissa) * (1.0f / 16777216.0f);
    return sign ? -value : value;
  }
  return bitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

/// Round to nearest even, with overflow to infinity.
inline uint16_t floatToF16(float f) {
  uint32_t bits = floatToBits(f);
  uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
  uint32_t abs = bits & 0x7fffffffu;
  if (abs > 0x7f800000u)
    return sign | 0x7e00u; // NaN
  if (abs >= 0x477ff000u)
    return sign | 0x7c00u; // Overflow (>= 65520 rounds to infinity).
  if (abs < 0x38800000u) {
    // Subnormal or zero: scale to units of 2^-24 and round to nearest even.
    float value = bitsToFloat(abs) * 16777216.0f;
    uint32_t units = static_cast<uint32_t>(value);
    float rest = value - static_cast<float>(units);
    if (rest > 0.5f || (rest == 0.5f && (units & 1u)))
      ++units;
    return sign | static_cast<uint16_t>(units);
  }
  uint32_t rounded = abs + 0xfffu + ((abs >> 13) & 1u);
  return sign | static_cast<uint16_t>((rounded - 0x38000000u) >> 13);
}

} // namespace fmc::cpu

#endif // FMC_RUNTIME_CPU_FLOAT16_H
