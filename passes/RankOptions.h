//===- RankOptions.h - the ranks/rank options of the partition passes -----===//
//
// fm-partition-tracks and fm-partition-tensor both keep rank `rank`'s share
// of a model split over `ranks` processes, and check those options, and
// that the model is not a part already, the same way.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_PASSES_RANKOPTIONS_H
#define FMC_PASSES_RANKOPTIONS_H

#include "passes/OptionNames.h"

#include "dialects/fm/IR/TrackPartition.h"

#include "mlir/IR/BuiltinOps.h"

namespace mlir::fm {

/// Fails with a diagnostic on `module` when `ranks` < 1, `rank` is outside
/// [0, ranks), or (for ranks > 1) the module is already partitioned.
inline LogicalResult checkRankOptions(ModuleOp module, int64_t ranks,
                                      int64_t rank, const OptionNames &names) {
  if (ranks < 1)
    return module.emitError()
           << names("ranks") << " must be 1 or more, got " << ranks;
  if (rank < 0 || rank >= ranks)
    return module.emitError() << names("rank") << " must be from 0 to "
                              << ranks - 1 << ", got " << rank;
  if (const char *partition = partitionAttrOf(module);
      partition && ranks > 1)
    return module.emitError() << "the model is already partitioned over "
                                 "ranks ("
                              << partition << ")";
  return success();
}

} // namespace mlir::fm

#endif // FMC_PASSES_RANKOPTIONS_H
