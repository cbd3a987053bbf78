//===- Kernels.h - the CPU backend's kernel functions ---------------------===//
//
// Every kernel family of the plan, as functions over raw row-major arrays.
// Activations are f32; weights and caches are f32, f16 or bf16 (ElementType)
// and are accumulated in f32.
//
// The hot loops (linear, dot, axpy) exist once per instruction set
// (SimdKernels.inc compiled for AVX-512, AVX2 and baseline x86-64) behind
// the SimdKernels table; the rest are plain loops the compiler vectorizes.
// The reference* functions are the obvious scalar definitions the tests
// compare the fast ones against.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_RUNTIME_CPU_KERNELS_H
#define FMC_RUNTIME_CPU_KERNELS_H

#include <cstdint>

namespace fmc::cpu {

enum class ElementType : uint8_t { F32 = 0, F16 = 1, BF16 = 2 };
constexpr int kElementTypes = 3;

inline int elementBytes(ElementType t) { return t == ElementType::F32 ? 4 : 2; }

/// Element `i` of an array of `type`, as f32.
float loadElement(const void *data, ElementType type, int64_t i);
/// Stores `value` as element `i` of an array of `type`.
void storeElement(void *data, ElementType type, int64_t i, float value);

/// y[t][n] = sum_k x[t][k] * w[n][k] + bias[n], for t in [t0, t1) and
/// n in [n0, n1). x rows are xStride floats apart, y rows yStride.
struct LinearArgs {
  const float *x;
  int64_t xStride;
  int64_t k;
  const void *w;     ///< [n][k] of the weight's element type.
  const float *bias; ///< May be null.
  float *y;
  int64_t yStride;
};

using LinearFn = void (*)(const LinearArgs &args, int64_t n0, int64_t n1,
                          int64_t t0, int64_t t1);
/// Tokens from which a LinearFn call multiplies as a GEMM over panels of
/// rows laid out once per call (FloatPanels.inc): its results then do not
/// depend on how rows and tokens are split, but differ by f32 rounding from
/// those of fewer tokens, which match one token's (decode's) exactly.
constexpr int64_t kFloatPanelMinTokens = 32;

/// Lays out one panel of that GEMM: rows [r0, r0 + rows) of a weight as
/// f32, feature by feature ([k][panelRows], panelRows a multiple of the
/// ISA's vector lanes), the lanes of rows past `rows` zero or -0 (their
/// outputs are never stored). A format the
/// float kernels do not read (packed low-bit rows) thus feeds the GEMM
/// decoded straight into its layout, without an f32 copy of the rows.
struct PanelSource {
  void (*fill)(const void *weights, int64_t r0, int rows, int panelRows,
               float *panel);
  const void *weights;
};
/// The float GEMM over panels the source fills (args.w unused), for any
/// token count; its results are fill's values times x, each one multiply-
/// add chain over k in order, then the bias, however the work is split.
using PanelLinearFn = void (*)(const PanelSource &source,
                               const LinearArgs &args, int64_t n0, int64_t n1,
                               int64_t t0, int64_t t1);
/// sum_i x[i] * w[i], w of some element type.
using DotFn = float (*)(const float *x, const void *w, int64_t n);
/// y[i] += a * w[i], w of some element type.
using AxpyFn = void (*)(float a, const void *w, float *y, int64_t n);

/// scores[i][j] = scale * sum_d q[i][d] * keys[d * stride + j], j < rows,
/// for each of `queries` queries (q rows headDim apart, scores rows
/// scoresStride apart) against consecutive positions of a feature-major
/// cache: the query heads of one KV head read its keys once. max[i] is
/// query i's largest score (the softmax's shift). A query's scores do not
/// depend on how many queries share the call.
using ScoresFn = void (*)(const float *q, int64_t queries, const void *keys,
                          int64_t stride, int64_t rows, int64_t headDim,
                          float scale, float *scores, int64_t scoresStride,
                          float *max);
/// out[i][d] += sum_j p[i][j] * values[d * stride + j], j < rows, for each
/// of `queries` queries (p rows pStride apart, out rows headDim apart),
/// reading the values once.
using MixFn = void (*)(const float *p, int64_t queries, int64_t pStride,
                       const void *values, int64_t stride, int64_t rows,
                       int64_t headDim, float *out);
/// x[i] = exp(x[i] - shift); returns the sum of the results.
using ExpSumFn = float (*)(float *x, int64_t n, float shift);
/// out[i] = silu(gate[i]) * up[i].
using SiluMulFn = void (*)(const float *gate, const float *up, float *out,
                           int64_t n);

/// The kernels of one instruction set, those taking weights or caches
/// indexed by their ElementType.
struct SimdKernels {
  const char *isa;
  LinearFn linear[kElementTypes];
  PanelLinearFn panelLinear;
  DotFn dot[kElementTypes];
  AxpyFn axpy[kElementTypes];
  ScoresFn scores[kElementTypes];
  MixFn mix[kElementTypes];
  ExpSumFn expSum;
  SiluMulFn siluMul;
};

const SimdKernels &avx512Kernels();
const SimdKernels &avx2Kernels();
const SimdKernels &genericKernels();
/// The best table this CPU runs.
const SimdKernels &bestKernels();

//===----------------------------------------------------------------------===//
// Row kernels (one call per token row unless noted)
//===----------------------------------------------------------------------===//

enum class Activation : uint8_t { Silu, Gelu, GeluTanh, Sigmoid, Relu };

float activate(Activation kind, float x);

/// y = x / sqrt(mean(x^2) + eps) * (w + offset) over groups of `group`;
/// w may be null (scale 1).
void rmsNorm(const float *x, float *y, int64_t width, int64_t group,
             const void *w, ElementType wType, float eps, float offset);

void layerNorm(const float *x, float *y, int64_t width, const void *w,
               const void *b, ElementType wType, ElementType bType, float eps);

/// RoPE of one row at `position`, every head of headDim, the first `rotary`
/// features; invFreq[i] for i < rotary/2 is theta^(-2i/rotary) or its scaled
/// replacement, and attentionFactor (YaRN's mscale) multiplies cos and sin.
void rope(const float *x, float *y, int64_t width, int64_t headDim,
          int64_t rotary, bool interleaved, const double *invFreq,
          float attentionFactor, int64_t position);

//===----------------------------------------------------------------------===//
// Reference kernels, for tests
//===----------------------------------------------------------------------===//

void referenceLinear(const float *x, int64_t rows, int64_t k, const void *w,
                     ElementType wType, int64_t n, const float *bias, float *y);

} // namespace fmc::cpu

#endif // FMC_RUNTIME_CPU_KERNELS_H
