//===- FmAttrs.h - fm enums and attributes --------------------------------===//

#ifndef FMC_DIALECTS_FM_IR_FMATTRS_H
#define FMC_DIALECTS_FM_IR_FMATTRS_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/DialectImplementation.h"

#include "dialects/fm/IR/FmEnums.h.inc"

namespace fmc::ggml {
struct BlockFormat;
} // namespace fmc::ggml

#define GET_ATTRDEF_CLASSES
#include "dialects/fm/IR/FmAttrs.h.inc"

namespace mlir::fm {

/// Bytes one element of `type` takes in a file, or 0 for the block and packed
/// formats, whose size depends on the whole tensor (see ParamOp).
unsigned getElementBytes(StorageType type);

/// The ggml block format `type` names (q8_0, q4_k, ...; see
/// runtime/GgmlBlocks.h), or null for the dense and packed types.
const fmc::ggml::BlockFormat *getGgmlBlockFormat(StorageType type);

} // namespace mlir::fm

#endif // FMC_DIALECTS_FM_IR_FMATTRS_H
