//===- RingCacheSlack.cpp - ring KV caches with room for drafts -----------===//
//
// Speculative decoding rolls rejected proposals back by position: their
// keys and values stay in the cache past the accepted text and are
// overwritten later. A linear cache never reads them; a ring of exactly
// `window` slots has lost, to them, positions later queries still see. With
// `slots` more, the K <= slots positions written past the text overwrite
// only positions older than any later window.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "dialects/fm/IR/FmOps.h"

namespace mlir::fm {
#define GEN_PASS_DEF_RINGCACHESLACK
#include "passes/Passes.h.inc"
} // namespace mlir::fm

using namespace mlir;
using namespace mlir::fm;

namespace {

struct RingCacheSlackPass
    : public fm::impl::RingCacheSlackBase<RingCacheSlackPass> {
  using RingCacheSlackBase::RingCacheSlackBase;
  RingCacheSlackPass(RingCacheSlackOptions options, OptionNames names)
      : RingCacheSlackBase(std::move(options)), names(std::move(names)) {}

  void runOnOperation() override {
    ModuleOp module = getOperation();
    int64_t extra = slots;
    if (extra < 0) {
      module.emitError() << names("slots") << " must be 0 or more, got "
                         << extra;
      return signalPassFailure();
    }
    // The positions a generation reaches: a ring that would hold them all
    // is a linear cache of that many.
    int64_t context = 0;
    if (auto attr = module->getAttrOfType<IntegerAttr>("fm.context_length"))
      context = attr.getInt();
    for (KVCacheOp cache : module.getOps<KVCacheOp>()) {
      if (cache.getKind() != CacheKind::ring || extra == 0)
        continue;
      int64_t capacity = cache.getCapacity() + extra;
      if (context > 0 && capacity >= context) {
        cache.setKind(CacheKind::linear);
        capacity = context;
      }
      cache.setCapacity(capacity);
    }
  }

  OptionNames names;
};

} // namespace

std::unique_ptr<Pass>
mlir::fm::createRingCacheSlack(RingCacheSlackOptions options,
                               OptionNames names) {
  return std::make_unique<RingCacheSlackPass>(std::move(options),
                                              std::move(names));
}
