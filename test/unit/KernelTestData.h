//===- KernelTestData.h - inputs and references for kernel tests ----------===//
//
// Shared by the runtime, quantization and MoE kernel tests: seeded random
// inputs (so a failure reproduces) and the scalar functions references use.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_TEST_UNIT_KERNELTESTDATA_H
#define FMC_TEST_UNIT_KERNELTESTDATA_H

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

namespace fmc::test {

/// n values uniform in [-1, 1), the same for the same seed.
inline std::vector<float> randomFloats(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float &x : v)
    x = dist(rng);
  return v;
}

inline float silu(float x) { return x / (1.0f + std::exp(-x)); }

} // namespace fmc::test

#endif // FMC_TEST_UNIT_KERNELTESTDATA_H
