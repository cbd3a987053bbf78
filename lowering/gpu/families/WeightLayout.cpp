//===- WeightLayout.cpp - how kernel templates read a weight parameter ----===//

#include "lowering/gpu/families/WeightLayout.h"

#include "dialects/fm/IR/FmAttrs.h"
#include "dialects/plan/IR/PlanOps.h"

#include "llvm/ADT/Twine.h"

namespace fmc::gpu {

namespace {

llvm::Error unsupported(mlir::fm::ParamOp param, llvm::StringRef role) {
  return llvm::createStringError(
      "parameter @" + param.getSymName() + " (" + role + ") is stored as '" +
      mlir::fm::stringifyStorageType(param.getStorageType()) +
      "'; the GPU kernels read f32, f16, bf16, packed 2- or 4-bit and ggml "
      "block weights");
}

} // namespace

bool WeightLayout::wordAligned() const {
  if (!packed)
    return false;
  int64_t perWord = 32 / format.bits;
  return rowBytes % 4 == 0 && k % perWord == 0 && group % perWord == 0;
}

llvm::Expected<WeightLayout> weightLayout(LaunchBuilder &b,
                                          mlir::FlatSymbolRefAttr symbol,
                                          llvm::StringRef role) {
  mlir::fm::ParamOp param = b.param(symbol);
  mlir::RankedTensorType type = param.getTensorType();
  if (type.getRank() < 1)
    return llvm::createStringError("parameter @" + param.getSymName() + " (" +
                                   role + ") is a scalar");
  WeightLayout layout;
  layout.k = type.getShape().back();
  layout.rows = type.getNumElements() / std::max<int64_t>(1, layout.k);
  switch (param.getStorageType()) {
  case mlir::fm::StorageType::f32:
    layout.dtype = F32;
    return layout;
  case mlir::fm::StorageType::f16:
    layout.dtype = F16;
    return layout;
  case mlir::fm::StorageType::bf16:
    layout.dtype = BF16;
    return layout;
  case mlir::fm::StorageType::packed:
    break;
  default:
    if (const ggml::BlockFormat *blocks =
            mlir::fm::getGgmlBlockFormat(param.getStorageType())) {
      if (layout.k % blocks->elements != 0)
        return llvm::createStringError(
            "parameter @" + param.getSymName() + " (" + role + ") has rows of " +
            llvm::Twine(layout.k) + " elements, not whole " + blocks->name +
            " blocks of " + llvm::Twine(blocks->elements));
      layout.ggml = blocks;
      layout.rowBytes = static_cast<uint64_t>(layout.k / blocks->elements) *
                        blocks->bytes;
      return layout;
    }
    return unsupported(param, role);
  }
  mlir::fm::QuantAttr q = param.getQuant();
  if (!q || (q.getBits() != 2 && q.getBits() != 4) ||
      !(q.getScaleType().isF16() || q.getScaleType().isBF16()))
    return llvm::createStringError(
        "parameter @" + param.getSymName() + " (" + role +
        ") has a packed encoding the GPU kernels do not read (they read 2- "
        "or 4-bit codes with f16 or bf16 scales)");
  layout.packed = true;
  layout.format.bits = static_cast<int>(q.getBits());
  layout.format.grid = q.getGrid() == mlir::fm::QuantGrid::affine
                           ? quant::Grid::Affine
                           : quant::Grid::Balanced;
  layout.format.groupSize = q.getGroupSize();
  layout.format.scaleType = q.getScaleType().isBF16() ? quant::ScaleType::BF16
                                                      : quant::ScaleType::F16;
  layout.group = quant::effectiveGroupSize(layout.format, layout.k);
  layout.groups = quant::groupsPerRow(layout.format, layout.k);
  layout.rowBytes = quant::rowCodeBytes(layout.format, layout.k);
  layout.scalesAt = quant::scalesOffset(layout.format, layout.rows, layout.k);
  layout.minsAt = quant::minsOffset(layout.format, layout.rows, layout.k);
  return layout;
}

llvm::Expected<VectorParam> vectorParam(LaunchBuilder &b,
                                        mlir::FlatSymbolRefAttr symbol,
                                        llvm::StringRef role) {
  VectorParam vector;
  if (!symbol) {
    vector.binding = b.run();
    return vector;
  }
  llvm::Expected<WeightLayout> layout = weightLayout(b, symbol, role);
  if (!layout)
    return layout.takeError();
  if (layout->packed)
    return llvm::createStringError(
        "parameter @" + symbol.getValue() + " (" + role +
        ") is packed; the GPU kernels read it as f32, f16 or bf16 only");
  if (layout->ggml)
    return llvm::createStringError(
        "parameter @" + symbol.getValue() + " (" + role +
        ") is stored in ggml blocks ('" + layout->ggml->fmName +
        "'); the GPU kernels read it as f32, f16 or bf16 only");
  vector.dtype = layout->dtype;
  vector.binding = b.weight(symbol);
  return vector;
}

int64_t groupsFor(int64_t items, int64_t threads) {
  return std::max<int64_t>(1, (items + threads - 1) / threads);
}

std::array<uint32_t, 3> gridFor(int64_t workgroups) {
  int64_t x = std::min(std::max<int64_t>(1, workgroups), kMaxGridDimension);
  int64_t y = (workgroups + x - 1) / x;
  return {static_cast<uint32_t>(x),
          static_cast<uint32_t>(std::max<int64_t>(1, y)), 1};
}

int64_t widthOf(mlir::Value rows) {
  return llvm::cast<mlir::plan::RowsType>(rows.getType()).getWidth();
}

} // namespace fmc::gpu
