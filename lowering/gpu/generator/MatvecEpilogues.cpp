//===- MatvecEpilogues.cpp - what a matvec does with its result tile ------===//
//
// Each step computes what the CPU backend's kernel of the same plan op
// computes (runtime/cpu/Kernels.cpp, Attention.cpp, Int8Cache.cpp), in the
// same order, so the fused kernel matches the unfused program.
//
//===----------------------------------------------------------------------===//

#include "lowering/gpu/generator/MatvecEpilogues.h"

#include "lowering/gpu/generator/Decode.h"
#include "lowering/gpu/generator/Reductions.h"

#include "mlir/Dialect/Math/IR/Math.h"

#include <cmath>

using namespace mlir;

namespace fmc::gpu {

Value emitActivation(KernelBuilder &kb, int64_t code, Value x) {
  switch (code) {
  case 0: // silu
    return kb.fdiv(x, kb.fadd(kb.f32(1.0), kb.exp(kb.fsub(kb.f32(0.0), x))));
  case 1: // gelu
    return kb.fmul(kb.fmul(kb.f32(0.5), x),
                   kb.fadd(kb.f32(1.0),
                           kb.erf(kb.fmul(x, kb.f32(0.70710678118654752)))));
  case 2: { // gelu_tanh
    Value cube = kb.fmul(kb.fmul(x, x), x);
    Value inner = kb.fmul(kb.f32(0.79788456080286536),
                          kb.fadd(x, kb.fmul(kb.f32(0.044715), cube)));
    return kb.fmul(kb.fmul(kb.f32(0.5), x),
                   kb.fadd(kb.f32(1.0), kb.tanh(inner)));
  }
  case 3: // sigmoid
    return kb.fdiv(kb.f32(1.0),
                   kb.fadd(kb.f32(1.0), kb.exp(kb.fsub(kb.f32(0.0), x))));
  default: // relu
    return kb.fmax(x, kb.f32(0.0));
  }
}

std::pair<Value, Value> ropePairFeatures(KernelBuilder &kb,
                                         const MatvecRope &rope, Value j) {
  if (rope.interleaved) {
    Value a = kb.mul(j, 2);
    return {a, kb.add(a, 1)};
  }
  return {j, kb.add(j, rope.rotaryDim / 2)};
}

std::pair<Value, Value> emitRopePair(KernelBuilder &kb, const MatvecRope &rope,
                                     Value j, Value xa, Value xb,
                                     Value position) {
  Value invFreq;
  if (rope.frequencies.empty()) {
    // inv_freq_j = exp(-(2j / rotary) ln theta).
    Value frac = kb.fdiv(kb.uitofp(kb.indexToI32(kb.mul(j, 2))),
                         kb.f32(static_cast<double>(rope.rotaryDim)));
    invFreq = kb.exp(kb.fmul(frac, kb.f32(-std::log(rope.theta))));
  } else {
    // A scaled table has no closed form: the rotary / 2 constants as a
    // select chain on j (at most 256 selects, in registers; no buffer).
    invFreq = kb.f32(rope.frequencies.front());
    for (size_t i = 1; i < rope.frequencies.size(); ++i)
      invFreq = kb.select(kb.eq(j, static_cast<int64_t>(i)),
                          kb.f32(rope.frequencies[i]), invFreq);
  }
  Value angle = kb.fmul(kb.sitofp(position), invFreq);
  Value c = kb.cos(angle), s = kb.sin(angle);
  if (rope.attentionFactor != 1.0) {
    Value factor = kb.f32(rope.attentionFactor);
    c = kb.fmul(c, factor);
    s = kb.fmul(s, factor);
  }
  return {kb.fsub(kb.fmul(xa, c), kb.fmul(xb, s)),
          kb.fadd(kb.fmul(xa, s), kb.fmul(xb, c))};
}

namespace {

/// The segment's first row in this workgroup.
Value firstLocalRow(const EpilogueContext &c) {
  return c.kb.sub(c.kb.mul(c.workgroup, c.spec.rowsPerWorkgroup),
                  c.kb.index(c.segment.rowStart));
}

/// y + bias (a dense vector parameter), when there is one.
Value addBias(const EpilogueContext &c, const DenseVector &bias, Value y,
              Value row) {
  if (bias.dtype == Absent)
    return y;
  return c.kb.fadd(y, denseElement(c.kb, c.bindings[bias.binding], bias.dtype,
                                   row));
}

/// Quantizes x to an int8 byte with `scale` as Int8Cache.cpp quantize().
Value quantizeByte(KernelBuilder &kb, Value x, Value scale) {
  ImplicitLocOpBuilder &b = kb.builder();
  Value zero = b.createOrFold<arith::CmpFOp>(arith::CmpFPredicate::OEQ, scale,
                                             kb.f32(0.0));
  Value safeScale = kb.select(zero, kb.f32(1.0), scale);
  Value q = math::FloorOp::create(
      b, kb.fadd(kb.fdiv(kb.fabs(x), safeScale), kb.f32(0.5)));
  q = b.createOrFold<arith::MinimumFOp>(q, kb.f32(127.0));
  Value negative = b.createOrFold<arith::CmpFOp>(arith::CmpFPredicate::OLT, x,
                                                 kb.f32(0.0));
  q = kb.select(negative, kb.fsub(kb.f32(0.0), q), q);
  q = kb.select(zero, kb.f32(0.0), q);
  return kb.andMask(kb.fptosi(q), 0xff);
}

/// Appends this token's row of the head (`v` in thread `i`) to the cache.
void emitAppend(const EpilogueContext &c, const MatvecAppend &append, Value i,
                Value active, Value v, Value token, Value head) {
  KernelBuilder &kb = c.kb;
  const MatvecKernelSpec &s = c.spec;
  Value cache = c.bindings[append.cache];
  Value positions = c.bindings[s.positions];
  Value inRun = kb.ult(token, c.rows);
  Value safeToken = kb.select(inRun, token, kb.index(0));
  Value p = kb.i32ToIndex(kb.load(positions, safeToken));
  Value last = kb.i32ToIndex(kb.load(positions, kb.sub(c.rows, kb.index(1))));
  // A linear slot inside the cache; for a ring, one of the run's last
  // `capacity` positions (no two rows of the run write one slot).
  Value keep = append.ring ? kb.ult(last, kb.add(p, append.capacity))
                           : kb.ult(p, append.capacity);
  Value write = kb.andBool(inRun, keep);
  Value slot = append.ring ? kb.rem(p, append.capacity) : p;
  const GpuCacheLayout &layout = append.layout;
  int64_t base = append.keys ? 0 : layout.valuesBase;
  int64_t scales = append.keys ? layout.keyScales : layout.valueScales;
  // GpuCacheLayout: the slot's words, then the head's row in its keys or
  // values, or its scale.
  Value slotAt = kb.mul(slot, layout.slotWords);
  Value row = kb.add(kb.add(slotAt, base), kb.mul(head, layout.rowWords));
  Type i32 = kb.builder().getI32Type();

  if (layout.element == CacheElement::F32) {
    kb.ifThen(kb.andBool(write, active), [&] {
      kb.store(arith::BitcastOp::create(kb.builder(), i32, v), cache,
               kb.add(row, i));
    });
    return;
  }
  Value scale;
  if (layout.element == CacheElement::Int8) {
    Value amax = workgroupMax(kb, kb.select(active, kb.fabs(v), kb.f32(0.0)),
                              c.partials, s.workgroupSize);
    scale = kb.fdiv(amax, kb.f32(127.0));
    kb.ifThen(kb.andBool(write, kb.eq(c.tid, 0)), [&] {
      kb.store(arith::BitcastOp::create(kb.builder(), i32, scale), cache,
               kb.add(kb.add(slotAt, scales), head));
    });
  }
  kb.ifThen(active, [&] { kb.store(v, c.scratch, i); });
  kb.barrier();
  // Thread w packs the elements of word w of the head's row.
  int64_t perWord = layout.element == CacheElement::Int8 ? 4 : 2;
  kb.ifThen(kb.andBool(write, kb.ult(c.tid, append.headDim / perWord)), [&] {
    Value word = kb.i32(0);
    for (int64_t e = 0; e < perWord; ++e) {
      Value x = kb.load(c.scratch, kb.add(kb.mul(c.tid, perWord), e));
      Value bits = layout.element == CacheElement::Int8
                       ? quantizeByte(kb, x, scale)
                   : layout.element == CacheElement::F16 ? f32ToF16Bits(kb, x)
                                                         : f32ToBf16Bits(kb, x);
      word = kb.builder().createOrFold<arith::OrIOp>(
          word, kb.shl(bits, e * (32 / perWord)));
    }
    kb.store(word, cache, kb.add(row, c.tid));
  });
  kb.barrier();
}

} // namespace

void emitRowEpilogue(const EpilogueContext &c) {
  KernelBuilder &kb = c.kb;
  const MatvecSegment &seg = c.segment;
  int64_t tt = c.spec.tokensPerPass;
  Value first = firstLocalRow(c);
  kb.loop(c.tid, kb.index(c.spec.rowsPerWorkgroup * tt),
          kb.index(c.spec.workgroupSize), [&](Value item) {
            Value rowInTile = kb.div(item, tt);
            Value token = kb.add(c.firstToken, kb.rem(item, tt));
            Value row = kb.add(first, rowInTile);
            Value valid =
                kb.andBool(kb.ult(row, seg.rows), kb.ult(token, c.rows));
            kb.ifThen(valid, [&] {
              Value y = addBias(c, seg.bias, kb.load(c.tile, item), row);
              if (seg.up) {
                Value u = addBias(c, seg.upBias, kb.load(c.tileUp, item), row);
                y = kb.fmul(emitActivation(kb, seg.gluActivation, y), u);
              }
              if (seg.scale != 1.0)
                y = kb.fmul(y, kb.f32(seg.scale));
              if (seg.softcap > 0.0)
                y = kb.fmul(kb.f32(seg.softcap),
                            kb.tanh(kb.fdiv(y, kb.f32(seg.softcap))));
              Value at = kb.add(kb.mul(c.outputRow(token), seg.rows), row);
              if (seg.residual >= 0)
                y = kb.fadd(kb.load(c.bindings[seg.residual], at), y);
              if (seg.output >= 0)
                kb.store(y, c.bindings[seg.output], at);
            });
          });
}

void emitHeadEpilogue(const EpilogueContext &c) {
  KernelBuilder &kb = c.kb;
  const MatvecSegment &seg = c.segment;
  const MatvecKernelSpec &s = c.spec;
  int64_t headDim = s.rowsPerWorkgroup, tt = s.tokensPerPass;
  Value first = firstLocalRow(c);
  Value head = kb.div(first, headDim);
  Value i = c.tid;
  Value active = kb.ult(i, headDim);
  Value safeI = kb.select(active, i, kb.index(0));
  Value row = kb.add(first, safeI);
  for (int64_t t = 0; t < tt; ++t) {
    Value token = kb.add(c.firstToken, t);
    Value inRun = kb.ult(token, c.rows);
    Value safeToken = kb.select(inRun, token, kb.index(0));
    Value v = kb.load(c.tile, kb.add(kb.mul(safeI, tt), t));
    v = addBias(c, seg.bias, v, row);
    Value at = kb.add(kb.mul(c.outputRow(safeToken), seg.rows), row);
    if (seg.residual >= 0)
      v = kb.fadd(kb.load(c.bindings[seg.residual], at), v);
    if (seg.headNorm) {
      const MatvecNorm &norm = *seg.headNorm;
      Value ss = workgroupSum(kb, kb.select(active, kb.fmul(v, v), kb.f32(0.0)),
                              c.partials, s.workgroupSize);
      Value inv = kb.fdiv(
          kb.f32(1.0),
          kb.sqrt(kb.fadd(kb.fdiv(ss, kb.f32(static_cast<double>(headDim))),
                          kb.f32(norm.eps))));
      v = kb.fmul(v, inv);
      if (norm.weight.dtype != Absent)
        v = kb.fmul(v, kb.fadd(denseElement(kb, c.bindings[norm.weight.binding],
                                            norm.weight.dtype, safeI),
                               kb.f32(norm.weightOffset)));
    }
    if (seg.rope) {
      // The head's pairs turn in workgroup memory: thread j owns pair j.
      const MatvecRope &rope = *seg.rope;
      kb.ifThen(active, [&] { kb.store(v, c.scratch, i); });
      kb.barrier();
      Value position = kb.load(c.bindings[s.positions], safeToken);
      Value owns = kb.ult(i, rope.rotaryDim / 2);
      Value j = kb.select(owns, i, kb.index(0));
      auto [a, bIndex] = ropePairFeatures(kb, rope, j);
      auto [ya, yb] = emitRopePair(kb, rope, j, kb.load(c.scratch, a),
                                   kb.load(c.scratch, bIndex), position);
      kb.barrier();
      kb.ifThen(owns, [&] {
        kb.store(ya, c.scratch, a);
        kb.store(yb, c.scratch, bIndex);
      });
      kb.barrier();
      v = kb.load(c.scratch, safeI);
      kb.barrier();
    }
    if (seg.output >= 0)
      kb.ifThen(kb.andBool(active, inRun),
                [&] { kb.store(v, c.bindings[seg.output], at); });
    if (seg.append)
      emitAppend(c, *seg.append, i, active, v, token, head);
  }
}

} // namespace fmc::gpu
