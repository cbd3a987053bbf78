//===- FmOps.h - fm ops ---------------------------------------------------===//

#ifndef FMC_DIALECTS_FM_IR_FMOPS_H
#define FMC_DIALECTS_FM_IR_FMOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dialects/fm/IR/FmAttrs.h"
#include "dialects/fm/IR/FmDialect.h"

namespace mlir::fm {

/// The state that attention ops write and read: KV caches. Effects on it name
/// the cache symbol, so analyses can tell caches apart.
struct KVCacheResource : public SideEffects::Resource::Base<KVCacheResource> {
  StringRef getName() final { return "fm.kv_cache"; }
};

} // namespace mlir::fm

#define GET_OP_CLASSES
#include "dialects/fm/IR/FmOps.h.inc"

#endif // FMC_DIALECTS_FM_IR_FMOPS_H
