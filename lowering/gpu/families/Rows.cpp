//===- Rows.cpp - plan.track_combine and plan.last_row on the GPU ---------===//
//
// kernels/rows.mlir. A combine of G tracks is G - 1 pairwise sums in track
// order, the last scaled by 1 / G for a mean: the CPU backend's order.

#include "lowering/gpu/families/Families.h"
#include "lowering/gpu/families/WeightLayout.h"

#include "dialects/plan/IR/PlanOps.h"

namespace fmc::gpu {

namespace {
constexpr uint32_t kThreads = 256;
} // namespace

llvm::Error lowerTrackCombine(mlir::Operation *kernel, LaunchBuilder &b) {
  auto op = llvm::cast<mlir::plan::TrackCombineOp>(kernel);
  auto tracks = op.getTracks();
  if (tracks.empty())
    return llvm::createStringError("plan.track_combine has no tracks");
  int64_t width = widthOf(op.getOutput());
  double scale = op.getCombine() == mlir::fm::TrackCombine::mean
                     ? 1.0 / static_cast<double>(tracks.size())
                     : 1.0;
  std::array<uint32_t, 3> grid =
      gridFor(groupsFor(b.maxTokens() * width, kThreads));
  Binding out = b.buffer(op.getOutput());
  if (tracks.size() == 1) // (t + t) * s / 2 = t * s exactly.
    return b.dispatch("track_sum", {width, scale / 2, b.rowsSlot()},
                      {kThreads, 1, 1}, grid,
                      {b.buffer(tracks[0]), b.buffer(tracks[0]), out, b.run()});
  for (size_t g = 1; g < tracks.size(); ++g) {
    Binding lhs = g == 1 ? b.buffer(tracks[0]) : out;
    double s = g + 1 == tracks.size() ? scale : 1.0;
    if (llvm::Error err = b.dispatch("track_sum", {width, s, b.rowsSlot()},
                                     {kThreads, 1, 1}, grid,
                                     {lhs, b.buffer(tracks[g]), out, b.run()}))
      return err;
  }
  return llvm::Error::success();
}

llvm::Error lowerLastRow(mlir::Operation *kernel, LaunchBuilder &b) {
  auto op = llvm::cast<mlir::plan::LastRowOp>(kernel);
  int64_t width = widthOf(op.getInput());
  // This kernel reads the whole run's row count; the ones after it, one row.
  if (llvm::Error err = b.dispatch(
          "last_row", {width, b.rowsSlot()}, {kThreads, 1, 1},
          gridFor(groupsFor(width, kThreads)),
          {b.buffer(op.getInput()), b.buffer(op.getPositions()),
           b.buffer(op.getOutput()), b.buffer(op.getOutputPositions()),
           b.run()}))
    return err;
  b.startLastRowPhase();
  return llvm::Error::success();
}

} // namespace fmc::gpu
