//===- GgmlEmbeddingKernel.cpp - the embedding gather of ggml tables ------===//

#include "lowering/gpu/generator/GgmlEmbeddingKernel.h"

#include "lowering/gpu/generator/GgmlDecode.h"
#include "lowering/gpu/generator/KernelBuilder.h"

using namespace mlir;

namespace fmc::gpu {

mlir::gpu::GPUFuncOp emitGgmlEmbeddingKernel(ImplicitLocOpBuilder &b,
                                             StringRef name,
                                             const GgmlEmbeddingSpec &s) {
  KernelBuilder kb(b);
  SmallVector<Type> bindingTypes(s.bindings.begin(), s.bindings.end());
  mlir::gpu::GPUFuncOp func =
      createKernel(b, name, bindingTypes, {}, s.workgroupSize);
  Block &entry = func.getBody().front();
  auto arg = [&](int i) -> Value {
    return entry.getArgument(static_cast<unsigned>(i));
  };
  const ggml::BlockFormat &format = *s.format;
  int64_t runsPerRow = s.width / kGgmlRun;
  int64_t runsPerBlock = format.elements / kGgmlRun;

  Value rows = kb.i32ToIndex(kb.load(arg(s.run), kb.index(s.rowsSlot)));
  Value item = kb.add(kb.mul(kb.workgroupId(), s.workgroupSize), kb.threadId());
  kb.ifThen(kb.ult(item, kb.mul(rows, runsPerRow)), [&] {
    Value t = kb.div(item, runsPerRow);
    Value j = kb.rem(item, runsPerRow);
    Value id = kb.load(arg(s.tokens), t);
    ImplicitLocOpBuilder &ib = kb.builder();
    Value valid = kb.andBool(
        ib.createOrFold<arith::CmpIOp>(arith::CmpIPredicate::sge, id,
                                       kb.i32(0)),
        ib.createOrFold<arith::CmpIOp>(arith::CmpIPredicate::slt, id,
                                       kb.i32(s.vocab)));
    Value row = kb.i32ToIndex(kb.select(valid, id, kb.i32(0)));
    Value block = kb.add(kb.mul(row, static_cast<int64_t>(s.rowBytes)),
                         kb.mul(kb.div(j, runsPerBlock), format.bytes));
    SmallVector<Value, kGgmlRun> w = decodeGgmlRun(
        kb, format, arg(s.table), block, kb.rem(j, runsPerBlock));
    Value first = kb.add(kb.mul(t, s.width), kb.mul(j, kGgmlRun));
    for (int64_t e = 0; e < kGgmlRun; ++e) {
      Value v = s.scale == 1.0 ? w[e] : kb.fmul(w[e], kb.f32(s.scale));
      kb.store(kb.select(valid, v, kb.f32(0.0)), arg(s.output),
               kb.add(first, e));
    }
  });
  return func;
}

} // namespace fmc::gpu
