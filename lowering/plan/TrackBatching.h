//===- TrackBatching.h - batching parallel tracks' identical layers -------===//
//
// The T tracks of a parallel-tracks block usually have identical layers
// (same ops, shapes and attributes; only their weights and caches differ).
// fm-to-plan then lowers the block layer by layer across tracks and turns
// each set of T corresponding projections into one plan.grouped_linear over
// the tracks' weights stacked like experts ([T, out, in]).
//
//===----------------------------------------------------------------------===//

#ifndef FMC_LOWERING_PLAN_TRACKBATCHING_H
#define FMC_LOWERING_PLAN_TRACKBATCHING_H

#include "dialects/fm/IR/FmOps.h"

#include "mlir/IR/BuiltinOps.h"

namespace mlir::plan {

/// True when every track of `block` has track 0's ops in the same order,
/// with the same attributes (symbol references aside), result types and
/// dataflow: the tracks differ only in the parameters and caches they name.
bool tracksAreIdentical(fm::ParallelTracksOp block);

/// The stack of `linears`' weights ([T, out, in]) when they can share one
/// grouped kernel (bias-free, dense f32/f16/bf16 weights from files, equal
/// shapes and storage); declared after the last weight, or reused when an
/// identical stack exists. Null when they cannot.
fm::ParamOp stackTrackWeights(ArrayRef<fm::LinearOp> linears);

} // namespace mlir::plan

#endif // FMC_LOWERING_PLAN_TRACKBATCHING_H
