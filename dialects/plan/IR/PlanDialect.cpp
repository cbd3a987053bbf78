//===- PlanDialect.cpp - the plan dialect and its types -------------------===//

#include "dialects/plan/IR/PlanDialect.h"

#include "dialects/fm/IR/FmDialect.h"
#include "dialects/plan/IR/PlanOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::plan;

#include "dialects/plan/IR/PlanDialect.cpp.inc"

#define GET_TYPEDEF_CLASSES
#include "dialects/plan/IR/PlanTypes.cpp.inc"

void PlanDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialects/plan/IR/PlanOps.cpp.inc"
      >();
  registerTypes();
  registerAttributes();
}

void PlanDialect::registerTypes() {
  addTypes<
#define GET_TYPEDEF_LIST
#include "dialects/plan/IR/PlanTypes.cpp.inc"
      >();
}

LogicalResult RowsType::verify(function_ref<InFlightDiagnostic()> emitError,
                               int64_t width, Type elementType) {
  if (width <= 0)
    return emitError() << "buffer width must be positive, got " << width;
  if (!elementType.isF32() && !elementType.isF16() && !elementType.isBF16() &&
      !elementType.isInteger(32) && !elementType.isInteger(8))
    return emitError() << "buffer element type must be f32, f16, bf16, i32 "
                          "or i8, got "
                       << elementType;
  return success();
}

int64_t RowsType::getRowBytes() const {
  return getWidth() *
         static_cast<int64_t>(getElementType().getIntOrFloatBitWidth()) / 8;
}
