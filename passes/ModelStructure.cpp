//===- ModelStructure.cpp - what model passes share -----------------------===//

#include "passes/ModelStructure.h"

#include "mlir/IR/SymbolTable.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/DenseSet.h"

using namespace mlir;
using namespace mlir::fm;

FailureOr<SmallVector<SmallVector<AttentionOp>>>
mlir::fm::collectLayerSequences(FunctionOpInterface function) {
  SmallVector<AttentionOp> outside;
  SmallVector<SmallVector<AttentionOp>> tracks;
  ParallelTracksOp firstBlock;
  LogicalResult status = success();
  function->walk<WalkOrder::PreOrder>([&](Operation *op) {
    if (auto block = dyn_cast<ParallelTracksOp>(op)) {
      if (!firstBlock) {
        firstBlock = block;
        tracks.resize(block.getTracks().size());
      } else if (block.getTracks().size() != tracks.size()) {
        status = block.emitOpError()
                 << "has " << block.getTracks().size()
                 << " tracks but an earlier block has " << tracks.size();
        return WalkResult::interrupt();
      }
      for (auto [index, track] : llvm::enumerate(block.getTracks()))
        track.walk([&](AttentionOp attention) {
          tracks[index].push_back(attention);
        });
      return WalkResult::skip();
    }
    if (auto attention = dyn_cast<AttentionOp>(op))
      outside.push_back(attention);
    return WalkResult::advance();
  });
  if (failed(status))
    return failure();
  if (!outside.empty())
    tracks.insert(tracks.begin(), std::move(outside));
  return tracks;
}

void mlir::fm::eraseDeadProducers(ArrayRef<Value> roots) {
  SmallVector<Operation *> worklist;
  for (Value root : roots)
    if (Operation *op = root.getDefiningOp())
      worklist.push_back(op);
  DenseSet<Operation *> erased;
  while (!worklist.empty()) {
    Operation *op = worklist.pop_back_val();
    if (erased.contains(op) || !isOpTriviallyDead(op))
      continue;
    for (Value operand : op->getOperands())
      if (Operation *producer = operand.getDefiningOp())
        worklist.push_back(producer);
    erased.insert(op);
    op->erase();
  }
}

DroppedDeclarations mlir::fm::dropUnusedDeclarations(ModuleOp module,
                                                     bool keepCaches) {
  // Symbols named by ops that compute, then the parts of live stacks
  // (a stack's parts supply its bytes); declarations outside are dead.
  DenseSet<StringAttr> referenced;
  module.walk([&](Operation *op) {
    if (isa<ParamOp, KVCacheOp>(op))
      return;
    if (std::optional<SymbolTable::UseRange> uses =
            SymbolTable::getSymbolUses(op))
      for (const SymbolTable::SymbolUse &use : *uses)
        referenced.insert(use.getSymbolRef().getRootReference());
  });
  for (ParamOp param : module.getOps<ParamOp>())
    if (param.isStack() && referenced.contains(param.getSymNameAttr()))
      for (Attribute part : param.getPartsAttr())
        referenced.insert(cast<FlatSymbolRefAttr>(part).getAttr());

  DroppedDeclarations dropped;
  for (Operation &op : llvm::make_early_inc_range(*module.getBody())) {
    if (auto param = dyn_cast<ParamOp>(op)) {
      if (referenced.contains(param.getSymNameAttr()))
        continue;
      ++dropped.params;
      dropped.paramBytes += param.getStorageBytes();
      param.erase();
    } else if (auto cache = dyn_cast<KVCacheOp>(op)) {
      if (keepCaches || referenced.contains(cache.getSymNameAttr()))
        continue;
      ++dropped.caches;
      cache.erase();
    }
  }
  return dropped;
}
