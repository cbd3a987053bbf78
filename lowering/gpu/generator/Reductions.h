//===- Reductions.h - sums and maxima across lanes of a workgroup ---------===//
//
// Subgroup reductions first (gpu.subgroup_reduce: warp shuffles on CUDA,
// OpGroupNonUniform* on SPIR-V), then one partial per subgroup through
// workgroup memory. The subgroup width is read at run time (8 on lavapipe,
// 32 on NVIDIA and Apple GPUs) and must be at least 8 and at most the
// width of the groups reduced. Every thread of the workgroup must call
// these (they contain barriers); each returns the result in every thread.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_LOWERING_GPU_GENERATOR_REDUCTIONS_H
#define FMC_LOWERING_GPU_GENERATOR_REDUCTIONS_H

#include "lowering/gpu/generator/KernelBuilder.h"

namespace fmc::gpu {

/// Partials `workgroupSize / 8` floats per reduced value must fit in
/// `partials`.
constexpr int64_t kPartialsPerValue(int64_t workgroupSize) {
  return workgroupSize / 8;
}

/// Sums (or maxima) of each of `values` over each team of `teamSize`
/// consecutive threads.
llvm::SmallVector<mlir::Value> teamReduce(KernelBuilder &kb,
                                          mlir::ValueRange values,
                                          mlir::Value partials,
                                          int64_t teamSize,
                                          int64_t workgroupSize, bool max);

/// The sum (or maximum) of `value` over the whole workgroup.
mlir::Value workgroupSum(KernelBuilder &kb, mlir::Value value,
                         mlir::Value partials, int64_t workgroupSize);
mlir::Value workgroupMax(KernelBuilder &kb, mlir::Value value,
                         mlir::Value partials, int64_t workgroupSize);

} // namespace fmc::gpu

#endif // FMC_LOWERING_GPU_GENERATOR_REDUCTIONS_H
