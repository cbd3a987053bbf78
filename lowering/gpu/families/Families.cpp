//===- Families.cpp - plan kernel op -> its GPU lowering ------------------===//

#include "lowering/gpu/families/Families.h"

#include "dialects/plan/IR/PlanOps.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/ADT/Twine.h"

#include <utility>

namespace fmc::gpu {

llvm::Error lowerKernel(mlir::Operation *kernel, LaunchBuilder &builder) {
  using Lowering = llvm::Error (*)(mlir::Operation *, LaunchBuilder &);
  // Append one line per family.
  static const std::pair<llvm::StringLiteral, Lowering> families[] = {
      {mlir::plan::EmbeddingOp::getOperationName(), lowerEmbedding},
      {mlir::plan::TrackCombineOp::getOperationName(), lowerTrackCombine},
      {mlir::plan::LastRowOp::getOperationName(), lowerLastRow},
      {mlir::plan::AttentionOp::getOperationName(), lowerAttention},
      {mlir::plan::KVAppendOp::getOperationName(), lowerKvAppend},
      {mlir::plan::MoeRouteOp::getOperationName(), lowerMoeRoute},
      {mlir::plan::MoeCombineOp::getOperationName(), lowerMoeCombine},
      {mlir::plan::MoeOp::getOperationName(), lowerMoe},
      {mlir::plan::AllReduceOp::getOperationName(), lowerAllReduce},
  };
  llvm::StringRef name = kernel->getName().getStringRef();
  for (const auto &[family, lowering] : families)
    if (family == name)
      return lowering(kernel, builder);
  return llvm::createStringError("kernel family '" + name +
                                 "' has no GPU library kernel");
}

llvm::Error lowerDispatch(mlir::plan::DispatchOp dispatch,
                          LaunchBuilder &builder) {
  mlir::Attribute config = dispatch.getConfig();
  mlir::Operation *first = *dispatch.getKernels().begin();
  if (llvm::isa<mlir::plan::MatvecConfigAttr>(config))
    return lowerMatvec(dispatch, builder);
  if (llvm::isa<mlir::plan::RowwiseConfigAttr>(config))
    return lowerRowwise(dispatch, builder);
  if (auto decode = llvm::dyn_cast<mlir::plan::DecodeAttentionConfigAttr>(config))
    return lowerDecodeAttention(first, builder, decode.getSplits());
  return lowerKernel(first, builder);
}

int64_t activationCode(mlir::fm::Activation kind) {
  switch (kind) {
  case mlir::fm::Activation::silu:
    return 0;
  case mlir::fm::Activation::gelu:
    return 1;
  case mlir::fm::Activation::gelu_tanh:
    return 2;
  case mlir::fm::Activation::sigmoid:
    return 3;
  case mlir::fm::Activation::relu:
    return 4;
  }
  return 0;
}

} // namespace fmc::gpu
