//===- PlanMoeOps.cpp - verifiers of the MoE and track kernels ------------===//
//
// plan.moe, plan.track_combine, plan.all_reduce (tracks split over ranks) and
// plan.grouped_linear (batched tracks).
//
// plan.moe reads five to eight parameters whose shapes all follow from the
// router's and the stacks' leading dimensions; these checks make sure the
// kernel never indexes outside any of them.
//
//===----------------------------------------------------------------------===//

#include "dialects/plan/IR/PlanOps.h"

#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace mlir::plan;

namespace {

std::string shapeText(ArrayRef<int64_t> dims) {
  std::string text = "[";
  llvm::raw_string_ostream os(text);
  llvm::interleaveComma(dims, os);
  os << "]";
  return text;
}

/// The fm.param `ref` names, checked against `expected` (kDynamic matches
/// any size) and for a storage the CPU kernels read.
FailureOr<fm::ParamOp> moeParam(Operation *op, SymbolTableCollection &tables,
                                FlatSymbolRefAttr ref, StringRef role,
                                ArrayRef<int64_t> expected) {
  auto param = tables.lookupNearestSymbolFrom<fm::ParamOp>(op, ref.getAttr());
  if (!param)
    return op->emitOpError()
           << role << " " << ref << " does not name an fm.param";
  ArrayRef<int64_t> shape = param.getTensorType().getShape();
  bool matches = shape.size() == expected.size() &&
                 llvm::all_of(llvm::zip(shape, expected), [](auto pair) {
                   auto [a, e] = pair;
                   return ShapedType::isDynamic(e) || a == e;
                 });
  if (!matches) {
    SmallVector<int64_t> shown(expected);
    for (int64_t &d : shown)
      if (ShapedType::isDynamic(d))
        d = -1;
    return op->emitOpError()
           << role << " " << ref << " has shape " << shapeText(shape)
           << ", expected " << shapeText(shown) << " (-1: any)";
  }
  return param;
}

} // namespace

LogicalResult MoeOp::verify() {
  auto in = cast<RowsType>(getInput().getType());
  if (!isa<FloatType>(in.getElementType()) ||
      getInput().getType() != getOutput().getType())
    return emitOpError() << "input " << getInput().getType() << " and output "
                         << getOutput().getType()
                         << " must be the same float rows";
  if (static_cast<int64_t>(getTopK()) <= 0)
    return emitOpError() << "top_k must be positive, got " << getTopK();
  if (bool(getSharedGateUpAttr()) != bool(getSharedDownAttr()))
    return emitOpError()
           << "a shared expert needs both shared_gate_up and shared_down";
  if (getSharedGateAttr() && !getSharedGateUpAttr())
    return emitOpError() << "shared_gate is given without a shared expert";
  return success();
}

LogicalResult MoeOp::verifySymbolUses(SymbolTableCollection &tables) {
  int64_t width = cast<RowsType>(getInput().getType()).getWidth();
  constexpr int64_t any = ShapedType::kDynamic;
  FailureOr<fm::ParamOp> router =
      moeParam(*this, tables, getRouterAttr(), "router", {any, width});
  if (failed(router))
    return failure();
  int64_t experts = router->getTensorType().getDimSize(0);
  if (static_cast<int64_t>(getTopK()) > experts)
    return emitOpError() << "top_k " << getTopK() << " exceeds the " << experts
                         << " experts";
  FailureOr<fm::ParamOp> gateUp = moeParam(*this, tables, getGateUpAttr(),
                                           "gate_up", {experts, any, width});
  if (failed(gateUp))
    return failure();
  int64_t rows = gateUp->getTensorType().getDimSize(1);
  if (rows % 2 != 0)
    return emitOpError() << "gate_up " << getGateUpAttr() << " has " << rows
                         << " rows per expert; gate and up need an even count";
  if (failed(moeParam(*this, tables, getDownAttr(), "down",
                      {experts, width, rows / 2})))
    return failure();
  if (!getSharedGateUpAttr())
    return success();
  FailureOr<fm::ParamOp> shared = moeParam(*this, tables, getSharedGateUpAttr(),
                                           "shared_gate_up", {any, width});
  if (failed(shared))
    return failure();
  int64_t sharedRows = shared->getTensorType().getDimSize(0);
  if (sharedRows % 2 != 0)
    return emitOpError() << "shared_gate_up " << getSharedGateUpAttr()
                         << " has " << sharedRows
                         << " rows; gate and up need an even count";
  if (failed(moeParam(*this, tables, getSharedDownAttr(), "shared_down",
                      {width, sharedRows / 2})))
    return failure();
  if (getSharedGateAttr() && failed(moeParam(*this, tables, getSharedGateAttr(),
                                             "shared_gate", {1, width})))
    return failure();
  return success();
}

LogicalResult TrackCombineOp::verify() {
  if (getTracks().empty())
    return emitOpError() << "needs at least one track";
  if (!isa<FloatType>(cast<RowsType>(getOutput().getType()).getElementType()))
    return emitOpError() << "output must hold floats, got "
                         << getOutput().getType();
  for (auto [i, track] : llvm::enumerate(getTracks()))
    if (track.getType() != getOutput().getType())
      return emitOpError() << "track " << i << " has type " << track.getType()
                           << ", expected " << getOutput().getType();
  return success();
}

LogicalResult TrackCombineOp::verifySymbolUses(SymbolTableCollection &) {
  return success();
}

LogicalResult AllReduceOp::verify() {
  if (getRanks() < 2)
    return emitOpError() << "needs at least 2 ranks, got " << getRanks();
  if (!(getScale().convertToFloat() > 0.0f))
    return emitOpError() << "scale must be positive, got "
                         << getScale().convertToFloat();
  if (getInputs().empty() || getInputs().size() != getOutputs().size())
    return emitOpError() << "needs one output per input and at least one "
                            "buffer, got "
                         << getInputs().size() << " inputs and "
                         << getOutputs().size() << " outputs";
  for (auto [input, output] : llvm::zip(getInputs(), getOutputs())) {
    if (!cast<RowsType>(output.getType()).getElementType().isF32())
      return emitOpError() << "outputs must hold f32 rows, got "
                           << output.getType();
    if (input.getType() != output.getType())
      return emitOpError() << "input has type " << input.getType()
                           << ", expected " << output.getType();
  }
  return success();
}

LogicalResult AllReduceOp::verifySymbolUses(SymbolTableCollection &) {
  return success();
}

LogicalResult GroupedLinearOp::verify() {
  if (getInputs().empty() || getInputs().size() != getOutputs().size())
    return emitOpError() << "needs one output per input and at least one "
                            "group, got "
                         << getInputs().size() << " inputs and "
                         << getOutputs().size() << " outputs";
  for (ValueRange values : {getInputs(), getOutputs()})
    for (auto [i, v] : llvm::enumerate(values))
      if (v.getType() != values.front().getType() ||
          !isa<FloatType>(cast<RowsType>(v.getType()).getElementType()))
        return emitOpError() << "group " << i << " has type " << v.getType()
                             << "; every group's "
                             << (values == getInputs() ? "input" : "output")
                             << " must be the same float rows";
  return success();
}

LogicalResult GroupedLinearOp::verifySymbolUses(SymbolTableCollection &tables) {
  int64_t groups = getInputs().size();
  int64_t in = cast<RowsType>(getInputs().front().getType()).getWidth();
  int64_t out = cast<RowsType>(getOutputs().front().getType()).getWidth();
  return moeParam(*this, tables, getWeightAttr(), "weight", {groups, out, in});
}
