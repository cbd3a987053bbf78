//===- TrackPartition.h - the module attributes of a rank's part ----------===//
//
// fm-partition-tracks marks the module of one rank's part with
// `fm.track_partition = array<i64: rank, ranks>`, fm-partition-tensor with
// `fm.tensor_partition = array<i64: rank, ranks>`; the artifact writer
// records either (schema TrackPartition, with its kind) so the runtime can
// check that each process runs the part of its rank in a world of that
// size. A module carries at most one of them: a part is never split again.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_DIALECTS_FM_IR_TRACKPARTITION_H
#define FMC_DIALECTS_FM_IR_TRACKPARTITION_H

#include "mlir/IR/BuiltinOps.h"

namespace mlir::fm {

inline constexpr char kTrackPartitionAttr[] = "fm.track_partition";
inline constexpr char kTensorPartitionAttr[] = "fm.tensor_partition";

/// The partition attribute `module` already carries, or null.
inline const char *partitionAttrOf(ModuleOp module) {
  for (const char *name : {kTrackPartitionAttr, kTensorPartitionAttr})
    if (module->hasAttr(name))
      return name;
  return nullptr;
}

} // namespace mlir::fm

#endif // FMC_DIALECTS_FM_IR_TRACKPARTITION_H
