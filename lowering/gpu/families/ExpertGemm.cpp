//===- ExpertGemm.cpp - a mixture-of-experts projection as a grouped GEMM -===//
//
// The configuration is the one plan-form-dispatches gives a prefill matvec
// on matrix units (PlanDispatch.h, lowering/plan/FormDispatches.cpp
// matvecConfig): 256 threads, 64 rows a workgroup (32 of each half of a
// gate/up pair), 32 tokens a pass (16 where the tiles would pass the
// workgroup memory every GPU has), int8 activations for packed codes; the
// token splits aim at the same 264 workgroups over the row tiles and
// experts.
//
//===----------------------------------------------------------------------===//

#include "lowering/gpu/families/ExpertGemm.h"

#include "lowering/gpu/families/MatvecBindings.h"
#include "lowering/gpu/families/WeightLayout.h"

#include "dialects/plan/IR/PlanDispatch.h"


namespace fmc::gpu {

std::string expertGemmUnfit(LaunchBuilder &b, mlir::FlatSymbolRefAttr weight) {
  mlir::fm::ParamOp param = b.param(weight);
  if (!param)
    return "its weight is no parameter";
  return mlir::plan::matrixUnitsUnfit(param,
                                      param.getTensorType().getShape().back());
}

llvm::Error lowerExpertGemm(LaunchBuilder &b, const ExpertGemm &gemm) {
  llvm::Expected<WeightLayout> layout =
      weightLayout(b, gemm.weight, "expert stack of plan.moe");
  if (!layout)
    return layout.takeError();
  int64_t stackRows = layout->rows / gemm.experts;
  bool glu = gemm.gluActivation.has_value();
  int64_t parts = glu ? 2 : 1;

  MatvecKernelSpec spec;
  spec.workgroupSize = mlir::plan::kMatvecWorkgroupSize;
  spec.threadsPerRow = mlir::plan::kMatvecThreadsPerRow;
  spec.rowsPerWorkgroup = mlir::plan::kMatrixUnitsRowsPerWorkgroup / parts;
  spec.int8Activations = layout->packed;
  spec.matrixUnits = true;
  spec.maxTokens = b.maxTokens();
  spec.rowsSlot = b.rowsSlot();
  spec.k = layout->k;
  unsigned bits = layout->packed ? layout->format.bits : 16;
  spec.tokensPerPass = mlir::plan::matrixUnitsTokensPerPass(
      spec.rowsPerWorkgroup, parts, bits, spec.workgroupSize);
  if (spec.tokensPerPass == 0)
    return llvm::createStringError(
        "the expert GEMM of '" + gemm.weight.getValue() +
        "' does not fit its tiles in " +
        llvm::Twine(mlir::plan::kGuaranteedWorkgroupBytes) +
        " bytes of workgroup memory");

  mlir::MLIRContext *ctx = gemm.weight.getContext();
  mlir::Type f32 = mlir::Float32Type::get(ctx);
  mlir::Type i32 = mlir::IntegerType::get(ctx, 32);
  MatvecBindings bindings(spec);
  auto bind = [&](Binding binding, mlir::Type element) {
    return bindings.add(std::move(binding), element);
  };
  spec.input = bind(gemm.input, f32);
  spec.run = bind(b.run(), i32);
  if (gemm.lists) {
    MatvecExpertGroups groups;
    groups.lists = bind(*gemm.lists, i32);
    groups.experts = gemm.experts;
    groups.expertRows = stackRows;
    groups.topK = gemm.topK;
    groups.slotInput = gemm.slotInput;
    spec.expertGroups = groups;
  }

  // The matrix units read the codes (and scales) as words only.
  MatvecSegment seg;
  seg.weight = *layout;
  seg.weightWords = bind(b.weight(gemm.weight), i32);
  seg.rows = stackRows / parts;
  if (glu) {
    seg.up = *layout;
    seg.upWords = seg.weightWords;
    seg.upRowOffset = seg.rows;
    seg.gluActivation = *gemm.gluActivation;
  }
  seg.output = bind(gemm.output, f32);
  spec.segments.push_back(seg);
  spec.finalize();

  // Passes of one expert's tokens split over the grid's z: enough
  // workgroups for a large GPU when few experts are picked. An expert has
  // at most one slot per token.
  int64_t rowTiles = llvm::divideCeil(seg.rows, spec.rowsPerWorkgroup);
  if (rowTiles > kMaxGridDimension || gemm.experts > kMaxGridDimension)
    return llvm::createStringError(
        "the expert GEMM of '" + gemm.weight.getValue() + "' needs a " +
        llvm::Twine(rowTiles) + " x " + llvm::Twine(gemm.experts) +
        " grid; each dimension is limited to " +
        llvm::Twine(kMaxGridDimension));
  spec.splitPasses(rowTiles * gemm.experts);
  std::string name = std::string("moe_gemm_") +
                     (layout->packed ? "q" + std::to_string(bits)
                      : layout->dtype == BF16 ? "bf16"
                                              : "f16") +
                     "_mma";
  return b.dispatchGenerated(
      name,
      [&](mlir::ImplicitLocOpBuilder &builder) {
        return emitMatvecKernel(builder, name, spec);
      },
      {static_cast<uint32_t>(spec.workgroupSize), 1, 1},
      {static_cast<uint32_t>(rowTiles), static_cast<uint32_t>(gemm.experts),
       static_cast<uint32_t>(spec.tokenSplits)},
      bindings.take());
}

} // namespace fmc::gpu
