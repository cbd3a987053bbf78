//===- GgmlEmbeddingKernel.h - the embedding gather of ggml block tables --===//
//
// plan.embedding over a table kept in ggml blocks: one thread per run of 32
// output elements of the run's rows (token t, run j of the row), which
// decodes run j of the token's table row (GgmlDecode.h) and stores it times
// the embedding's scale, as the CPU backend's gather does. An id outside
// [0, vocab) gives a zero row, as the dense template's (the runtime checks
// ids before a run).
//
//===----------------------------------------------------------------------===//

#ifndef FMC_LOWERING_GPU_GENERATOR_GGMLEMBEDDINGKERNEL_H
#define FMC_LOWERING_GPU_GENERATOR_GGMLEMBEDDINGKERNEL_H

#include "runtime/GgmlBlocks.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

#include <cstdint>
#include <vector>

namespace fmc::gpu {

struct GgmlEmbeddingSpec {
  const ggml::BlockFormat *format = nullptr;
  int64_t workgroupSize = 256;
  int64_t width = 0, vocab = 0, rowsSlot = 0;
  uint64_t rowBytes = 0;
  double scale = 1.0;
  /// Bindings: the table (i32 words), token ids, the output, the run
  /// record.
  int table = 0, tokens = 1, output = 2, run = 3;
  std::vector<mlir::MemRefType> bindings;
};

mlir::gpu::GPUFuncOp emitGgmlEmbeddingKernel(mlir::ImplicitLocOpBuilder &b,
                                             llvm::StringRef name,
                                             const GgmlEmbeddingSpec &spec);

} // namespace fmc::gpu

#endif // FMC_LOWERING_GPU_GENERATOR_GGMLEMBEDDINGKERNEL_H
