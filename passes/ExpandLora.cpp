//===- ExpandLora.cpp - a linear's LoRA pair as two linears and an add ----===//
//
// The low-rank update is tiny next to the base matvec (rank 32 against
// thousands of rows), so it runs as plain dense linears: every backend's
// linear kernels and dispatch formation apply to it as they are.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "dialects/fm/IR/FmOps.h"

#include "mlir/IR/Builders.h"

namespace mlir::fm {
#define GEN_PASS_DEF_EXPANDLORA
#include "passes/Passes.h.inc"
} // namespace mlir::fm

using namespace mlir;
using namespace mlir::fm;

namespace {

struct ExpandLoraPass : public fm::impl::ExpandLoraBase<ExpandLoraPass> {
  void runOnOperation() override {
    SmallVector<LinearOp> adapted;
    getOperation().walk([&](LinearOp linear) {
      if (linear.getLoraAAttr())
        adapted.push_back(linear);
    });
    SymbolTable symbols(getOperation());
    for (LinearOp linear : adapted)
      expand(linear, symbols);
  }

  void expand(LinearOp linear, SymbolTable &symbols) {
    OpBuilder builder(linear);
    Location loc = linear.getLoc();
    auto inType = cast<RankedTensorType>(linear.getInput().getType());
    auto outType = cast<RankedTensorType>(linear.getResult().getType());
    int64_t rank = symbols.lookup<ParamOp>(*linear.getLoraA())
                       .getTensorType()
                       .getDimSize(0);
    SmallVector<int64_t> lowShape(inType.getShape());
    lowShape.back() = rank;
    auto lowType = RankedTensorType::get(lowShape, inType.getElementType());
    auto base = LinearOp::create(builder, loc, outType, linear.getInput(),
                                 linear.getWeightAttr(), linear.getBiasAttr(),
                                 /*lora_a=*/nullptr, /*lora_b=*/nullptr);
    auto down = LinearOp::create(builder, loc, lowType, linear.getInput(),
                                 linear.getLoraAAttr(), nullptr, nullptr,
                                 nullptr);
    auto up = LinearOp::create(builder, loc, outType, down.getResult(),
                               linear.getLoraBAttr(), nullptr, nullptr,
                               nullptr);
    auto sum = AddOp::create(builder, loc, base.getResult(), up.getResult());
    linear.getResult().replaceAllUsesWith(sum.getResult());
    linear.erase();
  }
};

} // namespace
