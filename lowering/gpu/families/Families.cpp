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
  };
  llvm::StringRef name = kernel->getName().getStringRef();
  for (const auto &[family, lowering] : families)
    if (family == name)
      return lowering(kernel, builder);
  return llvm::createStringError("kernel family '" + name +
                                 "' has no GPU kernel yet");
}

} // namespace fmc::gpu
