//===- MatvecMma.cpp - prefill products on matrix units (products = mma) --===//
//
// The matvec's products as tiles for the matrix units, for the prefill of
// packed weights with int8 activations (llama.cpp's MMQ, in the generator's
// terms). Per pass of `tokensPerPass` tokens and K tile of one int8 block
// (128 features):
//   - the activations are staged and rounded exactly as for the teams'
//     reductions (MatvecKernel.cpp: xq, per-word sums, block maxima), and
//     the workgroup's rows' codes of the tile are staged beside them in the
//     same byte order (bit plane p of code word j at word j * planes + p),
//     so a code byte meets its activation byte with no unpacking;
//   - each subgroup of 32 threads owns 8-row tiles (gate tiles, then up
//     tiles of a GLU pair) and multiplies each with every 16-token tile of
//     the pass, 32 features per step (Intrinsics.h emitMmaS8U8), into
//     integer sums per run of 32..128 features that one scale covers;
//   - per run the lane's four elements take the CPU backend's formula:
//     scale * (sum * d) + second * (the run's activation sum), d the
//     token's block scale, second the grid's offset times the scale or the
//     affine minimum (QuantMath.h).
// After the last tile the lanes write their elements to the result tile and
// the epilogues run as for the reductions.
//
//===----------------------------------------------------------------------===//

#include "lowering/gpu/generator/Decode.h"
#include "lowering/gpu/generator/Intrinsics.h"
#include "lowering/gpu/generator/MatvecEmitter.h"
#include "lowering/gpu/generator/Reductions.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"

using namespace mlir;

