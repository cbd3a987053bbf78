//===- RowwiseKernel.cpp - the generated row-local kernel -----------------===//

#include "lowering/gpu/generator/RowwiseKernel.h"

#include "lowering/gpu/generator/Decode.h"
#include "lowering/gpu/generator/KernelBuilder.h"
#include "lowering/gpu/generator/MatvecEpilogues.h"
#include "lowering/gpu/generator/Reductions.h"

using namespace mlir;

namespace fmc::gpu {

namespace {

using Kind = RowwiseKernelSpec::Kind;

class RowwiseEmitter {
public:
  RowwiseEmitter(ImplicitLocOpBuilder &b, const RowwiseKernelSpec &spec)
      : kb(b), s(spec) {}

  mlir::gpu::GPUFuncOp emit(StringRef name) {
    ImplicitLocOpBuilder &b = kb.builder();
    SmallVector<Type> bindings(s.bindings.begin(), s.bindings.end());
    Type partialsType = workgroupBuffer(
        b.getContext(), 2 * kPartialsPerValue(s.workgroupSize),
        b.getF32Type());
    mlir::gpu::GPUFuncOp func =
        createKernel(b, name, bindings, {partialsType}, s.workgroupSize);
    for (unsigned i = 0; i < bindings.size(); ++i)
      args.push_back(func.getArgument(i));
    partials = func.getWorkgroupAttributions()[0];
    tid = kb.threadId();
    Value rows = kb.i32ToIndex(kb.load(arg(s.run), kb.index(s.rowsSlot)));
    Value id = kb.workgroupId();
    Value token = kb.div(id, s.workgroupsPerRow());
    Value part = kb.rem(id, s.workgroupsPerRow());
    // Whole workgroups past the run return: the branch is uniform.
    kb.ifThen(kb.ult(token, rows), [&] {
      switch (s.kind) {
      case Kind::RmsNorm:
      case Kind::LayerNorm:
        emitNorm(token, part);
        break;
      case Kind::Rope:
        emitRope(token);
        break;
      default:
        emitElementwise(token);
        break;
      }
    });
    return func;
  }

private:
  Value arg(int binding) const { return args[binding]; }
  Value stride(Value from, Value to,
               llvm::function_ref<SmallVector<Value>(Value, ValueRange)> body,
               ValueRange init) {
    return kb.loop(from, to, kb.index(s.workgroupSize), init, body).front();
  }

  void emitNorm(Value token, Value part) {
    bool rms = s.kind == Kind::RmsNorm;
    int64_t n = rms ? s.groupSize : s.width;
    Value base = kb.add(kb.mul(token, s.width), kb.mul(part, n));
    auto sum = [&](llvm::function_ref<Value(Value)> term) {
      Value local = stride(
          tid, kb.index(n),
          [&](Value i, ValueRange acc) -> SmallVector<Value> {
            return {kb.fadd(acc[0], term(kb.load(arg(s.input), kb.add(base, i))))};
          },
          {kb.f32(0.0)});
      return workgroupSum(kb, local, partials, s.workgroupSize);
    };
    Value mean = kb.f32(0.0);
    if (!rms)
      mean = kb.fdiv(sum([](Value x) { return x; }),
                     kb.f32(static_cast<double>(n)));
    Value ss = sum([&](Value x) {
      Value d = kb.fsub(x, mean);
      return kb.fmul(d, d);
    });
    Value inv = kb.fdiv(
        kb.f32(1.0),
        kb.sqrt(kb.fadd(kb.fdiv(ss, kb.f32(static_cast<double>(n))),
                        kb.f32(s.norm.eps))));
    kb.loop(tid, kb.index(n), kb.index(s.workgroupSize), [&](Value i) {
      Value y = kb.fmul(kb.fsub(kb.load(arg(s.input), kb.add(base, i)), mean),
                        inv);
      if (s.norm.weight.dtype != Absent) {
        Value w = denseElement(kb, arg(s.norm.weight.binding),
                               s.norm.weight.dtype, i);
        if (rms)
          w = kb.fadd(w, kb.f32(s.norm.weightOffset));
        y = kb.fmul(y, w);
      }
      if (s.norm.bias.dtype != Absent)
        y = kb.fadd(y, denseElement(kb, arg(s.norm.bias.binding),
                                    s.norm.bias.dtype, i));
      kb.store(y, arg(s.output), kb.add(base, i));
    });
  }

  void emitRope(Value token) {
    const MatvecRope &rope = s.rope;
    int64_t halfHead = rope.headDim / 2, pairs = s.width / 2;
    Value position = kb.load(arg(s.positions), token);
    Value base = kb.mul(token, s.width);
    // One thread per pair of a head: rotated pairs turn, the features past
    // the rotary dimension (partial RoPE) are copied in pairs.
    kb.loop(tid, kb.index(pairs), kb.index(s.workgroupSize), [&](Value pr) {
      Value head = kb.mul(kb.div(pr, halfHead), rope.headDim);
      Value j = kb.rem(pr, halfHead);
      Value rotated = kb.ult(j, rope.rotaryDim / 2);
      Value jr = kb.select(rotated, j, kb.index(0));
      auto [a, bIndex] = ropePairFeatures(kb, rope, jr);
      Value copyA = kb.add(kb.index(rope.rotaryDim),
                           kb.mul(kb.sub(j, kb.index(rope.rotaryDim / 2)), 2));
      Value ia = kb.add(base, kb.add(head, kb.select(rotated, a, copyA)));
      Value ib = kb.add(base, kb.add(head, kb.select(rotated, bIndex,
                                                      kb.add(copyA, 1))));
      Value xa = kb.load(arg(s.input), ia), xb = kb.load(arg(s.input), ib);
      auto [ya, yb] = emitRopePair(kb, rope, jr, xa, xb, position);
      kb.store(kb.select(rotated, ya, xa), arg(s.output), ia);
      kb.store(kb.select(rotated, yb, xb), arg(s.output), ib);
    });
  }

  void emitElementwise(Value token) {
    Value base = kb.mul(token, s.width);
    kb.loop(tid, kb.index(s.width), kb.index(s.workgroupSize), [&](Value i) {
      Value at = kb.add(base, i);
      Value x = kb.load(arg(s.input), at);
      Value y;
      switch (s.kind) {
      case Kind::Add:
        y = kb.fadd(x, kb.load(arg(s.second), at));
        break;
      case Kind::Mul:
        y = kb.fmul(x, kb.load(arg(s.second), s.broadcast ? token : at));
        break;
      case Kind::Activation:
        y = emitActivation(kb, s.activation, x);
        break;
      default: // Glu: act(gate) * up.
        y = kb.fmul(emitActivation(kb, s.activation, x),
                    kb.load(arg(s.second), at));
        break;
      }
      kb.store(y, arg(s.output), at);
    });
  }

  KernelBuilder kb;
  const RowwiseKernelSpec &s;
  SmallVector<Value> args;
  Value partials, tid;
};

} // namespace

mlir::gpu::GPUFuncOp emitRowwiseKernel(ImplicitLocOpBuilder &b, StringRef name,
                                       const RowwiseKernelSpec &spec) {
  return RowwiseEmitter(b, spec).emit(name);
}

} // namespace fmc::gpu
