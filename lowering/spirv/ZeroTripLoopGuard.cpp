//===- ZeroTripLoopGuard.cpp - scf.for results that SPIR-V can lose -------===//

#include "lowering/spirv/ZeroTripLoopGuard.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

using namespace mlir;

namespace fmc::spirv {

namespace {

constexpr llvm::StringLiteral kGuarded = "fmc.trip_guarded";

struct GuardZeroTripLoop : OpRewritePattern<scf::ForOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(scf::ForOp loop,
                                PatternRewriter &rewriter) const override {
    if (loop.getNumResults() == 0 || loop->hasAttr(kGuarded))
      return failure();
    std::optional<int64_t> lower = getConstantIntValue(loop.getLowerBound());
    std::optional<int64_t> upper = getConstantIntValue(loop.getUpperBound());
    if (lower && upper && *lower < *upper) {
      rewriter.modifyOpInPlace(
          loop, [&] { loop->setAttr(kGuarded, rewriter.getUnitAttr()); });
      return success();
    }
    Location loc = loop.getLoc();
    Value runs = arith::CmpIOp::create(rewriter, loc,
                                       loop.getUnsignedCmp()
                                           ? arith::CmpIPredicate::ult
                                           : arith::CmpIPredicate::slt,
                                       loop.getLowerBound(),
                                       loop.getUpperBound());
    auto guard = scf::IfOp::create(
        rewriter, loc, runs,
        [&](OpBuilder &builder, Location loc) {
          Operation *copy = builder.clone(*loop);
          copy->setAttr(kGuarded, builder.getUnitAttr());
          scf::YieldOp::create(builder, loc, copy->getResults());
        },
        [&](OpBuilder &builder, Location loc) {
          scf::YieldOp::create(builder, loc, loop.getInitArgs());
        });
    rewriter.replaceOp(loop, guard.getResults());
    return success();
  }
};

struct ZeroTripLoopGuardPass
    : PassWrapper<ZeroTripLoopGuardPass, OperationPass<>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(ZeroTripLoopGuardPass)
  StringRef getArgument() const override { return "fmc-guard-zero-trip-loops"; }
  StringRef getDescription() const override {
    return "Wrap scf.for loops with results that may run zero times in scf.if "
           "(works around llvm-project #211981 in SCF->SPIR-V)";
  }
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<GuardZeroTripLoop>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace

std::unique_ptr<Pass> createZeroTripLoopGuardPass() {
  return std::make_unique<ZeroTripLoopGuardPass>();
}

} // namespace fmc::spirv
