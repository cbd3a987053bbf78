//===- KvAppend.cpp - plan.kv_append on the GPU ---------------------------===//
//
// A cache writer split from its attention (fm-to-plan): kernels/
// attention.mlir's kv_append, once for the keys and once for the values.
// Where a matvec computes the k and v rows, the append is that matvec's
// epilogue instead (generator/MatvecEpilogues.cpp) and this is not used.
//
//===----------------------------------------------------------------------===//

#include "lowering/gpu/families/AttentionCache.h"
#include "lowering/gpu/families/Families.h"

namespace fmc::gpu {

llvm::Error lowerKvAppend(mlir::Operation *kernel, LaunchBuilder &b) {
  auto op = llvm::cast<mlir::plan::KVAppendOp>(kernel);
  return dispatchKvAppend(b, op.getK(), op.getV(), op.getPositions(),
                          op.getCacheAttr());
}

} // namespace fmc::gpu
