//===- DropDeadParams.cpp - remove unreferenced params and caches ---------===//

#include "passes/ModelStructure.h"
#include "passes/Passes.h"

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
    DroppedDeclarations dropped =
        dropUnusedDeclarations(getOperation(), keepCaches);
    numParamsDropped += dropped.params;
    numParamBytesDropped += dropped.paramBytes;
    numCachesDropped += dropped.caches;
  }
};

} // namespace
