//===- ExpertGemm.h - a mixture-of-experts projection as a grouped GEMM ---===//
//
// The prefill of a fused plan.moe's expert projections on matrix units: one
// generated matvec kernel (generator/MatvecMma.cpp) with expert groups
// (MatvecKernel.h MatvecExpertGroups), whose workgroup (x, e, z) multiplies
// row tile x of expert e's slice of the stack with the tokens moe_group
// listed for e, 16-token by 8-row tiles. Only the selected experts' rows are
// read; an expert no slot picked exits at once. The shared expert is the
// same kernel without lists: its rows over the run's rows.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_LOWERING_GPU_FAMILIES_EXPERTGEMM_H
#define FMC_LOWERING_GPU_FAMILIES_EXPERTGEMM_H

#include "lowering/gpu/LaunchBuilder.h"

#include "llvm/Support/Error.h"

#include <cstdint>
#include <optional>

namespace fmc::gpu {

struct ExpertGemm {
  /// The stack [experts, rows, k]: gate_up (2 * inter rows, gate first) or
  /// down.
  mlir::FlatSymbolRefAttr weight;
  /// Input rows (x per token, or per slot with `slotInput`) and the output
  /// per slot.
  Binding input, output;
  /// moe_group's lists; absent: one expert (the shared expert) over every
  /// row of the run, its slots the rows.
  std::optional<Binding> lists;
  int64_t experts = 1, topK = 1;
  bool slotInput = false;
  /// A gate_up stack whose GLU (this activation code) is fused: the output
  /// is act(gate) * up, inter features per slot.
  std::optional<int64_t> gluActivation;
};

/// Why `weight`'s projections cannot run on matrix units (the weight is not
/// f16, bf16 or 2-/4-bit codes, or K does not tile); empty when they can.
std::string expertGemmUnfit(LaunchBuilder &b, mlir::FlatSymbolRefAttr weight);

/// Records the grouped GEMM's launch.
llvm::Error lowerExpertGemm(LaunchBuilder &b, const ExpertGemm &gemm);

} // namespace fmc::gpu

#endif // FMC_LOWERING_GPU_FAMILIES_EXPERTGEMM_H
