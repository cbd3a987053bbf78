//===- KernelBuilder.cpp - a small vocabulary for emitting GPU kernels ----===//

#include "lowering/gpu/generator/KernelBuilder.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/BuiltinTypes.h"

using namespace mlir;

namespace fmc::gpu {

Value KernelBuilder::index(int64_t v) {
  return arith::ConstantIndexOp::create(b, v);
}
Value KernelBuilder::i32(int64_t v) {
  return arith::ConstantIntOp::create(b, v, 32);
}
Value KernelBuilder::f32(double v) {
  return arith::ConstantFloatOp::create(b, b.getF32Type(),
                                        llvm::APFloat(static_cast<float>(v)));
}

Value KernelBuilder::add(Value x, Value y) {
  return b.createOrFold<arith::AddIOp>(x, y);
}
Value KernelBuilder::sub(Value x, Value y) {
  return b.createOrFold<arith::SubIOp>(x, y);
}
Value KernelBuilder::mul(Value x, Value y) {
  return b.createOrFold<arith::MulIOp>(x, y);
}
Value KernelBuilder::div(Value x, Value y) {
  return b.createOrFold<arith::DivUIOp>(x, y);
}
Value KernelBuilder::rem(Value x, Value y) {
  return b.createOrFold<arith::RemUIOp>(x, y);
}
Value KernelBuilder::minIndex(Value x, Value y) {
  return b.createOrFold<arith::MinUIOp>(x, y);
}
Value KernelBuilder::ult(Value x, Value y) {
  return b.createOrFold<arith::CmpIOp>(arith::CmpIPredicate::ult, x, y);
}
Value KernelBuilder::uge(Value x, Value y) {
  return b.createOrFold<arith::CmpIOp>(arith::CmpIPredicate::uge, x, y);
}
Value KernelBuilder::eq(Value x, int64_t y) {
  Value c = x.getType().isIndex() ? index(y) : i32(y);
  return b.createOrFold<arith::CmpIOp>(arith::CmpIPredicate::eq, x, c);
}
Value KernelBuilder::andBool(Value x, Value y) {
  return b.createOrFold<arith::AndIOp>(x, y);
}
Value KernelBuilder::select(Value c, Value x, Value y) {
  return b.createOrFold<arith::SelectOp>(c, x, y);
}

Value KernelBuilder::shr(Value x, int64_t bits) {
  return bits == 0 ? x : b.createOrFold<arith::ShRUIOp>(x, i32(bits));
}
Value KernelBuilder::shl(Value x, int64_t bits) {
  return bits == 0 ? x : b.createOrFold<arith::ShLIOp>(x, i32(bits));
}
Value KernelBuilder::shrDynamic(Value x, Value bits) {
  return b.createOrFold<arith::ShRUIOp>(x, bits);
}
Value KernelBuilder::andMask(Value x, int64_t mask) {
  return b.createOrFold<arith::AndIOp>(x, i32(mask));
}
Value KernelBuilder::indexToI32(Value v) {
  return b.createOrFold<arith::IndexCastOp>(b.getI32Type(), v);
}
Value KernelBuilder::i32ToIndex(Value v) {
  return b.createOrFold<arith::IndexCastOp>(b.getIndexType(), v);
}

Value KernelBuilder::fadd(Value x, Value y) {
  return b.createOrFold<arith::AddFOp>(x, y);
}
Value KernelBuilder::fsub(Value x, Value y) {
  return b.createOrFold<arith::SubFOp>(x, y);
}
Value KernelBuilder::fmul(Value x, Value y) {
  return b.createOrFold<arith::MulFOp>(x, y);
}
Value KernelBuilder::fdiv(Value x, Value y) {
  return b.createOrFold<arith::DivFOp>(x, y);
}
Value KernelBuilder::fma(Value x, Value y, Value z) {
  return b.createOrFold<math::FmaOp>(x, y, z);
}
Value KernelBuilder::fmax(Value x, Value y) {
  return b.createOrFold<arith::MaxNumFOp>(x, y);
}
Value KernelBuilder::fabs(Value x) { return math::AbsFOp::create(b, x); }
Value KernelBuilder::sqrt(Value x) { return math::SqrtOp::create(b, x); }
Value KernelBuilder::exp(Value x) { return math::ExpOp::create(b, x); }
Value KernelBuilder::tanh(Value x) { return math::TanhOp::create(b, x); }
Value KernelBuilder::erf(Value x) { return math::ErfOp::create(b, x); }
Value KernelBuilder::cos(Value x) { return math::CosOp::create(b, x); }
Value KernelBuilder::sin(Value x) { return math::SinOp::create(b, x); }
Value KernelBuilder::roundEven(Value x) {
  return math::RoundEvenOp::create(b, x);
}
Value KernelBuilder::sitofp(Value x) {
  return b.createOrFold<arith::SIToFPOp>(b.getF32Type(), x);
}
Value KernelBuilder::uitofp(Value x) {
  return b.createOrFold<arith::UIToFPOp>(b.getF32Type(), x);
}
Value KernelBuilder::fptosi(Value x) {
  return b.createOrFold<arith::FPToSIOp>(b.getI32Type(), x);
}
Value KernelBuilder::bitsToF32(Value x) {
  return b.createOrFold<arith::BitcastOp>(b.getF32Type(), x);
}

Value KernelBuilder::load(Value memref, Value i) {
  return memref::LoadOp::create(b, memref, ValueRange{i});
}
void KernelBuilder::store(Value v, Value memref, Value i) {
  memref::StoreOp::create(b, v, memref, ValueRange{i});
}

Value KernelBuilder::threadId() {
  return mlir::gpu::ThreadIdOp::create(b, mlir::gpu::Dimension::x);
}
Value KernelBuilder::subgroupSize() {
  return mlir::gpu::SubgroupSizeOp::create(b, /*upper_bound=*/nullptr);
}
Value KernelBuilder::workgroupId() {
  Value x = mlir::gpu::BlockIdOp::create(b, mlir::gpu::Dimension::x);
  Value y = mlir::gpu::BlockIdOp::create(b, mlir::gpu::Dimension::y);
  Value gx = mlir::gpu::GridDimOp::create(b, mlir::gpu::Dimension::x);
  return add(mul(y, gx), x);
}
void KernelBuilder::barrier() { mlir::gpu::BarrierOp::create(b); }

Value KernelBuilder::subgroupSum(Value v) {
  return mlir::gpu::SubgroupReduceOp::create(
      b, v, mlir::gpu::AllReduceOperation::ADD, /*uniform=*/false);
}
Value KernelBuilder::subgroupMax(Value v) {
  return mlir::gpu::SubgroupReduceOp::create(
      b, v, mlir::gpu::AllReduceOperation::MAXNUMF, /*uniform=*/false);
}

SmallVector<Value> KernelBuilder::loop(Value lb, Value ub, Value step,
                                       ValueRange init, LoopBody body) {
  auto op = scf::ForOp::create(
      b, lb, ub, step, init,
      [&](OpBuilder &nested, Location loc, Value iv, ValueRange args) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(nested.getInsertionBlock(),
                            nested.getInsertionPoint());
        SmallVector<Value> yielded = body(iv, args);
        scf::YieldOp::create(b, yielded);
      });
  return SmallVector<Value>(op.getResults());
}

