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
      {mlir::plan::AddOp::getOperationName(), lowerElementwise},
      {mlir::plan::MulOp::getOperationName(), lowerElementwise},
      {mlir::plan::EmbeddingOp::getOperationName(), lowerEmbedding},
      {mlir::plan::RMSNormOp::getOperationName(), lowerRmsNorm},
      {mlir::plan::LayerNormOp::getOperationName(), lowerLayerNorm},
      {mlir::plan::RopeOp::getOperationName(), lowerRope},
      {mlir::plan::ActivationOp::getOperationName(), lowerActivation},
      {mlir::plan::GluOp::getOperationName(), lowerActivation},
      {mlir::plan::LinearOp::getOperationName(), lowerLinear},
      {mlir::plan::LogitsOp::getOperationName(), lowerLinear},
      {mlir::plan::GroupedLinearOp::getOperationName(), lowerLinear},
      {mlir::plan::TrackCombineOp::getOperationName(), lowerTrackCombine},
      {mlir::plan::LastRowOp::getOperationName(), lowerLastRow},
      {mlir::plan::AttentionOp::getOperationName(), lowerAttention},
      {mlir::plan::KVAppendOp::getOperationName(), lowerKvAppend},
      {mlir::plan::MoeRouteOp::getOperationName(), lowerMoeRoute},
      {mlir::plan::MoeCombineOp::getOperationName(), lowerMoeCombine},
      {mlir::plan::MoeOp::getOperationName(), lowerMoe},
  };
  llvm::StringRef name = kernel->getName().getStringRef();
  for (const auto &[family, lowering] : families)
    if (family == name)
      return lowering(kernel, builder);
  return llvm::createStringError("kernel family '" + name +
                                 "' has no GPU kernel yet");
}

} // namespace fmc::gpu
