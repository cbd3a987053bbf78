//===- DropDeadParams.cpp - remove unreferenced params and caches ---------===//

#include "passes/Passes.h"

#include "dialects/fm/IR/FmOps.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/DenseSet.h"

namespace mlir::fm {
#define GEN_PASS_DEF_DROPDEADPARAMS
#include "passes/Passes.h.inc"
} // namespace mlir::fm

using namespace mlir;
using namespace mlir::fm;

namespace {

struct DropDeadParamsPass
    : public fm::impl::DropDeadParamsBase<DropDeadParamsPass> {
  using DropDeadParamsBase::DropDeadParamsBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();

    // One walk collects every symbol any op names; declarations outside that
    // set are dead. (Params and caches never name each other.)
    DenseSet<StringAttr> referenced;
    module.walk([&](Operation *op) {
      if (isa<ParamOp, KVCacheOp>(op))
        return;
      std::optional<SymbolTable::UseRange> uses =
          SymbolTable::getSymbolUses(op);
      if (!uses)
        return;
      for (const SymbolTable::SymbolUse &use : *uses)
        referenced.insert(use.getSymbolRef().getRootReference());
    });

    for (Operation &op : llvm::make_early_inc_range(*module.getBody())) {
      if (auto param = dyn_cast<ParamOp>(op)) {
        if (referenced.contains(param.getSymNameAttr()))
          continue;
        ++numParamsDropped;
        numParamBytesDropped += param.getStorageBytes();
        param.erase();
      } else if (auto cache = dyn_cast<KVCacheOp>(op)) {
        if (keepCaches || referenced.contains(cache.getSymNameAttr()))
          continue;
        ++numCachesDropped;
        cache.erase();
      }
    }
  }
};

} // namespace
