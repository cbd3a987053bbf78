//===- Embedding.cpp - plan.embedding on the GPU --------------------------===//
//
// One thread per output element (kernels/embedding.mlir): dense tables of
// f32, f16 or bf16, and packed 2- or 4-bit tables decoded element by
// element.

#include "lowering/gpu/families/Families.h"
#include "lowering/gpu/families/WeightLayout.h"

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
