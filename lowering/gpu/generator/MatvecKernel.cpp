//===- MatvecKernel.cpp - the generated matrix-vector kernel --------------===//
//
// The emitter follows the kernel's phases (MatvecKernel.h): per segment a
// loop over passes of tokens; per pass the prologue's statistics, then per
// K tile the staging of activations and the products of the team's rows;
// then the reduction into the result tile and the epilogue. Everything a
// specialization fixes (shapes, formats, tiling) is a C++ constant here, so
// loops have static bounds where they can and the decoding is straight-line
// code for the one format of the dispatch.
//
//===----------------------------------------------------------------------===//

#include "lowering/gpu/generator/MatvecKernel.h"
#include "lowering/gpu/generator/MatvecEmitter.h"

#include "lowering/gpu/generator/Decode.h"
#include "lowering/gpu/generator/GgmlDecode.h"
#include "lowering/gpu/generator/Intrinsics.h"
#include "lowering/gpu/generator/KernelBuilder.h"
#include "lowering/gpu/generator/MatvecEpilogues.h"
#include "lowering/gpu/generator/Reductions.h"

#include "dialects/plan/IR/PlanDispatch.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <algorithm>
#include <cassert>

using namespace mlir;

namespace fmc::gpu {

using namespace detail;

int64_t MatvecKernelSpec::rows() const {
  int64_t n = 0;
  for (const MatvecSegment &s : segments)
    n += s.rows;
  return n;
}

void MatvecKernelSpec::finalize() {
  const WeightLayout &w = segments.front().weight;
  double perElement = 4.0;
  if (int8Activations && !w.ggml)
    perElement = 1.0 + 4.0 / codesPerWord(w) + 4.0 / kBlock +
                 (vectorRows(w, vectorBytes) && k % kBlock == 0 ? 0.0 : 4.0);
  if (matrixUnits) {
    kTile = int8Activations ? kBlock : kDenseTile;
    return;
  }
  int64_t fit = static_cast<int64_t>(kStagingBytes /
                                     (perElement * tokensPerPass));
  kTile = std::clamp<int64_t>(fit / kBlock * kBlock, kBlock,
                              ceilDiv(k, kBlock) * kBlock);
}


void MatvecKernelSpec::splitPasses(int64_t workgroups) {
  int64_t passes = ceilDiv(maxTokens, tokensPerPass);
  tokenSplits = std::clamp<int64_t>(mlir::plan::kMatvecTargetWorkgroups /
                                        std::max<int64_t>(1, workgroups),
                                    1, passes);
}

namespace detail {

int64_t MatvecEmitter::elementsPerVector(const WeightLayout &w) const {
  return w.packed ? s.vectorBytes * 8 / w.format.bits
                  : s.vectorBytes / elementBytes(w);
}

int64_t MatvecEmitter::mainEnd(const WeightLayout &w) const {
  if (!vectorRows(w, s.vectorBytes))
    return 0;
  if (w.packed)
    return s.int8Activations ? s.k / kBlock * kBlock : 0;
  return s.k / elementsPerVector(w) * elementsPerVector(w);
}

mlir::gpu::GPUFuncOp MatvecEmitter::emit(StringRef name) {
  // Expert groups: the matrix units' passes (split over z) and the row
  // epilogue, whose outputs are the slots' rows; no prologue and no
  // per-token steps of heads (positions are the run's).
  assert(!s.expertGroups ||
         (s.matrixUnits && !s.headTiles && !s.prologue &&
          llvm::none_of(s.segments, [](const MatvecSegment &g) {
            return g.rope || g.append || g.residual >= 0;
          })));
  const WeightLayout &w0 = s.segments.front().weight;
  int64_t tt = s.tokensPerPass, kt = s.kTile;
  bool int8 = s.int8Activations;
  bool mma = s.matrixUnits, denseMma = mma && !int8;
  bool needXs = !mma && (!int8 || mainEnd(w0) < s.k);
  bool pairs = llvm::any_of(s.segments,
                            [](const MatvecSegment &g) { return g.up; });
  // The teams' reductions keep every accumulator's partials; with matrix
  // units only the prologue's, staging's and epilogue's single values.
  int64_t reductions =
      s.matrixUnits ? 2
                    : std::max<int64_t>(rowsPerTeam() * tt * (pairs ? 2 : 1),
                                        2 * tt);
  // Words of a token's staged tile: int8 codes four to a word, 16-bit
  // parts two to a word (products = mma over f16 or bf16 weights).
  xqStride = (denseMma ? kt / 2 : kt / 4) + (mma ? 4 : 0);
  SmallVector<Type> buffers;
  Type f32 = b.getF32Type(), i32 = b.getI32Type();
  auto add = [&](int64_t elements, Type type) {
    buffers.push_back(workgroupBuffer(ctx, elements, type));
    return static_cast<int>(buffers.size() - 1);
  };
  int xsAt = needXs ? add(tt * kt, f32) : -1;
  int xqAt = int8 || mma ? add(tt * xqStride, i32) : -1;
  int xloAt = denseMma ? add(tt * xqStride, i32) : -1;
  int tokenScalesAt = denseMma ? add(tt, f32) : -1;
  int wqAt = mma
                 ? add(s.rowsPerWorkgroup * (pairs ? 2 : 1) * xqStride, i32)
                 : -1;
  int xsumAt = int8 ? add(tt * kt / codesPerWord(w0), f32) : -1;
  int maxAt = int8 ? add(tt * kt / kBlock, f32) : -1;
  int statsAt = add(2 * tt, f32);
  int partialsAt = add(reductions * (s.workgroupSize / kMinSubgroup), f32);
  int tileAt = add(s.rowsPerWorkgroup * tt, f32);
  int tileUpAt = pairs ? add(s.rowsPerWorkgroup * tt, f32) : -1;
  int scratchAt = add(s.rowsPerWorkgroup, f32);
  int passSlotsAt = s.expertGroups ? add(tt, i32) : -1;

  SmallVector<Type> bindingTypes(s.bindings.begin(), s.bindings.end());
  module = cast<mlir::gpu::GPUModuleOp>(b.getInsertionBlock()->getParentOp());
  mlir::gpu::GPUFuncOp func =
      createKernel(b, name, bindingTypes, buffers, s.workgroupSize);
  if (s.matrixUnits)
    // Two workgroups per SM is enough to hide the tiles' latency; left to
    // itself ptxas aims at more and spills the fragments at 80 registers.
    // Head tiles of 128 rows with their epilogues (qk-norm, RoPE, the int8
    // append) need more than the 128 registers two allow: one.
    func->setAttr("nvvm.minctasm",
                  b.getI32IntegerAttr(s.headTiles && s.rowsPerWorkgroup > 64
                                          ? 1
                                          : 2));
  Block &entry = func.getBody().front();
  for (unsigned i = 0; i < bindingTypes.size(); ++i)
    args.push_back(entry.getArgument(i));
  auto buffer = [&](int at) -> Value {
    if (at < 0)
      return Value();
    return Value(func.getWorkgroupAttributions()[static_cast<unsigned>(at)]);
  };
  xs = buffer(xsAt);
  xq = buffer(xqAt);
  wq = buffer(wqAt);
  xlo = buffer(xloAt);
  tokenScales = buffer(tokenScalesAt);
  xsum = buffer(xsumAt);
  blockMax = buffer(maxAt);
  stats = buffer(statsAt);
  partials = buffer(partialsAt);
  tile = buffer(tileAt);
  tileUp = buffer(tileUpAt);
  scratch = buffer(scratchAt);
  passSlots = buffer(passSlotsAt);

  tid = kb.threadId();
  lane = kb.rem(tid, s.threadsPerRow);
  team = kb.div(tid, s.threadsPerRow);
  if (const std::optional<MatvecExpertGroups> &groups = s.expertGroups) {
    // Grid (row tiles, experts, token splits): the expert's tokens are its
    // list's slots.
    workgroup = mlir::gpu::BlockIdOp::create(b, mlir::gpu::Dimension::x);
    Value expert = mlir::gpu::BlockIdOp::create(b, mlir::gpu::Dimension::y);
    Value lists = arg(groups->lists);
    Value start = kb.i32ToIndex(kb.load(lists, expert));
    Value end = kb.i32ToIndex(kb.load(lists, kb.add(expert, 1)));
    rows = kb.sub(end, start);
    listFirst = kb.add(start, groups->experts + 1);
    expertRowBase = kb.mul(expert, groups->expertRows);
  } else {
    workgroup = kb.workgroupId();
    rows = kb.i32ToIndex(kb.load(arg(s.run), kb.index(s.rowsSlot)));
  }

  // Each segment fills whole workgroups (or is the only one): the branch on
  // the workgroup is uniform, so every barrier inside is reached by all.
  for (const MatvecSegment &seg : s.segments) {
    int64_t first = seg.rowStart / s.rowsPerWorkgroup;
    int64_t last = ceilDiv(seg.rowStart + seg.rows, s.rowsPerWorkgroup);
    Value inside = kb.andBool(kb.ult(workgroup, kb.index(last)),
                              kb.uge(workgroup, kb.index(first)));
    kb.ifThen(inside, [&] { emitSegment(seg); });
  }
  return func;
}

void MatvecEmitter::emitSegment(const MatvecSegment &seg) {
  if (s.matrixUnits)
    return emitMmaSegment(seg);
  int64_t tt = s.tokensPerPass;
  bool pair = seg.up.has_value();
  int64_t accCount = rowsPerTeam() * tt * (pair ? 2 : 1);
  kb.loop(kb.index(0), rows, kb.index(tt), [&](Value t0) {
    passTokens = kb.minIndex(kb.sub(rows, t0), kb.index(tt));
    if (s.prologue)
      emitPrologueStats(t0);
    SmallVector<Value> init(accCount, kb.f32(0.0));
    int64_t tiles = ceilDiv(s.k, s.kTile);
    SmallVector<Value> accs = kb.loop(
        kb.index(0), kb.index(tiles * s.kTile), kb.index(s.kTile), init,
        [&](Value kt, ValueRange carried) -> SmallVector<Value> {
          kb.barrier();
          emitStaging(t0, kt);
          kb.barrier();
          if (seg.weight.ggml)
            return emitGgmlPath(seg, kt, carried);
          SmallVector<Value> next = emitVectorPath(seg, kt, carried);
          return emitGenericPath(seg, kt, next);
        });
    emitResultTile(accs, pair);
    emitEpilogue(seg, t0);
    kb.barrier();
  });
}

//===----------------------------------------------------------------------===//
// Prologue and staging
//===----------------------------------------------------------------------===//

void MatvecEmitter::emitPrologueStats(Value t0) {
  const MatvecNorm &norm = *s.prologue;
  int64_t k = s.k;
  for (int64_t t = 0; t < s.tokensPerPass; ++t) {
    Value token = kb.add(t0, t);
    Value valid = kb.ult(token, rows);
    Value rowBase = kb.mul(inputRow(kb.select(valid, token, t0)), k);
    auto sumOver = [&](llvm::function_ref<Value(Value)> term) {
      SmallVector<Value> part = kb.loop(
          tid, kb.index(k), kb.index(s.workgroupSize), {kb.f32(0.0)},
          [&](Value i, ValueRange acc) -> SmallVector<Value> {
            Value x = kb.load(arg(s.input), kb.add(rowBase, i));
            return {kb.fadd(acc[0], term(x))};
          });
      return workgroupSum(kb, part[0], partials, s.workgroupSize);
    };
    Value mean = kb.f32(0.0);
    if (norm.kind == MatvecNorm::Kind::Layer)
      mean = kb.fdiv(sumOver([](Value x) { return x; }),
                     kb.f32(static_cast<double>(k)));
    Value ss = sumOver([&](Value x) {
      Value d = kb.fsub(x, mean);
      return kb.fmul(d, d);
    });
    Value inv = kb.fdiv(
        kb.f32(1.0),
        kb.sqrt(kb.fadd(kb.fdiv(ss, kb.f32(static_cast<double>(k))),
                        kb.f32(norm.eps))));
    kb.ifThen(kb.eq(tid, 0), [&] {
      kb.store(mean, stats, kb.index(2 * t));
      kb.store(inv, stats, kb.index(2 * t + 1));
    });
  }
  kb.barrier();
}

Value MatvecEmitter::inputRow(Value token) {
  if (!s.expertGroups)
    return token;
  Value slot = outputRow(token);
  return s.expertGroups->slotInput ? slot : kb.div(slot, s.expertGroups->topK);
}

Value MatvecEmitter::outputRow(Value token) {
  if (!s.expertGroups)
    return token;
  return kb.i32ToIndex(kb.load(passSlots, kb.sub(token, passFirst)));
}

void MatvecEmitter::emitPassSlots(Value t0) {
  // Read once per pass rather than per feature staged.
  passFirst = t0;
  Value token = kb.add(t0, tid);
  kb.ifThen(kb.andBool(kb.ult(tid, s.tokensPerPass), kb.ult(token, rows)),
            [&] {
              kb.store(kb.load(arg(s.expertGroups->lists),
                               kb.add(listFirst, token)),
                       passSlots, tid);
            });
  kb.barrier();
}

Value MatvecEmitter::normalized(Value token, Value t, Value i, Value valid) {
  // A token past the run reads the run's (the pass's) first: the loads
  // stay in bounds.
  Value safeToken =
      kb.select(valid, token, s.expertGroups ? passFirst : kb.index(0));
  Value safeI = kb.select(valid, i, kb.index(0));
  Value x = kb.load(arg(s.input),
                    kb.add(kb.mul(inputRow(safeToken), s.k), safeI));
  if (s.prologue) {
    const MatvecNorm &norm = *s.prologue;
    Value mean = kb.load(stats, kb.mul(t, 2));
    Value inv = kb.load(stats, kb.add(kb.mul(t, 2), 1));
    x = kb.fmul(kb.fsub(x, mean), inv);
    if (norm.weight.dtype != Absent) {
      Value w = denseParam(norm.weight, safeI);
      if (norm.kind == MatvecNorm::Kind::Rms)
        w = kb.fadd(w, kb.f32(norm.weightOffset));
      x = kb.fmul(x, w);
    }
    if (norm.bias.dtype != Absent)
      x = kb.fadd(x, denseParam(norm.bias, safeI));
  }
  return kb.select(valid, x, kb.f32(0.0));
}

void MatvecEmitter::emitStaging(Value t0, Value kt) {
  if (s.int8Activations)
    emitStagingInt8(t0, kt);
  else
    emitStagingF32(t0, kt);
}

void MatvecEmitter::emitStagingF32(Value t0, Value kt) {
  int64_t kTile = s.kTile;
  kb.loop(tid, kb.index(s.tokensPerPass * kTile), kb.index(s.workgroupSize),
          [&](Value e) {
            Value t = kb.div(e, kTile);
            Value i = kb.add(kt, kb.rem(e, kTile));
            Value token = kb.add(t0, t);
            Value valid =
                kb.andBool(kb.ult(token, rows), kb.ult(i, kb.index(s.k)));
            kb.store(normalized(token, t, i, valid), xs, e);
          });
}

void MatvecEmitter::emitStagingInt8(Value t0, Value kt) {
  const WeightLayout &w = s.segments.front().weight;
  int64_t kTile = s.kTile, tt = s.tokensPerPass;
  int64_t blocks = kTile / kBlock;
  int64_t fullEnd = s.k / kBlock * kBlock;
  // Block maxima: one team per (token, block), in rounds so that every
  // team reaches the reduction's barriers.
  int64_t items = tt * blocks;
  for (int64_t round = 0; round < ceilDiv(items, teams()); ++round) {
    Value item = kb.add(team, round * teams());
    Value live = kb.ult(item, items);
    Value safe = kb.select(live, item, kb.index(0));
    Value t = kb.div(safe, blocks);
    Value base = kb.add(kt, kb.mul(kb.rem(safe, blocks), kBlock));
    Value token = kb.add(t0, t);
    Value inRun = kb.andBool(live, kb.andBool(kb.ult(token, rows),
                                              kb.ult(base, kb.index(fullEnd))));
    SmallVector<Value> amax = kb.loop(
        lane, kb.index(kBlock), kb.index(s.threadsPerRow), {kb.f32(0.0)},
        [&](Value e, ValueRange acc) -> SmallVector<Value> {
          Value x = normalized(token, t, kb.add(base, e), inRun);
          return {kb.fmax(acc[0], kb.fabs(x))};
        });
    Value m = teamReduce(kb, {amax[0]}, partials, s.threadsPerRow,
                         s.workgroupSize, /*max=*/true)[0];
    kb.ifThen(kb.andBool(live, kb.eq(lane, 0)),
              [&] { kb.store(m, blockMax, safe); });
  }
  kb.barrier();

  // Codes: one thread per code word of the weights (codesPerWord features),
  // rounded like QuantActivations::prepare and laid out for 4-way byte dot
  // products (Intrinsics.h): x word p of code word j holds features
  // j * n + p + planes * b for bytes b, planes = 8 / bits.
  int64_t n = codesPerWord(w), planes = 8 / w.format.bits;
  int64_t words = kTile / n;
  bool needXs = static_cast<bool>(xs);
  kb.loop(tid, kb.index(tt * words), kb.index(s.workgroupSize), [&](Value cw) {
    Value t = kb.div(cw, words);
    Value j = kb.rem(cw, words);
    Value first = kb.add(kt, kb.mul(j, n));
    Value token = kb.add(t0, t);
    Value inRun = kb.ult(token, rows);
    Value quantized = kb.andBool(inRun, kb.ult(first, kb.index(fullEnd)));
    Value amax = kb.load(blockMax,
                         kb.add(kb.mul(t, blocks), kb.div(kb.mul(j, n), kBlock)));
    Value d = kb.fdiv(amax, kb.f32(127.0));
    Value positive = b.createOrFold<arith::CmpFOp>(arith::CmpFPredicate::OGT,
                                                   amax, kb.f32(0.0));
    Value inv = kb.select(positive, kb.fdiv(kb.f32(127.0), amax), kb.f32(0.0));
    SmallVector<Value> packed(planes, kb.i32(0));
    Value sum = kb.i32(0);
    for (int64_t e = 0; e < n; ++e) {
      Value i = kb.add(first, e);
      Value valid = kb.andBool(inRun, kb.ult(i, kb.index(s.k)));
      Value x = normalized(token, t, i, valid);
      Value q = kb.fptosi(kb.roundEven(kb.fmul(x, inv)));
      q = kb.select(quantized, q, kb.i32(0));
      sum = b.createOrFold<arith::AddIOp>(sum, q);
      int64_t p = e % planes, byte = e / planes;
      packed[p] = b.createOrFold<arith::OrIOp>(
          packed[p], kb.shl(kb.andMask(q, 0xff), 8 * byte));
      if (needXs) {
        // The generic path reads what the products see: the rounded value
        // in whole blocks, the activation itself in the tail.
        Value rounded = kb.fmul(kb.sitofp(q), d);
        kb.store(kb.select(quantized, rounded, x), xs,
                 kb.add(kb.mul(t, kTile), kb.add(kb.mul(j, n), kb.index(e))));
      }
    }
    for (int64_t p = 0; p < planes; ++p)
      kb.store(packed[p], xq,
               kb.add(kb.mul(t, xqStride), kb.add(kb.mul(j, planes), p)));
    kb.store(kb.fmul(kb.sitofp(sum), d), xsum, cw);
  });
}

//===----------------------------------------------------------------------===//
// Weights
//===----------------------------------------------------------------------===//

Value MatvecEmitter::groupParam(const WeightLayout &w, int words,
                                uint64_t base, Value row, Value g) {
  Value index = kb.add(kb.mul(row, w.groups), g);
  Value byte = kb.add(kb.index(static_cast<int64_t>(base)), kb.mul(index, 2));
  return halfToF32(kb, read16(kb, arg(words), byte),
                   w.format.scaleType == quant::ScaleType::BF16);
}

Value MatvecEmitter::weightElement(const WeightLayout &w, int words, Value row,
                                   Value i) {
  if (!w.packed) {
    Value index = kb.add(kb.mul(row, w.k), i);
    if (w.dtype == F32)
      return kb.bitsToF32(kb.load(arg(words), index));
    return halfToF32(kb, read16(kb, arg(words), kb.mul(index, 2)),
                     w.dtype == BF16);
  }
  int bits = w.format.bits;
  Value bit = kb.mul(i, bits);
  Value byte = kb.add(kb.mul(row, static_cast<int64_t>(w.rowBytes)),
                      kb.div(bit, 8));
  Value shift = kb.indexToI32(
      kb.add(kb.mul(kb.rem(byte, 4), 8), kb.rem(bit, 8)));
  Value code = kb.andMask(
      kb.shrDynamic(kb.load(arg(words), kb.div(byte, 4)), shift),
      (1 << bits) - 1);
  Value q = kb.uitofp(code);
  Value g = kb.div(i, w.group);
  Value scale = groupParam(w, words, w.scalesAt, row, g);
  if (w.format.grid == quant::Grid::Affine)
    return kb.fma(scale, q, groupParam(w, words, w.minsAt, row, g));
  double offset = ((1 << bits) - 1) / 2.0;
  return kb.fmul(scale, kb.fsub(q, kb.f32(offset)));
}

Value MatvecEmitter::weightRow(const MatvecSegment &seg, Value r, int part) {
  return localWeightRow(seg, kb.add(kb.mul(team, rowsPerTeam()), r), part);
}

Value MatvecEmitter::localWeightRow(const MatvecSegment &seg, Value r,
                                    int part) {
  Value local = kb.add(kb.sub(kb.mul(workgroup, s.rowsPerWorkgroup),
                              kb.index(seg.rowStart)),
                       r);
  Value inside = kb.ult(local, seg.rows);
  Value row = kb.add(kb.index(seg.weightRowBase + part * seg.upRowOffset),
                     kb.select(inside, local, kb.index(0)));
  return expertRowBase ? kb.add(expertRowBase, row) : row;
}

//===----------------------------------------------------------------------===//
// Products
//===----------------------------------------------------------------------===//

void MatvecEmitter::accumulateVector(const WeightLayout &w, int words,
                                     Value row, Value vectorIndex,
                                     Value vector, Value local,
                                     SmallVector<Value> &acc, int64_t slot) {
  int64_t tt = s.tokensPerPass;
  int64_t wordsPerVector = s.vectorBytes / 4;
  int64_t e = elementsPerVector(w);
  auto word = [&](int64_t j) -> Value {
    if (wordsPerVector == 1)
      return vector;
    return vector::ExtractOp::create(b, vector, ArrayRef<int64_t>{j});
  };
  if (!w.packed) {
    // Dense: f32 words, or two f16/bf16 elements per word.
    for (int64_t j = 0; j < wordsPerVector; ++j) {
      SmallVector<Value> values;
      Value bits = word(j);
      if (w.dtype == F32) {
        values.push_back(kb.bitsToF32(bits));
      } else if (w.dtype == BF16) {
        values.push_back(kb.bitsToF32(kb.shl(bits, 16)));
        values.push_back(kb.bitsToF32(kb.andMask(bits, 0xffff0000)));
      } else {
        values.push_back(halfToF32(kb, kb.andMask(bits, 0xffff), false));
        values.push_back(halfToF32(kb, kb.shr(bits, 16), false));
      }
      for (auto [n, value] : llvm::enumerate(values)) {
        int64_t element = j * static_cast<int64_t>(values.size()) +
                          static_cast<int64_t>(n);
        for (int64_t t = 0; t < tt; ++t) {
          Value x = kb.load(xs, kb.add(local, kb.index(t * s.kTile + element)));
          acc[slot + t] = kb.fma(value, x, acc[slot + t]);
        }
      }
    }
    return;
  }
  // Packed codes against int8 activations: per code word, 8 / bits 4-way
  // byte dot products give sum q x for its features; per group the scale
  // (and the grid's offset or minimum times the activations' sum) applies
  // once.
  int bits = w.format.bits;
  int64_t n = codesPerWord(w), planes = 8 / bits;
  int64_t mask = bits == 2 ? 0x03030303 : 0x0f0f0f0f;
  int64_t groupWords = std::max<int64_t>(1, w.group / n);
  int64_t groupsHere = std::max<int64_t>(1, wordsPerVector / groupWords);
  Value firstGroup = kb.div(kb.mul(vectorIndex, e), w.group);
  // `local` is the vector's first feature in the tile.
  Value xWord0 = kb.div(local, n); // First code word in the tile.
  double offset = ((1 << bits) - 1) / 2.0;
  for (int64_t g = 0; g < groupsHere; ++g) {
    Value gi = kb.add(firstGroup, g);
    Value scale = groupParam(w, words, w.scalesAt, row, gi);
    Value second =
        w.format.grid == quant::Grid::Affine
            ? groupParam(w, words, w.minsAt, row, gi)
            : kb.fmul(scale, kb.f32(-offset));
    int64_t w0 = g * std::min(groupWords, wordsPerVector);
    int64_t w1 = std::min(wordsPerVector, w0 + groupWords);
    for (int64_t t = 0; t < tt; ++t) {
      Value isum = kb.i32(0);
      Value xsumG = kb.f32(0.0);
      for (int64_t j = w0; j < w1; ++j) {
        Value codes = word(j);
        Value cw = kb.add(xWord0, j);
        for (int64_t p = 0; p < planes; ++p) {
          Value plane = kb.andMask(kb.shr(codes, bits * p), mask);
          Value xw = kb.load(xq, kb.add(kb.mul(cw, planes),
                                        kb.index(t * xqStride + p)));
          isum = emitDot4U8S8(b, module, plane, xw, isum);
        }
        xsumG = kb.fadd(xsumG, kb.load(xsum, kb.add(cw, kb.index(t * s.kTile / n))));
      }
      Value block = kb.add(kb.mul(kb.index(t), s.kTile / kBlock),
                           kb.div(local, kBlock));
      Value d = kb.fdiv(kb.load(blockMax, block), kb.f32(127.0));
      Value products = kb.fmul(kb.sitofp(isum), d);
      acc[slot + t] = kb.fma(scale, products, acc[slot + t]);
      acc[slot + t] = kb.fma(second, xsumG, acc[slot + t]);
    }
  }
}

SmallVector<Value> MatvecEmitter::emitVectorPath(const MatvecSegment &seg,
                                                 Value kt, ValueRange accs) {
  const WeightLayout &w = seg.weight;
  int64_t end = mainEnd(w);
  if (end == 0)
    return SmallVector<Value>(accs);
  int64_t e = elementsPerVector(w);
  int64_t vectorsPerRow = static_cast<int64_t>(
      w.packed ? w.rowBytes / s.vectorBytes
               : w.k * elementBytes(w) / s.vectorBytes);
  // Vectors of this tile before the main part's end.
  Value remaining = b.createOrFold<arith::MaxSIOp>(
      kb.sub(kb.index(end), kt), kb.index(0));
  Value count = kb.div(kb.minIndex(remaining, kb.index(s.kTile)), e);
  int64_t rpt = rowsPerTeam(), tt = s.tokensPerPass;
  bool pair = seg.up.has_value();
  return kb.loop(
      lane, count, kb.index(s.threadsPerRow), accs,
      [&](Value v, ValueRange carried) -> SmallVector<Value> {
        SmallVector<Value> acc(carried);
        Value local = kb.mul(v, e); // First feature in the tile.
        Value vectorIndex = kb.add(kb.div(kt, e), v);
        for (int64_t r = 0; r < rpt; ++r) {
          for (int part = 0; part < (pair ? 2 : 1); ++part) {
            const WeightLayout &lw = part ? *seg.up : seg.weight;
            int vectors = part ? seg.upVectors : seg.weightVectors;
            int words = part ? seg.upWords : seg.weightWords;
            Value row = weightRow(seg, r, part);
            Value vector = kb.load(
                arg(vectors), kb.add(kb.mul(row, vectorsPerRow), vectorIndex));
            int64_t slot = ((part * rpt) + r) * tt;
            accumulateVector(lw, words, row, vectorIndex, vector, local, acc,
                             slot);
          }
        }
        return acc;
      });
}

SmallVector<Value> MatvecEmitter::emitGenericPath(const MatvecSegment &seg,
                                                  Value kt, ValueRange accs) {
  int64_t start = mainEnd(seg.weight);
  if (start >= s.k)
    return SmallVector<Value>(accs);
  // Features [max(kt, start), min(kt + kTile, k)) of this tile.
  Value from = b.createOrFold<arith::MaxUIOp>(kt, kb.index(start));
  Value to = kb.minIndex(kb.add(kt, s.kTile), kb.index(s.k));
  int64_t rpt = rowsPerTeam(), tt = s.tokensPerPass;
  bool pair = seg.up.has_value();
  return kb.loop(
      kb.add(from, lane), to, kb.index(s.threadsPerRow), accs,
      [&](Value i, ValueRange carried) -> SmallVector<Value> {
        SmallVector<Value> acc(carried);
        SmallVector<Value> x;
        for (int64_t t = 0; t < tt; ++t)
          x.push_back(kb.load(xs, kb.add(kb.sub(i, kt), kb.index(t * s.kTile))));
        for (int64_t r = 0; r < rpt; ++r)
          for (int part = 0; part < (pair ? 2 : 1); ++part) {
            const WeightLayout &lw = part ? *seg.up : seg.weight;
            int words = part ? seg.upWords : seg.weightWords;
            Value w = weightElement(lw, words, weightRow(seg, r, part), i);
            for (int64_t t = 0; t < tt; ++t) {
              int64_t slot = ((part * rpt) + r) * tt + t;
              acc[slot] = kb.fma(w, x[t], acc[slot]);
            }
          }
        return acc;
      });
}

SmallVector<Value> MatvecEmitter::emitGgmlPath(const MatvecSegment &seg,
                                               Value kt, ValueRange accs) {
  // ggml blocks: each lane takes runs of 32 features of the tile (K is whole
  // blocks, so runs tile it), decodes a run of each of its team's rows
  // (GgmlDecode.h) and multiplies it with the staged f32 activations of
  // each token of the pass, a sum per run added to the row's accumulator.
  // Rows (8 per team in head tiles) and tokens (4 per prefill pass) are
  // loops, not unrolled: a run's decode and products are long straight-line
  // code, and Vulkan drivers compile every copy (lavapipe took 15 s for the
  // unrolled kernels of one small model); the accumulators stay registers,
  // each updated by a select on the loop's row and token.
  Value count = kb.div(kb.minIndex(kb.sub(kb.index(s.k), kt),
                                   kb.index(s.kTile)),
                       kGgmlRun);
  int64_t rpt = rowsPerTeam(), tt = s.tokensPerPass;
  int parts = seg.up.has_value() ? 2 : 1;
  // Runs `n` times (`bound` times when given: at most n; once without a
  // loop when n is 1), carrying `init`.
  auto repeat = [&](int64_t n, Value bound, ValueRange init,
                    KernelBuilder::LoopBody body) -> SmallVector<Value> {
    if (n == 1)
      return body(kb.index(0), init);
    return kb.loop(kb.index(0), bound ? bound : kb.index(n), kb.index(1), init,
                   body);
  };
  // The team's rows inside the segment (a last workgroup may overhang it).
  Value teamFirst = kb.add(kb.sub(kb.mul(workgroup, s.rowsPerWorkgroup),
                                  kb.index(seg.rowStart)),
                           kb.mul(team, rpt));
  Value teamRows = kb.select(
      kb.ult(teamFirst, seg.rows),
      kb.minIndex(kb.sub(kb.index(seg.rows), teamFirst), kb.index(rpt)),
      kb.index(0));
  return kb.loop(
      lane, count, kb.index(s.threadsPerRow), accs,
      [&](Value v, ValueRange carried) -> SmallVector<Value> {
        Value local = kb.mul(v, kGgmlRun); // First feature in the tile.
        Value runOfRow = kb.add(kb.div(kt, kGgmlRun), v);
        return repeat(rpt, teamRows, carried, [&](Value r, ValueRange rowAcc) {
          SmallVector<SmallVector<Value, kGgmlRun>, 2> w;
          for (int part = 0; part < parts; ++part) {
            const WeightLayout &lw = part ? *seg.up : seg.weight;
            const ggml::BlockFormat &format = *lw.ggml;
            int64_t runsPerBlock = format.elements / kGgmlRun;
            Value row = weightRow(seg, r, part);
            Value block = kb.add(
                kb.mul(row, static_cast<int64_t>(lw.rowBytes)),
                kb.mul(kb.div(runOfRow, runsPerBlock), format.bytes));
            w.push_back(decodeGgmlRun(
                kb, format, arg(part ? seg.upWords : seg.weightWords), block,
                kb.rem(runOfRow, runsPerBlock)));
          }
          // Only the pass's tokens of the run: a pass past the run's end
          // skips the products of absent tokens.
          return repeat(tt, passTokens, rowAcc,
                        [&](Value t, ValueRange tokenAcc) {
            Value first = kb.add(local, kb.mul(t, s.kTile));
            SmallVector<Value> x;
            for (int64_t e = 0; e < kGgmlRun; ++e)
              x.push_back(kb.load(xs, kb.add(first, e)));
            SmallVector<Value> next(tokenAcc);
            for (int part = 0; part < parts; ++part) {
              Value sum = kb.f32(0.0);
              for (int64_t e = 0; e < kGgmlRun; ++e)
                sum = kb.fma(w[part][e], x[e], sum);
              for (int64_t row = 0; row < rpt; ++row)
                for (int64_t token = 0; token < tt; ++token) {
                  Value &a = next[((part * rpt) + row) * tt + token];
                  Value mine = kb.andBool(kb.eq(r, row), kb.eq(t, token));
                  a = kb.select(mine, kb.fadd(a, sum), a);
                }
            }
            return next;
          });
        });
      });
}

//===----------------------------------------------------------------------===//
// Reduction and epilogue
//===----------------------------------------------------------------------===//

void MatvecEmitter::emitResultTile(ValueRange accs, bool pairs) {
  SmallVector<Value> sums = teamReduce(kb, accs, partials, s.threadsPerRow,
                                       s.workgroupSize, /*max=*/false);
  int64_t rpt = rowsPerTeam(), tt = s.tokensPerPass;
  kb.ifThen(kb.eq(lane, 0), [&] {
    for (int64_t part = 0; part < (pairs ? 2 : 1); ++part)
      for (int64_t r = 0; r < rpt; ++r)
        for (int64_t t = 0; t < tt; ++t) {
          Value rowInTile = kb.add(kb.mul(team, rpt), r);
          kb.store(sums[(part * rpt + r) * tt + t], part ? tileUp : tile,
                   kb.add(kb.mul(rowInTile, tt), t));
        }
  });
  kb.barrier();
}

void MatvecEmitter::emitEpilogue(const MatvecSegment &seg, Value t0) {
  auto rowOf = [&](Value token) { return outputRow(token); };
  EpilogueContext c{kb,       s,   seg,       args, tile, tileUp, scratch,
                    partials, tid, workgroup, rows, t0,   rowOf};
  if (s.headTiles)
    emitHeadEpilogue(c);
  else
    emitRowEpilogue(c);
}

} // namespace detail

mlir::gpu::GPUFuncOp emitMatvecKernel(ImplicitLocOpBuilder &b, StringRef name,
                                      const MatvecKernelSpec &spec) {
  return MatvecEmitter(b, spec).emit(name);
}

} // namespace fmc::gpu
