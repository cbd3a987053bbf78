//===- MatvecEmitter.h - the matvec generator's shared state -------------===//
//
// Internal to the generator: the emitter of MatvecKernel.h's kernel, whose
// phases live in MatvecKernel.cpp (staging, the teams' reductions, the
// epilogue) and MatvecMma.cpp (products = mma: matrix-unit tiles).
//
//===----------------------------------------------------------------------===//

#ifndef FMC_LOWERING_GPU_GENERATOR_MATVECEMITTER_H
#define FMC_LOWERING_GPU_GENERATOR_MATVECEMITTER_H

#include "lowering/gpu/generator/Decode.h"
#include "lowering/gpu/generator/KernelBuilder.h"
#include "lowering/gpu/generator/MatvecKernel.h"

namespace fmc::gpu::detail {

using mlir::ImplicitLocOpBuilder;
using mlir::MLIRContext;
using mlir::Value;
using mlir::ValueRange;
using llvm::SmallVector;
using llvm::StringRef;


/// Workgroup memory the staged activations may take, in bytes.
constexpr int64_t kStagingBytes = 12 * 1024;
/// The smallest subgroup width the kernels support; reductions keep one
/// partial per subgroup of a workgroup.
constexpr int64_t kMinSubgroup = 8;
/// Features per block of int8 activations (the CPU backend's).
constexpr int64_t kBlock = 128;
/// Features of a K tile of f16 or bf16 weights on matrix units (32 words of
/// pairs, as an int8 block's 32 words of quadruples).
constexpr int64_t kDenseTile = 64;

inline int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

/// Elements of a packed code word (32 bits) and of one vector.
inline int64_t codesPerWord(const WeightLayout &w) { return 32 / w.format.bits; }
inline int64_t elementBytes(const WeightLayout &w) {
  return w.dtype == F32 ? 4 : 2;
}

/// Whether a weight's rows are read in whole vectors of `vectorBytes`:
/// rows that start on a vector, and (packed) groups of whole code words that
/// tile the vectors or are tiled by them.
inline bool vectorRows(const WeightLayout &w, int64_t vectorBytes) {
  if (w.ggml)
    return false;
  if (!w.packed)
    return (w.k * elementBytes(w)) % vectorBytes == 0;
  int64_t perVector = vectorBytes * 8 / w.format.bits;
  return w.rowBytes % vectorBytes == 0 && w.group % codesPerWord(w) == 0 &&
         (w.group % perVector == 0 || perVector % w.group == 0);
}


class MatvecEmitter {
public:
  MatvecEmitter(ImplicitLocOpBuilder &b, const MatvecKernelSpec &spec)
      : b(b), kb(b), s(spec), ctx(b.getContext()) {}

  mlir::gpu::GPUFuncOp emit(StringRef name);

private:
  // The pieces of the kernel.
  void emitSegment(const MatvecSegment &seg);
  void emitPrologueStats(Value t0);
  /// With expert groups: loads the pass's slots into passSlots.
  void emitPassSlots(Value t0);
  void emitStaging(Value t0, Value kt);
  void emitStagingF32(Value t0, Value kt);
  void emitStagingInt8(Value t0, Value kt);
  SmallVector<Value> emitVectorPath(const MatvecSegment &seg, Value kt,
                                    ValueRange accs);
  SmallVector<Value> emitGenericPath(const MatvecSegment &seg, Value kt,
                                     ValueRange accs);
  SmallVector<Value> emitGgmlPath(const MatvecSegment &seg, Value kt,
                                  ValueRange accs);
  void emitResultTile(ValueRange accs, bool pairs);
  void emitEpilogue(const MatvecSegment &seg, Value t0);

  // products = mma (MatvecMma.cpp).
  void emitMmaSegment(const MatvecSegment &seg);
  void emitMmaWeights(const MatvecSegment &seg, Value kt);
  void emitMmaDenseWeights(const MatvecSegment &seg, Value kt);
  void emitMmaTokenScales(Value t0);
  void emitMmaStagingHalves(Value t0, Value kt, bool bf16);
  SmallVector<Value> emitMmaDenseProducts(const MatvecSegment &seg,
                                          ValueRange accs);
  SmallVector<Value> emitMmaProducts(const MatvecSegment &seg, Value kt,
                                     ValueRange accs);
  void emitMmaResultTile(const MatvecSegment &seg, ValueRange accs);
  /// The weight row of the workgroup's local row `r` (index), clamped
  /// into the segment, in the gate (part 0) or up (part 1) weight.
  Value localWeightRow(const MatvecSegment &seg, Value r, int part);

