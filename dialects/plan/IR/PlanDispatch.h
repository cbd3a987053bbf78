//===- PlanDispatch.h - what a matvec dispatch computes -------------------===//
//
// A #plan.matvec dispatch fuses a prologue, one or more linear products of
// one input and per-product epilogues. analyzeMatvec recovers that
// structure from the dispatch's kernels: the dispatch verifier uses it to
// reject bodies the generator cannot emit, plan-form-dispatches to accept a
// candidate group, and the GPU lowering to emit the kernel. One definition
// of "a matvec region" for all three.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_DIALECTS_PLAN_IR_PLANDISPATCH_H
#define FMC_DIALECTS_PLAN_IR_PLANDISPATCH_H

#include "dialects/plan/IR/PlanOps.h"

#include "llvm/ADT/SmallVector.h"

#include <string>

namespace mlir::plan {

/// One product of a matvec dispatch and what happens to its rows.
struct MatvecSegment {
  /// plan.linear or plan.logits (plan.grouped_linear regions have none).
  Operation *product = nullptr;
  FlatSymbolRefAttr weight, bias;
  /// Output rows of the product (its output width).
  int64_t rows = 0;
  /// The gate/up pair: `product` is the gate, `up` the up projection, `glu`
  /// combines them; the segment's rows are the GLU's.
  Operation *up = nullptr;
  FlatSymbolRefAttr upWeight, upBias;
  GluOp glu;
  /// plan.logits: y * scale, soft-capped when softcap > 0.
  double scale = 1.0, softcap = 0.0;
  /// y + other (either operand order).
  AddOp residual;
  Value residualOther;
  /// Per-head epilogues, in this order: qk-norm, RoPE, the cache append.
  RMSNormOp headNorm;
  RopeOp rope;
  KVAppendOp append;
  bool appendsKeys = false;
  /// Where the segment's final rows go; null when only appended.
  Value output;
  /// Whether an epilogue needs a whole head per workgroup.
  bool needsHeads() const { return headNorm || rope || append; }
  /// The head size of the per-head epilogues (0 without them).
  int64_t headDim() const;
};

/// A matvec dispatch's structure.
struct MatvecRegion {
  /// The activations the products read (the prologue's input when there is
  /// one).
  Value input;
  int64_t k = 0;
  /// plan.rms_norm over whole rows or plan.layer_norm; null without.
  Operation *prologue = nullptr;
  SmallVector<MatvecSegment> segments;
  /// A lone plan.grouped_linear: one launch per group.
  GroupedLinearOp grouped;
  /// The positions RoPE and the append read (null without them).
  Value positions;

  bool needsHeads() const;
  int64_t headDim() const;
};

/// Recovers the structure of `dispatch`'s body as a matvec region, or fails
/// with a diagnostic on `dispatch` (none when `emitErrors` is false)
/// naming what does not fit.
FailureOr<MatvecRegion> analyzeMatvec(DispatchOp dispatch,
                                      bool emitErrors = true);

/// The fm.param `symbol` names, looked up from `from`.
fm::ParamOp lookupParam(Operation *from, FlatSymbolRefAttr symbol);

/// Whether two parameters are stored alike (dense dtype, or the same
/// quantization), so one kernel decodes both.
bool sameWeightFormat(fm::ParamOp a, fm::ParamOp b);

/// Features of a K tile of 16-bit weights on matrix units (32 words).
constexpr int64_t kMatrixUnitsDenseTile = 64;

/// Why the matrix-unit products of a prefill matvec (`products = mma`)
/// cannot read `weight` over `k` features, or an empty string when they can:
/// f16 or bf16 rows of whole 64-feature tiles; or 2- or 4-bit row-major
/// codes, K whole int8 blocks of 128 features, and scale groups that split
/// into runs of 32 features (one m16n8k32 step) without crossing a block.
std::string matrixUnitsUnfit(fm::ParamOp weight, int64_t k);

/// Workgroup memory, in bytes, of a matvec on matrix units whose workgroups
/// take `rows` rows of each of `parts` weights (2 for a gate/up pair) of
/// `bits`-bit codes (16: f16 or bf16 weights) over `tokens` tokens a pass:
/// the staged activations (two 16-bit parts each for 16-bit weights) and
/// weights of a K tile, the activation sums, and the result tiles the
/// epilogues read.
int64_t matrixUnitsWorkgroupBytes(int64_t rows, int64_t parts,
                                  int64_t tokens, unsigned bits,
                                  int64_t workgroupSize);
/// The workgroup memory a matvec on matrix units may take: what lavapipe
/// and Apple GPUs have (NVIDIA GPUs: 48 KB without opting in). Vulkan's
/// required minimum is 16 KB; a device below 32 KB refuses the pipeline
/// when the artifact loads.
constexpr int64_t kGuaranteedWorkgroupBytes = 32768;
/// The tokens a pass of a matvec on matrix units takes (its
/// `tokens_per_pass`): 32, else 16, as kGuaranteedWorkgroupBytes allows;
/// 0 when neither fits.
int64_t matrixUnitsTokensPerPass(int64_t rows, int64_t parts, unsigned bits,
                                 int64_t workgroupSize);

/// The matvec configuration plan-form-dispatches chooses, which the GPU's
/// grouped expert GEMM (lowering/gpu/families/ExpertGemm.cpp) shares:
/// workgroups of 256 threads in teams of 32 lanes (a multiple of every
/// subgroup width fmc targets up to 32); two workgroups per SM of a large
/// GPU (an H200 has 132), so that small projections still spread over the
/// whole device; 64 rows a prefill workgroup on matrix units (one 8-row
/// tile per subgroup of 32 threads).
constexpr int64_t kMatvecWorkgroupSize = 256;
constexpr int64_t kMatvecThreadsPerRow = 32;
constexpr int64_t kMatvecTargetWorkgroups = 264;
constexpr int64_t kMatrixUnitsRowsPerWorkgroup = 64;

/// How many ranges of cache slots split-KV decode attention over `cache`
/// uses (#plan.decode_attention's default): ranges of at least 32 slots, so
/// a split's partial result (heads x (head_dim + 2) floats) stays small next
/// to the K and V rows it reads; about 512 workgroups over the cache's KV
/// heads (an H200 has 132 SMs: ~4 workgroups each at full context); at most
/// 64 partials for the combine to read.
int64_t defaultDecodeAttentionSplits(fm::KVCacheOp cache);

/// Buffers written inside `dispatch` and read after it.
SmallVector<Value> getLiveOutBuffers(DispatchOp dispatch);

} // namespace mlir::plan

#endif // FMC_DIALECTS_PLAN_IR_PLANDISPATCH_H
