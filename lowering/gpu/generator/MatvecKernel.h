//===- MatvecKernel.h - the generated matrix-vector kernel ----------------===//
//
// One parameterized kernel for every linear product of the plan (#plan.matvec
// dispatches): y = prologue(x) W^T over one or more weight segments with
// their epilogues. The description below is all the generator reads; the
// family lowering (families/Matvec.cpp) fills it from the dispatch's
// MatvecRegion and configuration, and owns the bindings.
//
// Work decomposition (per workgroup of `workgroupSize` threads):
//   - rows: the workgroup owns `rowsPerWorkgroup` consecutive output rows of
//     the concatenated segments; teams of `threadsPerRow` threads own
//     rowsPerWorkgroup / teams rows each and split K among their lanes;
//   - tokens: the run's rows in passes of `tokensPerPass`; per pass the
//     activations are staged once in workgroup memory (normalized by the
//     prologue, and with int8 activations rounded per block of 128 exactly
//     as the CPU backend rounds them), in tiles of `kTile` features;
//   - weights: each lane loads `vectorBytes` of a row at a time (whole
//     vectors of packed codes or dense elements) and decodes them in
//     registers against the staged activations it keeps in registers for
//     all of its team's rows; what whole vectors do not cover (a K tail,
//     rows not aligned to words) is decoded element by element;
//   - the lanes' sums meet through subgroup reductions (subgroups of at most
//     `threadsPerRow` lanes) into a tile of results in workgroup memory,
//     which all threads then carry through the epilogues and store.
//
// With `matrixUnits` (products = mma, prefill of packed weights) the
// workgroup stages the K tile's codes of its rows next to the int8
// activations, and each subgroup of 32 threads owns 8-row tiles and
// multiplies them with every 16-token tile of the pass, 32 features per
// step (Intrinsics.h: mma.sync on CUDA), applying group scales per run of
// integer sums; the result tile and epilogues are the same.
//
// With `expertGroups` the kernel is a grouped GEMM over a stack of experts:
// the grid's y is the expert, whose tokens are the slots listed for it and
// whose rows are its slice of the stack (MatvecExpertGroups).
//
//===----------------------------------------------------------------------===//

#ifndef FMC_LOWERING_GPU_GENERATOR_MATVECKERNEL_H
#define FMC_LOWERING_GPU_GENERATOR_MATVECKERNEL_H

#include "lowering/gpu/families/AttentionCache.h"
#include "lowering/gpu/families/WeightLayout.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

#include <cstdint>
#include <optional>
#include <vector>

namespace fmc::gpu {

/// A dense vector parameter (norm weight, bias) read as i32 words.
struct DenseVector {
  int64_t dtype = Absent; ///< DenseType; Absent: no parameter.
  int binding = -1;
};

struct MatvecNorm {
  enum class Kind { Rms, Layer } kind = Kind::Rms;
  DenseVector weight, bias;
  double eps = 0.0, weightOffset = 0.0;
};

struct MatvecRope {
  bool interleaved = true;
  int64_t headDim = 0, rotaryDim = 0;
  double theta = 10000.0;
  /// Scaled inverse frequencies (rotaryDim / 2), replacing theta^(-2j/r);
  /// empty: unscaled.
  std::vector<float> frequencies;
  /// Multiplies cos and sin (YaRN's mscale).
  double attentionFactor = 1.0;
};

struct MatvecAppend {
  GpuCacheLayout layout;
  int64_t kvHeads = 0, headDim = 0, capacity = 0;
  bool ring = false;
  bool keys = true;
  int cache = -1; ///< Binding of the cache.
};

struct MatvecSegment {
  int64_t rows = 0;          ///< Output rows.
  int64_t rowStart = 0;      ///< First row in the dispatch's row space.
  int64_t weightRowBase = 0; ///< First row of the weight it reads.
  WeightLayout weight;
  int weightVectors = -1, weightWords = -1; ///< Bindings of the weight.
  DenseVector bias;
  /// Gate/up pair: the up projection and the GLU's activation code
  /// (families/Families.h activationCode).
  std::optional<WeightLayout> up;
  int upVectors = -1, upWords = -1;
  /// Rows between a gate row and its up row when both are rows of one
  /// weight (a stacked expert's gate_up); 0: the up weight's own rows.
  int64_t upRowOffset = 0;
  DenseVector upBias;
  int64_t gluActivation = -1;
  double scale = 1.0, softcap = 0.0;
  int residual = -1; ///< Binding of the residual operand (rows x `rows`).
  std::optional<MatvecNorm> headNorm;
  std::optional<MatvecRope> rope;
  std::optional<MatvecAppend> append;
  int output = -1; ///< Binding of the output buffer; -1: not stored.
};

/// A mixture-of-experts stack run grouped by expert (prefill): workgroup
/// (x, e) owns rows of expert e, whose tokens are the slots moe_group listed
/// for it (`lists`: experts + 1 starts, then the slots in expert order).
/// Token t of the expert is slot s = lists[experts + 1 + lists[e] + t]; it
/// reads input row s (`slotInput`) or s / topK, and writes output row s.
/// The weight is the stack seen as [experts * expertRows][k]: expert e's
/// row r is row e * expertRows + r.
struct MatvecExpertGroups {
  int lists = -1; ///< Binding of moe_group's lists.
  int64_t experts = 0, expertRows = 0, topK = 1;
  bool slotInput = false;
};

struct MatvecKernelSpec {
  // Configuration (#plan.matvec).
  int64_t workgroupSize = 256, rowsPerWorkgroup = 8, threadsPerRow = 32;
  int64_t vectorBytes = 16, tokensPerPass = 1;
  bool int8Activations = false;
  bool headTiles = false;
  /// products = mma: 16-token x 8-row tiles on matrix units (MatvecMma.cpp)
  /// instead of the teams' reductions; the K tile is one int8 block.
  bool matrixUnits = false;
  /// products = mma: workgroups along the grid's z that split the passes
  /// of tokens (workgroup z takes passes z, z + tokenSplits, ...), so that
  /// the few row tiles of a projection still fill a large GPU.
  int64_t tokenSplits = 1;
  /// Grouped by expert (grid y is the expert); the run's tokens otherwise.
  std::optional<MatvecExpertGroups> expertGroups;
  // Shapes.
  int64_t k = 0;
  int64_t maxTokens = 1;
  int64_t rowsSlot = 0;
  /// Features staged per pass (a multiple of 128); derived by finalize().
  int64_t kTile = 0;

  std::optional<MatvecNorm> prologue;
  std::vector<MatvecSegment> segments;

  int input = -1, run = -1, positions = -1; ///< Bindings.
  /// The bindings' memref types, in order.
  std::vector<mlir::MemRefType> bindings;

  /// Total output rows.
  int64_t rows() const;
  /// Picks kTile for the workgroup memory the staging may use.
  void finalize();
  /// products = mma: sets tokenSplits so that `workgroups` workgroups (row
  /// tiles, times experts when grouped) times the splits reach
  /// plan::kMatvecTargetWorkgroups (two per SM of a large GPU), at most one
  /// split per pass of the longest run.
  void splitPasses(int64_t workgroups);
};

/// Emits the kernel described by `spec` as `name` at `b`'s insertion point
/// (inside a gpu.module).
mlir::gpu::GPUFuncOp emitMatvecKernel(mlir::ImplicitLocOpBuilder &b,
                                      llvm::StringRef name,
                                      const MatvecKernelSpec &spec);

} // namespace fmc::gpu

#endif // FMC_LOWERING_GPU_GENERATOR_MATVECKERNEL_H
