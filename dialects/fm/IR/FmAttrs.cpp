//===- FmAttrs.cpp - fm attributes ----------------------------------------===//

#include "dialects/fm/IR/FmAttrs.h"

#include "dialects/fm/IR/FmDialect.h"
#include "runtime/GgmlBlocks.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::fm;

#include "dialects/fm/IR/FmEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/fm/IR/FmAttrs.cpp.inc"

void FmDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialects/fm/IR/FmAttrs.cpp.inc"
      >();
}

unsigned mlir::fm::getElementBytes(StorageType type) {
  switch (type) {
  case StorageType::f32:
    return 4;
  case StorageType::f16:
  case StorageType::bf16:
    return 2;
  case StorageType::i8:
    return 1;
  default: // ggml blocks and packed codes.
    return 0;
  }
}

const fmc::ggml::BlockFormat *mlir::fm::getGgmlBlockFormat(StorageType type) {
  llvm::StringRef name = stringifyStorageType(type);
  return fmc::ggml::blockFormatNamed({name.data(), name.size()});
}

LogicalResult ExternalAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                   StringRef file, uint64_t offset,
                                   StorageType dtype, uint64_t rowStride) {
  if (file.empty())
    return emitError() << "external parameter has an empty file name";
  if (rowStride != 0 && dtype != StorageType::f32 &&
      dtype != StorageType::f16 && dtype != StorageType::bf16)
    return emitError() << "a row_stride strides rows of f32, f16 or bf16, not "
                       << stringifyStorageType(dtype);
  return success();
}

LogicalResult LoraDeltaAttr::verify(
    function_ref<InFlightDiagnostic()> emitError, ExternalAttr a,
    ExternalAttr b, int64_t rank, llvm::APFloat scale) {
  if (rank <= 0)
    return emitError() << "a LoRA delta's rank must be positive, not " << rank;
  for (ExternalAttr part : {a, b})
    if (part.getDtype() != StorageType::f32 &&
        part.getDtype() != StorageType::f16 &&
        part.getDtype() != StorageType::bf16)
      return emitError() << "a LoRA delta's A and B are f32, f16 or bf16, not "
                         << stringifyStorageType(part.getDtype());
  return success();
}

LogicalResult QuantAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                unsigned bits, QuantGrid grid,
                                int64_t groupSize, Type scaleType,
                                QuantLayout layout) {
  if (bits != 2 && bits != 3 && bits != 4 && bits != 8)
    return emitError() << "quantized codes must have 2, 3, 4 or 8 bits, not "
                       << bits;
  if (groupSize < 0)
    return emitError() << "group_size must be positive, or 0 for one group "
                          "per row, not "
                       << groupSize;
  if (!scaleType.isF16() && !scaleType.isBF16() && !scaleType.isF32())
    return emitError() << "scale_type must be f16, bf16 or f32, not "
                       << scaleType;
  return success();
}
