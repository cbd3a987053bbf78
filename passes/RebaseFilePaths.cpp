//===- RebaseFilePaths.cpp - relative file paths to another directory -----===//

#include "dialects/fm/IR/FmFilePaths.h"
#include "passes/Passes.h"

namespace mlir::fm {
#define GEN_PASS_DEF_REBASEFILEPATHS
#include "passes/Passes.h.inc"
} // namespace mlir::fm

using namespace mlir;

namespace {

struct RebaseFilePathsPass
    : public fm::impl::RebaseFilePathsBase<RebaseFilePathsPass> {
  using RebaseFilePathsBase::RebaseFilePathsBase;

  void runOnOperation() override {
    fm::rebaseFilePaths(getOperation(), from, to);
  }
};

} // namespace
