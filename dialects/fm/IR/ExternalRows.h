//===- ExternalRows.h - where a parameter's rows lie in its file ----------===//
//
// An #fm.external source is contiguous, or (with a row_stride: a
// tensor-parallel rank's block of columns) rows of the last dimension set
// row_stride bytes apart. The artifact writer and fm-quantize-weights both
// read such a source: they map its span and gather its rows the same way.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_DIALECTS_FM_IR_EXTERNALROWS_H
#define FMC_DIALECTS_FM_IR_EXTERNALROWS_H

#include "dialects/fm/IR/FmOps.h"

#include <cstring>

namespace mlir::fm {

/// The `bytes` bytes `param` reads from `source` as rows in the file.
struct ExternalRows {
  uint64_t rowBytes = 0, rows = 0, stride = 0;
  /// From the first row's start to the last row's end: what to map.
  uint64_t span = 0;
  bool strided() const { return stride != 0; }

  /// The rows at `from` (span bytes) one after another at `to`.
  void gather(const char *from, char *to) const {
    for (uint64_t r = 0; r < rows; ++r)
      std::memcpy(to + r * rowBytes, from + r * stride, rowBytes);
  }
};

inline ExternalRows externalRowsOf(ParamOp param, ExternalAttr source,
                                   uint64_t bytes) {
  ExternalRows rows;
  rows.stride = source.getRowStride();
  rows.rowBytes = rows.stride ? param.getTensorType().getShape().back() *
                                    getElementBytes(source.getDtype())
                              : bytes;
  rows.rows = rows.rowBytes ? bytes / rows.rowBytes : 0;
  rows.span = rows.stride && rows.rows
                  ? (rows.rows - 1) * rows.stride + rows.rowBytes
                  : bytes;
  return rows;
}

} // namespace mlir::fm

#endif // FMC_DIALECTS_FM_IR_EXTERNALROWS_H
