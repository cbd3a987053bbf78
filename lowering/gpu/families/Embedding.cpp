//===- Embedding.cpp - plan.embedding on the GPU --------------------------===//
//
// One thread per output element (kernels/embedding.mlir): dense tables of
// f32, f16 or bf16, and packed 2- or 4-bit tables decoded element by
// element; ggml block tables by the generated gather
// (generator/GgmlEmbeddingKernel.h), a run of 32 elements per thread.

#include "lowering/gpu/families/Families.h"
#include "lowering/gpu/families/WeightLayout.h"
#include "lowering/gpu/generator/GgmlEmbeddingKernel.h"
#include "lowering/gpu/generator/GgmlDecode.h"
#include "lowering/gpu/generator/KernelBuilder.h"

#include "dialects/plan/IR/PlanOps.h"

namespace fmc::gpu {

namespace {
constexpr uint32_t kThreads = 256;
} // namespace

llvm::Error lowerEmbedding(mlir::Operation *kernel, LaunchBuilder &b) {
  auto op = llvm::cast<mlir::plan::EmbeddingOp>(kernel);
  llvm::Expected<WeightLayout> table =
      weightLayout(b, op.getTableAttr(), "table of plan.embedding");
  if (!table)
    return table.takeError();
  int64_t width = widthOf(op.getOutput());
  if (table->k != width)
    return llvm::createStringError(
        "plan.embedding: table @" + op.getTable() + " has rows of " +
        llvm::Twine(table->k) + " elements, the output " + llvm::Twine(width));
  double scale = op.getScaleAttr() ? op.getScaleAttr().getValueAsDouble() : 1.0;
  std::array<uint32_t, 3> grid =
      gridFor(groupsFor(b.maxTokens() * width, kThreads));
  std::vector<Binding> bindings = {b.weight(op.getTableAttr()),
                                   b.buffer(op.getTokens()),
                                   b.buffer(op.getOutput()), b.run()};
  if (table->ggml) {
    GgmlEmbeddingSpec spec;
    spec.format = table->ggml;
    spec.workgroupSize = kThreads;
    spec.width = width;
    spec.vocab = table->rows;
    spec.rowsSlot = b.rowsSlot();
    spec.rowBytes = table->rowBytes;
    spec.scale = scale;
    mlir::MLIRContext *ctx = op.getContext();
    mlir::Type i32 = mlir::IntegerType::get(ctx, 32);
    for (auto [binding, element] :
         llvm::zip(bindings, std::array<mlir::Type, 4>{
                                 i32, i32, mlir::Float32Type::get(ctx), i32}))
      spec.bindings.push_back(bindingType(binding.bytes, element));
    std::string name = "embedding_" + std::string(table->ggml->fmName);
    return b.dispatchGenerated(
        name,
        [&](mlir::ImplicitLocOpBuilder &builder) {
          return emitGgmlEmbeddingKernel(builder, name, spec);
        },
        {kThreads, 1, 1},
        gridFor(groupsFor(b.maxTokens() * (width / kGgmlRun), kThreads)),
        std::move(bindings));
  }
  if (!table->packed)
    return b.dispatch("embedding",
                      {width, table->rows, table->dtype, scale, b.rowsSlot()},
                      {kThreads, 1, 1}, grid, std::move(bindings));
  const quant::Format &f = table->format;
  return b.dispatch(
      "embedding_packed",
      {width, table->rows, static_cast<int64_t>(f.bits),
       static_cast<int64_t>(f.grid == quant::Grid::Affine),
       static_cast<int64_t>(f.scaleType == quant::ScaleType::BF16),
       table->group, table->groups, static_cast<int64_t>(table->rowBytes),
       static_cast<int64_t>(table->scalesAt),
       static_cast<int64_t>(table->minsAt), scale, b.rowsSlot()},
      {kThreads, 1, 1}, grid, std::move(bindings));
}

} // namespace fmc::gpu
