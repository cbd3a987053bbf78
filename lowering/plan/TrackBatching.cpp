//===- TrackBatching.cpp - batching parallel tracks' identical layers -----===//

#include "lowering/plan/TrackBatching.h"

#include "dialects/fm/IR/LoraSlotNames.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"

using namespace mlir;
using namespace mlir::plan;

namespace {

/// Same attributes, where any two symbol references count as equal.
bool sameAttributes(Operation *a, Operation *b) {
  if (a->getAttrs().size() != b->getAttrs().size())
    return false;
  for (NamedAttribute attr : a->getAttrs()) {
    Attribute other = b->getAttr(attr.getName());
    if (!other)
      return false;
    if (isa<FlatSymbolRefAttr>(attr.getValue()) &&
        isa<FlatSymbolRefAttr>(other))
      continue;
    if (attr.getValue() != other)
      return false;
  }
  return true;
}

bool isDenseFileParam(fm::ParamOp param) {
  if (!param || param.isStack() || param.getQuant() || !param.getSourceAttr())
    return false;
  fm::StorageType dtype = param.getSourceAttr().getDtype();
  return dtype == fm::StorageType::f32 || dtype == fm::StorageType::f16 ||
         dtype == fm::StorageType::bf16;
}

/// Whether fm-add-lora-slots gave `weight` a LoRA slot (`<weight>.lora_a`):
/// such a weight stays a tensor of its own, which the artifact's LoRA slot
/// and the adapters compiled for it name.
bool hasLoraSlots(fm::ParamOp weight) {
  auto a = SymbolTable::lookupNearestSymbolFrom<fm::ParamOp>(
      weight, StringAttr::get(weight.getContext(),
                              fm::loraSlotName(weight.getSymName(), false)));
  return a && a.getAdapterSlot();
}

} // namespace

bool mlir::plan::tracksAreIdentical(fm::ParallelTracksOp block) {
  Block &first = block.getTracks().front().front();
  for (Region &track : block.getTracks().drop_front()) {
    Block &body = track.front();
    if (body.getOperations().size() != first.getOperations().size())
      return false;
    IRMapping toFirst;
    toFirst.map(body.getArgument(0), first.getArgument(0));
    for (auto [mine, theirs] : llvm::zip(body, first)) {
      if (mine.getName() != theirs.getName() ||
          mine.getNumOperands() != theirs.getNumOperands() ||
          mine.getResultTypes() != theirs.getResultTypes() ||
          mine.getNumRegions() != 0 || !sameAttributes(&mine, &theirs))
        return false;
      for (auto [a, b] : llvm::zip(mine.getOperands(), theirs.getOperands()))
        if (toFirst.lookupOrDefault(a) != b)
          return false;
      toFirst.map(mine.getResults(), theirs.getResults());
    }
  }
  return true;
}

fm::ParamOp mlir::plan::stackTrackWeights(ArrayRef<fm::LinearOp> linears) {
  SmallVector<fm::ParamOp> parts;
  for (fm::LinearOp linear : linears) {
    auto param = SymbolTable::lookupNearestSymbolFrom<fm::ParamOp>(
        linear, linear.getWeightAttr());
    if (linear.getBiasAttr() || !isDenseFileParam(param) ||
        hasLoraSlots(param))
      return {};
    if (!parts.empty() &&
        (param.getTensorType() != parts.front().getTensorType() ||
         param.getSourceAttr().getDtype() !=
             parts.front().getSourceAttr().getDtype()))
      return {};
    parts.push_back(param);
  }
  if (parts.empty())
    return {};
  fm::ParamOp first = parts.front(), last = first;
  for (fm::ParamOp part : parts)
    if (last->isBeforeInBlock(part))
      last = part;
  RankedTensorType partType = first.getTensorType();
  SmallVector<int64_t> shape = {static_cast<int64_t>(parts.size())};
  llvm::append_range(shape, partType.getShape());
  auto type = RankedTensorType::get(shape, partType.getElementType());
  Builder b(first.getContext());
  SmallVector<Attribute> refs;
  for (fm::ParamOp part : parts)
    refs.push_back(FlatSymbolRefAttr::get(part.getSymNameAttr()));
  ArrayAttr partsAttr = b.getArrayAttr(refs);
  auto module = first->getParentOfType<ModuleOp>();
  for (fm::ParamOp existing : module.getOps<fm::ParamOp>())
    if (existing.getPartsAttr() == partsAttr &&
        existing.getTensorType() == type)
      return existing;
  std::string name = (first.getSymName() + ".tracks").str();
  for (int n = 1; SymbolTable::lookupSymbolIn(module, name); ++n)
    name = (first.getSymName() + ".tracks." + Twine(n)).str();
  OpBuilder builder(first.getContext());
  builder.setInsertionPointAfter(last);
  return fm::ParamOp::create(builder, last.getLoc(), b.getStringAttr(name),
                             TypeAttr::get(type), /*source=*/nullptr, partsAttr,
                             /*adapter_slot=*/nullptr, /*delta=*/nullptr,
                             /*sym_visibility=*/nullptr);
}
