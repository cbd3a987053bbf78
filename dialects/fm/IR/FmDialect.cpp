//===- FmDialect.cpp - the fm dialect -------------------------------------===//

#include "dialects/fm/IR/FmDialect.h"

#include "dialects/fm/IR/FmOps.h"

using namespace mlir;
using namespace mlir::fm;

#include "dialects/fm/IR/FmDialect.cpp.inc"

void FmDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialects/fm/IR/FmOps.cpp.inc"
      >();
  registerAttributes();
}