  // Helpers.
  Value arg(int binding) const { return args[binding]; }
  /// The activation of token `token` (of the run) at feature `i`, after
  /// the prologue, with the pass's statistics of token `t` of the pass.
  Value normalized(Value token, Value t, Value i, Value valid);
  /// The input and output rows of token `token` (< rows): the token itself,
  /// or with expert groups its slot's rows (MatvecExpertGroups; `token`
  /// must then be one of the pass's).
  Value inputRow(Value token);
  Value outputRow(Value token);
  /// Element `i` of a dense vector parameter as f32.
  Value denseParam(const DenseVector &v, Value i) {
    return denseElement(kb, arg(v.binding), v.dtype, i);
  }
  /// The weight row of the team's row `r`, clamped into the segment, in
  /// the gate (part 0) or up (part 1) weight.
  Value weightRow(const MatvecSegment &seg, int64_t r, int part) {
    return weightRow(seg, kb.index(r), part);
  }
  Value weightRow(const MatvecSegment &seg, Value r, int part);
  /// Weight element `i` of row `row` as f32 (any format, any alignment).
  Value weightElement(const WeightLayout &w, int words, Value row, Value i);
  /// The scale (or minimum, at `base`) of group `g` of row `row` as f32.
  Value groupParam(const WeightLayout &w, int words, uint64_t base, Value row,
                   Value g);
  /// The products of one vector of weights (words) with the staged
  /// activations for every token of the pass.
  void accumulateVector(const WeightLayout &w, int words, Value row,
                        Value vectorIndex, Value vector, Value local,
                        SmallVector<Value> &acc, int64_t slot);

  int64_t teams() const { return s.workgroupSize / s.threadsPerRow; }
  int64_t rowsPerTeam() const { return s.rowsPerWorkgroup / teams(); }
  int64_t mainEnd(const WeightLayout &w) const;
  int64_t elementsPerVector(const WeightLayout &w) const;

  ImplicitLocOpBuilder &b;
  KernelBuilder kb;
  const MatvecKernelSpec &s;
  MLIRContext *ctx;
  SmallVector<Value> args;
  mlir::gpu::GPUModuleOp module;
  // Workgroup memory.
  Value xs, xq, xsum, blockMax, stats, partials, tile, tileUp, scratch;
  /// products = mma: the workgroup's rows' codes of the K tile, a row of
  /// `xqStride` words each, in xq's order (code word j's bit plane p at
  /// word j * planes + p), gate rows then up rows.
  Value wq;
  /// products = mma: the thread's lane in its subgroup of 32, the
  /// subgroup, and the first row (token) and column (weight row) of its
  /// elements of a 16 x 8 tile (Intrinsics.h emitMmaS8U8).
  Value fragmentLane, fragmentSubgroup, fragmentRow, fragmentColumn;
  /// products = mma over f16 or bf16 weights: the activations as two parts
  /// of the weights' type, x / scale = hi + lo (hi in xq, lo in xlo), and
  /// per token of the pass the power of two `scale` that keeps the tile's
  /// parts in range.
  Value xlo, tokenScales;
  /// Words per token of xq (and per row of wq): kTile / 4, and 4 more with
  /// products = mma so that the 8 rows a subgroup's fragments read fall in
  /// distinct banks.
  int64_t xqStride = 0;
  // Common values.
  Value tid, lane, team, workgroup, rows;
  /// With expert groups: the expert's first weight row, its list's first
  /// entry in `lists`, and per pass the slots of the pass's tokens in
  /// workgroup memory (`passSlots`, from token `passFirst` of the list);
  /// otherwise null.
  Value expertRowBase, listFirst, passSlots, passFirst;
  /// Tokens of the run in this pass (at most tokensPerPass).
  Value passTokens;
};

} // namespace fmc::gpu::detail

#endif // FMC_LOWERING_GPU_GENERATOR_MATVECEMITTER_H
