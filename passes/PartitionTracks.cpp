//===- PartitionTracks.cpp - one rank's share of the parallel tracks ------===//
//
// Tracks exchange nothing inside a block, so splitting them over processes
// needs no change to a track's ops: a rank keeps its tracks' regions and
// the block's combine becomes a sum across ranks (fm-to-plan lowers it to
// plan.all_reduce). What the dropped regions named, weights and KV caches,
// is then dead, and dropUnusedDeclarations removes it, so each rank's
// artifact holds its own tracks' weights only.
//
//===----------------------------------------------------------------------===//

#include "passes/ModelStructure.h"
#include "passes/Passes.h"
#include "passes/RankOptions.h"

#include "dialects/fm/IR/FmOps.h"
#include "dialects/fm/IR/TrackPartition.h"

namespace mlir::fm {
#define GEN_PASS_DEF_PARTITIONTRACKS
#include "passes/Passes.h.inc"
} // namespace mlir::fm

using namespace mlir;
using namespace mlir::fm;

namespace {

struct PartitionTracksPass
    : public fm::impl::PartitionTracksBase<PartitionTracksPass> {
  using PartitionTracksBase::PartitionTracksBase;
  PartitionTracksPass(PartitionTracksOptions options, OptionNames names)
      : PartitionTracksBase(std::move(options)), names(std::move(names)) {}

  void runOnOperation() override {
    ModuleOp module = getOperation();
    int64_t ranks = this->ranks, rank = this->rank;
    if (failed(checkRankOptions(module, ranks, rank, names)))
      return signalPassFailure();
    if (ranks == 1)
      return;
    SmallVector<ParallelTracksOp> blocks;
    module.walk([&](ParallelTracksOp block) { blocks.push_back(block); });
    if (blocks.empty()) {
      module.emitError()
          << names("ranks") << " splits the tracks of fm.parallel_tracks "
          << "blocks over ranks (the AFM server model's parallel-track "
             "blocks), and this model has none";
      return signalPassFailure();
    }
    for (auto [index, block] : llvm::enumerate(blocks)) {
      int64_t tracks = block.getTracks().size();
      if (block.getRanks()) {
        block.emitOpError() << "is already split over " << *block.getRanks()
                            << " ranks";
        return signalPassFailure();
      }
      if (tracks % ranks != 0) {
        block.emitOpError() << "(block " << index << ") has " << tracks
                            << " tracks, which " << names("ranks") << " = "
                            << ranks << " does not divide: give a divisor of "
                            << tracks;
        return signalPassFailure();
      }
    }
    for (ParallelTracksOp block : blocks)
      keepTracksOfRank(block, ranks, rank);
    DroppedDeclarations dropped = dropUnusedDeclarations(module, false);
    numParamBytesDropped += dropped.paramBytes;
    module->setAttr(kTrackPartitionAttr,
                    DenseI64ArrayAttr::get(module.getContext(), {rank, ranks}));
  }

  /// Rebuilds `block` with this rank's contiguous share of its tracks.
  void keepTracksOfRank(ParallelTracksOp block, int64_t ranks, int64_t rank) {
    int64_t tracks = block.getTracks().size(), share = tracks / ranks;
    int64_t first = rank * share;
    OpBuilder builder(block);
    auto kept = ParallelTracksOp::create(
        builder, block.getLoc(), block.getResult().getType(),
        block.getCombineAttr(), block.getDepthAttr(),
        builder.getI64IntegerAttr(ranks), block.getInput(),
        /*tracksCount=*/share);
    kept->setDiscardableAttrs(block->getDiscardableAttrDictionary());
    for (int64_t i = 0; i < share; ++i)
      kept.getTracks()[i].takeBody(block.getTracks()[first + i]);
    block.getResult().replaceAllUsesWith(kept.getResult());
    block.erase();
    numTracksDropped += tracks - share;
  }

  OptionNames names;
};

} // namespace

std::unique_ptr<Pass>
mlir::fm::createPartitionTracks(PartitionTracksOptions options,
                                OptionNames names) {
  return std::make_unique<PartitionTracksPass>(std::move(options),
                                               std::move(names));
}
