//===- TrackPartition.h - the module attribute of a track-parallel part ---===//
//
// fm-partition-tracks marks the module of one rank's part with
// `fm.track_partition = array<i64: rank, ranks>`; the artifact writer
// records it (schema TrackPartition) so the runtime can check that each
// process runs the part of its rank in a world of that size.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_DIALECTS_FM_IR_TRACKPARTITION_H
#define FMC_DIALECTS_FM_IR_TRACKPARTITION_H

namespace mlir::fm {

inline constexpr char kTrackPartitionAttr[] = "fm.track_partition";

} // namespace mlir::fm

#endif // FMC_DIALECTS_FM_IR_TRACKPARTITION_H
