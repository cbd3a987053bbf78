//===- ModelStructure.h - what model passes share -------------------------===//
//
// Model passes speak of "layers": in fm a layer is the stretch of ops around
// one fm.attention, so the attention ops of a model, in program order, number
// its layers. Parallel-track models number layers within each track, across
// that track's blocks (AFM-CONFIGS.md).
//
//===----------------------------------------------------------------------===//

#ifndef FMC_PASSES_MODELSTRUCTURE_H
#define FMC_PASSES_MODELSTRUCTURE_H

#include "dialects/fm/IR/FmOps.h"

#include "mlir/Interfaces/FunctionInterfaces.h"

namespace mlir::fm {

/// The layer sequences of `function`: one sequence of attention ops for a
/// plain model, or one per track when it has fm.parallel_tracks blocks
/// (attention ops outside any block, if any, form a sequence of their own).
/// Fails with a diagnostic when blocks disagree on their number of tracks.
FailureOr<SmallVector<SmallVector<AttentionOp>>>
collectLayerSequences(FunctionOpInterface function);

/// Erases the ops defining `roots` that have become dead, and transitively
/// the ops only they used (a layer's K/V projection chain, say).
void eraseDeadProducers(ArrayRef<Value> roots);

/// What dropUnusedDeclarations removed.
struct DroppedDeclarations {
  int64_t params = 0;
  int64_t paramBytes = 0;
  int64_t caches = 0;
};

/// Erases the fm.param (and unless `keepCaches`, fm.kv_cache) declarations of
/// `module` that no op names.
DroppedDeclarations dropUnusedDeclarations(ModuleOp module, bool keepCaches);

} // namespace mlir::fm

#endif // FMC_PASSES_MODELSTRUCTURE_H
