//===- QuantParam.cpp - quantizing an fm.param's source -------------------===//

#include "lowering/quant/QuantParam.h"

#include "mlir/IR/SymbolTable.h"
#include "llvm/Support/Parallel.h"

#include <cstring>
#include <mutex>
#include <vector>

using namespace mlir;

namespace fmc::quant {

Format formatOf(fm::QuantAttr quant) {
  Format f;
  f.bits = static_cast<int>(quant.getBits());
  f.grid =
      quant.getGrid() == fm::QuantGrid::affine ? Grid::Affine : Grid::Balanced;
  f.groupSize = quant.getGroupSize();
  f.scaleType =
      quant.getScaleType().isBF16() ? ScaleType::BF16 : ScaleType::F16;
  return f;
}

fm::QuantAttr quantAttrOf(MLIRContext *context, const Format &f) {
  Builder b(context);
  return fm::QuantAttr::get(
      context, f.bits,
      f.grid == Grid::Affine ? fm::QuantGrid::affine : fm::QuantGrid::balanced,
      f.groupSize,
      f.scaleType == ScaleType::BF16 ? Type(b.getBF16Type())
                                     : Type(b.getF16Type()),
      fm::QuantLayout::row_major);
}

llvm::Error checkEncoding(fm::ParamOp param) {
  fm::QuantAttr q = param.getQuant();
  if (!q)
    return llvm::Error::success();
  int64_t g = q.getGroupSize();
  bool ok = (q.getBits() == 2 || q.getBits() == 4) &&
            (q.getScaleType().isF16() || q.getScaleType().isBF16()) &&
            (g == 0 || g == 32 || g == 64 || g == 128);
  if (ok)
    return llvm::Error::success();
  std::string scale;
  llvm::raw_string_ostream(scale) << q.getScaleType();
  return llvm::createStringError(
      "parameter @" + param.getSymName() + " is quantized to " +
      llvm::Twine(q.getBits()) + " bits in groups of " + llvm::Twine(g) +
      " with " + scale +
      " scales; artifacts hold 2- or 4-bit codes with f16 or bf16 scales in "
      "groups of 32, 64, 128 or 0 (one per row)");
}

bool isQuantizedWhenWritten(fm::ParamOp param) {
  if (!param.getQuant() || param.isStack())
    return false;
  fm::StorageType dtype = param.getSourceAttr().getDtype();
  return dtype == fm::StorageType::f32 || dtype == fm::StorageType::f16 ||
         dtype == fm::StorageType::bf16;
}

bool isQuantizedStack(fm::ParamOp param) {
  return param.getQuant() && param.isStack();
}

fm::StorageType floatSourceType(fm::ParamOp param) {
  if (!param.isStack())
    return param.getSourceAttr().getDtype();
  auto first = SymbolTable::lookupNearestSymbolFrom<fm::ParamOp>(
      param, cast<FlatSymbolRefAttr>(param.getPartsAttr()[0]));
  return first && first.getSourceAttr() ? first.getSourceAttr().getDtype()
                                        : fm::StorageType::f32;
}

uint64_t floatSourceBytes(fm::ParamOp param) {
  return param.getTensorType().getNumElements() *
         fm::getElementBytes(floatSourceType(param));
}

llvm::Error packParameter(fm::ParamOp param, llvm::StringRef source,
                          uint8_t *out, Stats &stats) {
  if (llvm::Error err = checkEncoding(param))
    return err;
  RankedTensorType type = param.getTensorType();
  int64_t k = type.getShape().back();
  int64_t rows = type.getNumElements() / k;
  if (source.size() != floatSourceBytes(param))
    return llvm::createStringError(
        "parameter @" + param.getSymName() + " needs " +
        llvm::Twine(floatSourceBytes(param)) + " source bytes, got " +
        llvm::Twine(source.size()));
  fm::StorageType dtype = floatSourceType(param);
  Format format = formatOf(param.getQuant());
  // Rows in chunks: each chunk decodes its floats and quantizes them.
  const int64_t chunkRows = std::max<int64_t>(1, (1 << 16) / k);
  int64_t chunks = (rows + chunkRows - 1) / chunkRows;
  std::mutex mutex;
  llvm::parallelFor(0, chunks, [&](size_t chunk) {
    int64_t r0 = chunk * chunkRows, r1 = std::min(rows, r0 + chunkRows);
    std::vector<float> w((r1 - r0) * k);
    const char *bytes = source.data();
    for (int64_t i = 0; i < (r1 - r0) * k; ++i) {
      uint64_t e = r0 * k + i;
      if (dtype == fm::StorageType::f32) {
        std::memcpy(&w[i], bytes + 4 * e, 4);
      } else {
        uint16_t h;
        std::memcpy(&h, bytes + 2 * e, 2);
        w[i] =
            dtype == fm::StorageType::f16 ? halfToFloat(h) : bfloatToFloat(h);
      }
    }
    Stats part = quantize(format, w.data(), rows, k, out, r0, r1);
    std::lock_guard<std::mutex> lock(mutex);
    stats.merge(part);
  });
  return llvm::Error::success();
}

} // namespace fmc::quant
