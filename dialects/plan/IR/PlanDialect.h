//===- PlanDialect.h - the plan dialect and its types ---------------------===//

#ifndef FMC_DIALECTS_PLAN_IR_PLANDIALECT_H
#define FMC_DIALECTS_PLAN_IR_PLANDIALECT_H

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"

#include "dialects/plan/IR/PlanDialect.h.inc"

#define GET_TYPEDEF_CLASSES
#include "dialects/plan/IR/PlanTypes.h.inc"

#include "dialects/plan/IR/PlanEnums.h.inc"
#include "dialects/plan/IR/PlanAttrInterfaces.h.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/plan/IR/PlanAttrs.h.inc"

#endif // FMC_DIALECTS_PLAN_IR_PLANDIALECT_H
