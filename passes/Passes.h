//===- Passes.h - fm model passes -----------------------------------------===//

#ifndef FMC_PASSES_PASSES_H
#define FMC_PASSES_PASSES_H

#include "passes/OptionNames.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::fm {

#define GEN_PASS_DECL
#include "passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"

/// The passes whose diagnostics name their options, created with the names
/// a driver gives those options (OptionNames.h).
std::unique_ptr<Pass>
createInterleaveAttention(InterleaveAttentionOptions options,
                          OptionNames names);
std::unique_ptr<Pass> createShareKVCache(ShareKVCacheOptions options,
                                         OptionNames names);
std::unique_ptr<Pass> createQuantizeKVCache(QuantizeKVCacheOptions options,
                                            OptionNames names);
std::unique_ptr<Pass> createQuantizeWeights(QuantizeWeightsOptions options,
                                            OptionNames names);
std::unique_ptr<Pass> createAddLoraSlots(AddLoraSlotsOptions options,
                                         OptionNames names);
std::unique_ptr<Pass> createRingCacheSlack(RingCacheSlackOptions options,
                                           OptionNames names);
std::unique_ptr<Pass> createPartitionTracks(PartitionTracksOptions options,
                                            OptionNames names);
std::unique_ptr<Pass> createPartitionTensor(PartitionTensorOptions options,
                                            OptionNames names);

/// Registers every fm pass and the named pipelines built from them.
void registerFmPassesAndPipelines();

} // namespace mlir::fm

#endif // FMC_PASSES_PASSES_H
