//===- FmDialect.h - the fm dialect ---------------------------------------===//

#ifndef FMC_DIALECTS_FM_IR_FMDIALECT_H
#define FMC_DIALECTS_FM_IR_FMDIALECT_H

#include "mlir/IR/Dialect.h"

#include "dialects/fm/IR/FmDialect.h.inc"

#endif // FMC_DIALECTS_FM_IR_FMDIALECT_H
