//===- Moe.h - the fused mixture-of-experts kernel ------------------------===//
//
// plan.moe on the CPU. Decode reads the router and only the selected
// experts' rows of the stacked weights; prefill groups the run's tokens by
// expert, and each projection is one grouped matmul (one parallel region
// over every selected expert's rows). The routing (scores, top-k with ties
// to the lower index, renormalization) and the order of the weighted sum are
// those of moe_route + moe_combine, so the fused and unfused forms agree to
// rounding.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_RUNTIME_CPU_MOE_H
#define FMC_RUNTIME_CPU_MOE_H

#include "runtime/cpu/Program.h"
#include "runtime/cpu/QuantKernels.h"

#include <memory>
#include <vector>

namespace fmc::cpu {

/// A weight in memory with its element type; `packed` (codes set) when
/// the weight is in the packed 2-/4-bit layout instead: a stack's packed
/// view spans every expert's rows ([experts * rows, k]), and the kernel
/// takes each selected expert's slice of codes, scales and minimums.
struct WeightRef {
  const void *data = nullptr;
  ElementType type = ElementType::F32;
  QuantWeights packed{};
  bool isPacked() const { return packed.codes != nullptr; }
};

struct MoeShape {
  int64_t width = 0;       ///< hidden size
  int64_t experts = 0;     ///< router rows
  int64_t inter = 0;       ///< each expert's intermediate size
  int64_t sharedInter = 0; ///< the shared expert's, 0 without one
  int64_t topK = 0;
  int64_t maxTokens = 0; ///< rows of the program's largest run
};

struct MoeWeights {
  WeightRef router;       ///< [experts, width]
  WeightRef gateUp;       ///< [experts, 2 * inter, width]
  WeightRef down;         ///< [experts, width, inter]
  WeightRef sharedGateUp; ///< [2 * sharedInter, width] or null
  WeightRef sharedDown;   ///< [width, sharedInter] or null
  WeightRef sharedGate;   ///< [1, width] or null
};

/// Working memory the MoE kernels of one program share (they run one after
/// another): grown at bind time to the largest kernel's need.
using MoeWorkspace = std::shared_ptr<std::vector<float>>;

std::unique_ptr<KernelInstance>
makeMoe(const MoeShape &shape, const MoeWeights &weights, Activation activation,
        bool softmax, bool normalize, const float *in, float *out,
        const MoeWorkspace &workspace);

/// The same with packed expert weights allowed (gateUp, down and the shared
/// expert's projections): their products run on the packed-weight kernels
/// (QuantKernels.h) over each selected expert's slice, activations
/// quantized once per projection in `quantScratch`, which the program's
/// packed kernels share. No dequantized copy of a weight is made.
std::unique_ptr<KernelInstance>
makeMoe(const MoeShape &shape, const MoeWeights &weights, Activation activation,
        bool softmax, bool normalize, const float *in, float *out,
        const MoeWorkspace &workspace,
        const std::shared_ptr<QuantActivations> &quantScratch);

/// Expert e's [rows, k] slice of a packed stack [experts * rows, k].
QuantWeights packedExpert(const QuantWeights &stack, int64_t e, int64_t rows);

/// Floats of workspace a kernel of `shape` needs.
int64_t moeWorkspaceFloats(const MoeShape &shape);

} // namespace fmc::cpu

#endif // FMC_RUNTIME_CPU_MOE_H