namespace fmc::gpu::detail {

namespace {

/// Threads of a subgroup that share one matrix product.
constexpr int64_t kMmaLanes = 32;
/// Rows, tokens and features of one product (m16n8k32: 16 tokens x 8 rows).
constexpr int64_t kRowTile = 8, kTokenTile = 16, kFeatureStep = 32;
/// Features of one product of 16-bit values (m16n8k16).
constexpr int64_t kHalfStep = 16;

/// Features one scale covers inside an int8 block: the run whose integer
/// sums meet one scale and one block scale.
int64_t scaleRun(const WeightLayout &w) {
  return std::min<int64_t>(w.group, kBlock);
}

} // namespace

void MatvecEmitter::emitMmaSegment(const MatvecSegment &seg) {
  int64_t tt = s.tokensPerPass;
  int64_t parts = seg.up ? 2 : 1;
  int64_t rowTiles = s.rowsPerWorkgroup / kRowTile * parts;
  int64_t subgroups = s.workgroupSize / kMmaLanes;
  int64_t accCount = ceilDiv(rowTiles, subgroups) * (tt / kTokenTile) * 4;
  // The thread's place in its subgroup's fragments (Intrinsics.h).
  fragmentLane = kb.rem(tid, kMmaLanes);
  fragmentSubgroup = kb.div(tid, kMmaLanes);
  fragmentRow = kb.div(fragmentLane, 4);
  fragmentColumn = kb.mul(kb.rem(fragmentLane, 4), 2);
  Value split = mlir::gpu::BlockIdOp::create(b, mlir::gpu::Dimension::z);
  kb.loop(kb.mul(split, tt), rows, kb.index(tt * s.tokenSplits), [&](Value t0) {
    passTokens = kb.minIndex(kb.sub(rows, t0), kb.index(tt));
    if (s.expertGroups)
      emitPassSlots(t0);
    if (s.prologue)
      emitPrologueStats(t0);
    bool dense = !s.int8Activations;
    if (dense)
      emitMmaTokenScales(t0);
    SmallVector<Value> init(accCount, kb.f32(0.0));
    int64_t tiles = s.k / s.kTile;
    SmallVector<Value> accs = kb.loop(
        kb.index(0), kb.index(tiles * s.kTile), kb.index(s.kTile), init,
        [&](Value kt, ValueRange carried) -> SmallVector<Value> {
          kb.barrier();
          if (dense) {
            emitMmaStagingHalves(t0, kt, seg.weight.dtype == BF16);
            emitMmaDenseWeights(seg, kt);
          } else {
            emitStagingInt8(t0, kt);
            emitMmaWeights(seg, kt);
          }
          kb.barrier();
          if (dense)
            return emitMmaDenseProducts(seg, carried);
          return emitMmaProducts(seg, kt, carried);
        });
    emitMmaResultTile(seg, accs);
    emitEpilogue(seg, t0);
    kb.barrier();
  });
}

void MatvecEmitter::emitMmaWeights(const MatvecSegment &seg, Value kt) {
  // One thread per code word of the tile: its bit planes are the words the
  // products read (bytes of 2- or 4-bit codes, 0..3 or 0..15).
  int64_t rowsHere = s.rowsPerWorkgroup;
  for (int part = 0; part < (seg.up ? 2 : 1); ++part) {
    const WeightLayout &w = part ? *seg.up : seg.weight;
    int words = part ? seg.upWords : seg.weightWords;
    int64_t n = codesPerWord(w), planes = 8 / w.format.bits;
    int64_t wordsPerRow = s.kTile / n;
    int64_t mask = w.format.bits == 2 ? 0x03030303 : 0x0f0f0f0f;
    kb.loop(tid, kb.index(rowsHere * wordsPerRow), kb.index(s.workgroupSize),
            [&](Value e) {
              Value r = kb.div(e, wordsPerRow);
              Value j = kb.rem(e, wordsPerRow);
              Value row = localWeightRow(seg, r, part);
              Value at = kb.add(
                  kb.mul(row, static_cast<int64_t>(w.rowBytes / 4)),
                  kb.add(kb.div(kt, n), j));
              Value codes = kb.load(arg(words), at);
              Value first = kb.add(
                  kb.mul(kb.add(r, part * rowsHere), xqStride),
                  kb.mul(j, planes));
              for (int64_t p = 0; p < planes; ++p)
                kb.store(kb.andMask(kb.shr(codes, w.format.bits * p), mask),
                         wq, kb.add(first, p));
            });
  }
}

//===----------------------------------------------------------------------===//
// f16 and bf16 weights
//===----------------------------------------------------------------------===//

void MatvecEmitter::emitMmaTokenScales(Value t0) {
  // Per token of the pass, the power of two at or below its largest
  // activation (1 for a token of zeros or past the run): x / scale is under
  // 2 in magnitude, so neither part of it overflows an f16.
  int64_t tt = s.tokensPerPass;
  for (int64_t round = 0; round < ceilDiv(tt, teams()); ++round) {
    Value t = kb.add(team, round * teams());
    Value live = kb.ult(t, tt);
    Value safe = kb.select(live, t, kb.index(0));
    Value token = kb.add(t0, safe);
    Value inRun = kb.andBool(live, kb.ult(token, rows));
    SmallVector<Value> amax = kb.loop(
        lane, kb.index(s.k), kb.index(s.threadsPerRow), {kb.f32(0.0)},
        [&](Value i, ValueRange acc) -> SmallVector<Value> {
          Value x = normalized(token, safe, i, inRun);
          return {kb.fmax(acc[0], kb.fabs(x))};
        });
    Value m = teamReduce(kb, {amax[0]}, partials, s.threadsPerRow,
                         s.workgroupSize, /*max=*/true)[0];
    Value power = kb.bitsToF32(
        kb.andMask(arith::BitcastOp::create(b, b.getI32Type(), m), 0x7f800000));
    Value positive = b.createOrFold<arith::CmpFOp>(arith::CmpFPredicate::OGT,
                                                   power, kb.f32(0.0));
    kb.ifThen(kb.andBool(live, kb.eq(lane, 0)), [&] {
      kb.store(kb.select(positive, power, kb.f32(1.0)), tokenScales, safe);
    });
  }
  kb.barrier();
}

void MatvecEmitter::emitMmaStagingHalves(Value t0, Value kt, bool bf16) {
  // One thread per word (a feature pair) of each token: x / scale as hi +
  // lo, both of the weights' type, so the products keep about 22 (f16) or
  // 16 (bf16) bits of each activation.
  int64_t words = s.kTile / 2;
  kb.loop(tid, kb.index(s.tokensPerPass * words), kb.index(s.workgroupSize),
          [&](Value e) {
            Value t = kb.div(e, words);
            Value j = kb.rem(e, words);
            Value token = kb.add(t0, t);
            Value inRun = kb.ult(token, rows);
            Value inverse = kb.fdiv(kb.f32(1.0), kb.load(tokenScales, t));
            Value hi = kb.i32(0), lo = kb.i32(0);
            for (int64_t half = 0; half < 2; ++half) {
              Value i = kb.add(kt, kb.add(kb.mul(j, 2), half));
              Value x = kb.fmul(normalized(token, t, i, inRun), inverse);
              Value hiBits = bf16 ? f32ToBf16Bits(kb, x) : f32ToF16Bits(kb, x);
              Value rest = kb.fsub(x, halfToF32(kb, hiBits, bf16));
              Value loBits =
                  bf16 ? f32ToBf16Bits(kb, rest) : f32ToF16Bits(kb, rest);
              hi = b.createOrFold<arith::OrIOp>(hi, kb.shl(hiBits, 16 * half));
              lo = b.createOrFold<arith::OrIOp>(lo, kb.shl(loBits, 16 * half));
            }
            Value at = kb.add(kb.mul(t, xqStride), j);
            kb.store(hi, xq, at);
            kb.store(lo, xlo, at);
          });
}

void MatvecEmitter::emitMmaDenseWeights(const MatvecSegment &seg, Value kt) {
  // The tile's words of the workgroup's rows, as stored (pairs of f16 or
  // bf16 along K).
  int64_t rowsHere = s.rowsPerWorkgroup, words = s.kTile / 2;
  for (int part = 0; part < (seg.up ? 2 : 1); ++part) {
    const WeightLayout &w = part ? *seg.up : seg.weight;
    int binding = part ? seg.upWords : seg.weightWords;
    kb.loop(tid, kb.index(rowsHere * words), kb.index(s.workgroupSize),
            [&](Value e) {
              Value r = kb.div(e, words);
              Value j = kb.rem(e, words);
              Value row = localWeightRow(seg, r, part);
              Value at = kb.add(kb.mul(row, w.k / 2), kb.add(kb.div(kt, 2), j));
              kb.store(kb.load(arg(binding), at), wq,
                       kb.add(kb.mul(kb.add(r, part * rowsHere), xqStride), j));
            });
  }
}

SmallVector<Value> MatvecEmitter::emitMmaDenseProducts(const MatvecSegment &seg,
                                                       ValueRange accs) {
  // The f32 accumulators take the products of both parts directly; the
  // token's scale applies once, when the result tile is written.
  int64_t tokenTiles = s.tokensPerPass / kTokenTile;
  int64_t rowTiles = s.rowsPerWorkgroup / kRowTile * (seg.up ? 2 : 1);
  int64_t subgroups = s.workgroupSize / kMmaLanes;
  bool bf16 = seg.weight.dtype == BF16;
  SmallVector<Value> acc(accs);
  for (int64_t i = 0; i < ceilDiv(rowTiles, subgroups); ++i) {
    Value tileIndex = kb.minIndex(kb.add(fragmentSubgroup, i * subgroups),
                                  kb.index(rowTiles - 1));
    Value bBase = kb.mul(tileIndex, kRowTile * xqStride);
    for (int64_t mi = 0; mi < tokenTiles; ++mi) {
      Value aBase = kb.index(mi * kTokenTile * xqStride);
      ValueRange c(acc);
      SmallVector<Value> tile = kb.loop(
          kb.index(0), kb.index(s.kTile / kHalfStep), kb.index(1),
          c.slice((i * tokenTiles + mi) * 4, 4),
          [&](Value step, ValueRange sums) -> SmallVector<Value> {
            Value words = kb.mul(step, kHalfStep / 2);
            SmallVector<Value, 4> next(sums);
            for (Value part : {xq, xlo})
              next = emitMmaHalves(b, module, bf16, part,
                                   kb.add(aBase, words), xqStride, wq,
                                   kb.add(bBase, words), xqStride,
                                   fragmentLane, next);
            return SmallVector<Value>(next.begin(), next.end());
          });
      for (int64_t e = 0; e < 4; ++e)
        acc[(i * tokenTiles + mi) * 4 + e] = tile[e];
    }
  }
  return acc;
}

//===----------------------------------------------------------------------===//
// Packed codes
//===----------------------------------------------------------------------===//

SmallVector<Value> MatvecEmitter::emitMmaProducts(const MatvecSegment &seg,
                                                  Value kt, ValueRange accs) {
  const WeightLayout &w0 = seg.weight;
  int64_t tt = s.tokensPerPass, tokenTiles = tt / kTokenTile;
  int64_t parts = seg.up ? 2 : 1;
  int64_t tilesPerPart = s.rowsPerWorkgroup / kRowTile;
  int64_t rowTiles = tilesPerPart * parts;
  int64_t subgroups = s.workgroupSize / kMmaLanes;
  int64_t perSubgroup = ceilDiv(rowTiles, subgroups);
  int64_t run = scaleRun(w0), runs = s.kTile / run;
  int64_t n = codesPerWord(w0);
  double offset = ((1 << w0.format.bits) - 1) / 2.0;

  return kb.loop(
      kb.index(0), kb.index(runs), kb.index(1), accs,
      [&](Value c, ValueRange carried) -> SmallVector<Value> {
        SmallVector<Value> acc(carried);
        Value runWord = kb.mul(c, run / 4); // The run's first word in a row.
        // The run's activation sum of token `t` of the pass and its block
        // scale (read where used: registers are what limits these tiles).
        auto tokenSum = [&](Value t) {
          Value first = kb.add(kb.mul(t, s.kTile / n), kb.mul(c, run / n));
          Value sum = kb.f32(0.0);
          for (int64_t q = 0; q < run / n; ++q)
            sum = kb.fadd(sum, kb.load(xsum, kb.add(first, q)));
          return sum;
        };
        for (int64_t i = 0; i < perSubgroup; ++i) {
          // The subgroup's i-th row tile (the last ones repeat a valid tile
          // when the tiles do not divide among the subgroups; their results
          // are not stored).
          Value tileIndex =
              kb.minIndex(kb.add(fragmentSubgroup, i * subgroups),
                          kb.index(rowTiles - 1));
          Value bBase = kb.add(kb.mul(tileIndex, kRowTile * xqStride), runWord);
          // The scales of the lane's two weight rows (columns
          // fragmentColumn and fragmentColumn + 1 of the tile), for the
          // part the tile is in.
          Value part = kb.div(tileIndex, tilesPerPart);
          Value gi = kb.div(kb.add(kt, kb.mul(c, run)), w0.group);
          SmallVector<Value, 2> scale, second;
          for (int64_t col = 0; col < 2; ++col) {
            Value r = kb.add(kb.mul(kb.rem(tileIndex, tilesPerPart), kRowTile),
                             kb.add(fragmentColumn, col));
            Value sc, sd;
            for (int p = 0; p < parts; ++p) {
              const WeightLayout &w = p ? *seg.up : seg.weight;
              int words = p ? seg.upWords : seg.weightWords;
              Value row = localWeightRow(seg, r, p);
              Value a = groupParam(w, words, w.scalesAt, row, gi);
              Value m = w.format.grid == quant::Grid::Affine
                            ? groupParam(w, words, w.minsAt, row, gi)
                            : kb.fmul(a, kb.f32(-offset));
              sc = p ? kb.select(kb.eq(part, 1), a, sc) : a;
              sd = p ? kb.select(kb.eq(part, 1), m, sd) : m;
            }
            scale.push_back(sc);
            second.push_back(sd);
          }
          for (int64_t mi = 0; mi < tokenTiles; ++mi) {
            Value aBase = kb.add(kb.index(mi * kTokenTile * xqStride), runWord);
            SmallVector<Value> zero(4, kb.i32(0));
            SmallVector<Value> isum = kb.loop(
                kb.index(0), kb.index(run / kFeatureStep), kb.index(1), zero,
                [&](Value step, ValueRange sums) -> SmallVector<Value> {
                  Value words = kb.mul(step, kFeatureStep / 4);
                  SmallVector<Value, 4> next = emitMmaS8U8(
                      b, module, xq, kb.add(aBase, words), xqStride, wq,
                      kb.add(bBase, words), xqStride, fragmentLane, sums);
                  return SmallVector<Value>(next.begin(), next.end());
                });
            for (int64_t half = 0; half < 2; ++half) {
              // Rows fragmentRow and fragmentRow + 8 of the token tile.
              Value t = kb.add(fragmentRow, mi * kTokenTile + 8 * half);
              Value d = kb.fdiv(kb.load(blockMax, t), kb.f32(127.0));
              Value runSum = tokenSum(t);
              for (int64_t col = 0; col < 2; ++col) {
                int64_t e = half * 2 + col;
                Value &a = acc[(i * tokenTiles + mi) * 4 + e];
                Value products = kb.fmul(kb.sitofp(isum[e]), d);
                a = kb.fma(scale[col], products, a);
                a = kb.fma(second[col], runSum, a);
              }
            }
          }
        }
        return acc;
      });
}

void MatvecEmitter::emitMmaResultTile(const MatvecSegment &seg,
                                      ValueRange accs) {
  int64_t tt = s.tokensPerPass, tokenTiles = tt / kTokenTile;
  int64_t tilesPerPart = s.rowsPerWorkgroup / kRowTile;
  int64_t rowTiles = tilesPerPart * (seg.up ? 2 : 1);
  int64_t subgroups = s.workgroupSize / kMmaLanes;
  for (int64_t i = 0; i < ceilDiv(rowTiles, subgroups); ++i) {
    Value tileIndex = kb.add(fragmentSubgroup, i * subgroups);
    Value part = kb.div(tileIndex, tilesPerPart);
    Value rowBase = kb.add(kb.mul(kb.rem(tileIndex, tilesPerPart), kRowTile),
                           fragmentColumn);
    for (int p = 0; p < (seg.up ? 2 : 1); ++p)
      kb.ifThen(kb.andBool(kb.ult(tileIndex, rowTiles), kb.eq(part, p)), [&] {
        for (int64_t mi = 0; mi < tokenTiles; ++mi)
          for (int64_t e = 0; e < 4; ++e) {
            Value row = kb.add(rowBase, e % 2);
            Value token = kb.add(fragmentRow, mi * kTokenTile + 8 * (e / 2));
            Value v = accs[(i * tokenTiles + mi) * 4 + e];
            if (!s.int8Activations)
              v = kb.fmul(v, kb.load(tokenScales, token));
            kb.store(v, p ? tileUp : tile, kb.add(kb.mul(row, tt), token));
          }
      });
  }
  kb.barrier();
}

} // namespace fmc::gpu::detail