void KernelBuilder::loop(Value lb, Value ub, Value step,
                         llvm::function_ref<void(Value)> body) {
  loop(lb, ub, step, ValueRange{},
       [&](Value iv, ValueRange) -> SmallVector<Value> {
         body(iv);
         return {};
       });
}

void KernelBuilder::ifThen(Value cond, llvm::function_ref<void()> then) {
  auto op = scf::IfOp::create(b, cond, /*withElseRegion=*/false);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(op.thenBlock()->getTerminator());
  then();
}

SmallVector<Value>
KernelBuilder::ifElse(Value cond, TypeRange types,
                      llvm::function_ref<SmallVector<Value>()> then,
                      llvm::function_ref<SmallVector<Value>()> otherwise) {
  auto op = scf::IfOp::create(b, types, cond, /*withElseRegion=*/true);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(op.thenBlock());
    scf::YieldOp::create(b, then());
    b.setInsertionPointToStart(op.elseBlock());
    scf::YieldOp::create(b, otherwise());
  }
  return SmallVector<Value>(op.getResults());
}

mlir::gpu::GPUFuncOp createKernel(ImplicitLocOpBuilder &b, StringRef name,
                                  TypeRange bindings,
                                  TypeRange workgroupBuffers,
                                  int64_t workgroupSize) {
  auto func = mlir::gpu::GPUFuncOp::create(
      b, name, b.getFunctionType(bindings, {}), workgroupBuffers,
      /*privateAttributions=*/TypeRange{});
  func->setAttr(mlir::gpu::GPUDialect::getKernelFuncAttrName(),
                b.getUnitAttr());
  func.setKnownBlockSizeAttr(b.getDenseI32ArrayAttr(
      {static_cast<int32_t>(workgroupSize), 1, 1}));
  Block &entry = func.getBody().front();
  b.setInsertionPointToEnd(&entry);
  auto ret = mlir::gpu::ReturnOp::create(b);
  b.setInsertionPoint(ret);
  return func;
}

MemRefType workgroupBuffer(MLIRContext *ctx, int64_t elements, Type type) {
  return MemRefType::get(
      {std::max<int64_t>(1, elements)}, type, MemRefLayoutAttrInterface(),
      mlir::gpu::AddressSpaceAttr::get(ctx,
                                       mlir::gpu::AddressSpace::Workgroup));
}

MemRefType bindingType(uint64_t bytes, Type type) {
  uint64_t elementBytes = 4;
  if (auto vector = dyn_cast<VectorType>(type))
    elementBytes = vector.getNumElements() *
                   vector.getElementType().getIntOrFloatBitWidth() / 8;
  else
    elementBytes = std::max(1u, type.getIntOrFloatBitWidth() / 8);
  int64_t elements =
      static_cast<int64_t>((bytes + elementBytes - 1) / elementBytes);
  return MemRefType::get({std::max<int64_t>(1, elements)}, type);
}

} // namespace fmc::gpu
