//===- Intrinsics.cpp - target-specific instructions in portable kernels --===//

#include "lowering/gpu/generator/Intrinsics.h"

#include "lowering/gpu/generator/Decode.h"
#include "lowering/gpu/generator/KernelBuilder.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "llvm/ADT/SetVector.h"

using namespace mlir;

namespace fmc::gpu {

namespace {

constexpr llvm::StringLiteral kDot4U8S8 = "fmc.dot4_u8_s8";
constexpr llvm::StringLiteral kMmaS8U8 = "fmc.mma_m16n8k32_s8_u8";
constexpr llvm::StringLiteral kMmaF16 = "fmc.mma_m16n8k16_f16";
constexpr llvm::StringLiteral kMmaBF16 = "fmc.mma_m16n8k16_bf16";
constexpr llvm::StringLiteral kMatrixProducts[] = {kMmaS8U8, kMmaF16,
                                                   kMmaBF16};

bool isMatrixProduct(StringRef callee) {
  return llvm::is_contained(kMatrixProducts, callee);
}

/// The declaration of `name` in `module`.
func::FuncOp declare(ImplicitLocOpBuilder &b, mlir::gpu::GPUModuleOp module,
                     StringRef name, FunctionType type) {
  if (auto existing = module.lookupSymbol<func::FuncOp>(name))
    return existing;
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(module.getBody());
  auto decl = func::FuncOp::create(b, name, type);
  decl.setPrivate();
  return decl;
}

/// How one target replaces each intrinsic's call (the call's results).
struct Lowerings {
  llvm::function_ref<Value(ImplicitLocOpBuilder &, func::CallOp)> dot4;
  llvm::function_ref<SmallVector<Value>(ImplicitLocOpBuilder &, func::CallOp)>
      mma;
};

/// Resolves each call to an intrinsic, then erases the declarations and
/// the casts that gave workgroup buffers the declarations' dynamic shape.
LogicalResult resolve(mlir::gpu::GPUModuleOp module,
                      const Lowerings &lowerings) {
  SmallVector<func::CallOp> calls;
  module.walk([&](func::CallOp call) {
    if (call.getCallee() == kDot4U8S8 || isMatrixProduct(call.getCallee()))
      calls.push_back(call);
  });
  // Common subexpression elimination may have merged the casts of calls
  // in one block: each is erased once.
  llvm::SetVector<Operation *> casts;
  for (func::CallOp call : calls) {
    ImplicitLocOpBuilder b(call.getLoc(), call);
    if (call.getCallee() == kDot4U8S8) {
      call.getResult(0).replaceAllUsesWith(lowerings.dot4(b, call));
    } else {
      for (Value operand : call.getOperands())
        if (auto cast = operand.getDefiningOp<memref::CastOp>())
          casts.insert(cast);
      for (auto [result, value] :
           llvm::zip_equal(call.getResults(), lowerings.mma(b, call)))
        result.replaceAllUsesWith(value);
    }
    call.erase();
  }
  for (Operation *cast : casts)
    if (cast->use_empty())
      cast->erase();
  for (StringRef name : {StringRef(kDot4U8S8), StringRef(kMmaS8U8),
                         StringRef(kMmaF16), StringRef(kMmaBF16)})
    if (auto decl = module.lookupSymbol<func::FuncOp>(name))
      decl.erase();
  return success();
}

/// acc + the 4-way byte dot product of a (unsigned) and x (signed), in
/// portable arithmetic.
Value portableDot4(ImplicitLocOpBuilder &b, Value a, Value x, Value sum) {
  auto c = [&](int64_t v) { return arith::ConstantIntOp::create(b, v, 32); };
  for (int byte = 0; byte < 4; ++byte) {
    // Unsigned byte of a; signed byte of x (shift it to the top, then
    // arithmetically back).
    Value ab = arith::AndIOp::create(
        b, arith::ShRUIOp::create(b, a, c(8 * byte)), c(255));
    Value xb = arith::ShRSIOp::create(
        b, arith::ShLIOp::create(b, x, c(24 - 8 * byte)), c(24));
    sum = arith::AddIOp::create(b, sum, arith::MulIOp::create(b, ab, xb));
  }
  return sum;
}

/// Half `half` (0: low bits) of `word` as f32: an f16 or a bf16.
Value portableHalf(ImplicitLocOpBuilder &b, Value word, int half, bool bf16) {
  KernelBuilder kb(b);
  return halfToF32(kb, half ? kb.shr(word, 16) : word, bf16);
}

/// The operands of an mma call: buffers (looked through their casts),
/// bases, strides, the lane's row group and thread in group, accumulators.
struct MmaOperands {
  Value a, aBase, aStride, b, bBase, bStride, group, inGroup;
  SmallVector<Value, 4> c;

  MmaOperands(ImplicitLocOpBuilder &builder, func::CallOp call) {
    auto source = [](Value v) -> Value {
      if (auto cast = v.getDefiningOp<memref::CastOp>())
        return cast.getSource();
      return v;
    };
    a = source(call.getOperand(0));
    aBase = call.getOperand(1);
    aStride = call.getOperand(2);
    b = source(call.getOperand(3));
    bBase = call.getOperand(4);
    bStride = call.getOperand(5);
    Value lane = call.getOperand(6);
    Value four = arith::ConstantIndexOp::create(builder, 4);
    group = arith::DivUIOp::create(builder, lane, four);
    inGroup = arith::RemUIOp::create(builder, lane, four);
    for (unsigned i = 0; i < 4; ++i)
      c.push_back(call.getOperand(7 + i));
  }

  /// Word `word` (0..7) of row `row` of A, or of column `column` of B.
  Value aWord(ImplicitLocOpBuilder &builder, Value row, Value word) const {
    return load(builder, a, aBase, aStride, row, word);
  }
  Value bWord(ImplicitLocOpBuilder &builder, Value column, Value word) const {
    return load(builder, b, bBase, bStride, column, word);
  }

private:
  static Value load(ImplicitLocOpBuilder &builder, Value buffer, Value base,
                    Value stride, Value row, Value word) {
    Value at = arith::AddIOp::create(
        builder, base,
        arith::AddIOp::create(builder,
                              arith::MulIOp::create(builder, row, stride),
                              word));
    return memref::LoadOp::create(builder, buffer, ValueRange{at});
  }
};

Value index(ImplicitLocOpBuilder &b, int64_t v) {
  return arith::ConstantIndexOp::create(b, v);
}
Value plus(ImplicitLocOpBuilder &b, Value v, int64_t n) {
  return n == 0 ? v : arith::AddIOp::create(b, v, index(b, n)).getResult();
}

} // namespace

Value emitDot4U8S8(ImplicitLocOpBuilder &b, mlir::gpu::GPUModuleOp module,
                   Value a, Value x, Value acc) {
  Type i32 = b.getI32Type();
  func::FuncOp decl = declare(b, module, kDot4U8S8,
                              b.getFunctionType({i32, i32, i32}, {i32}));
  return func::CallOp::create(b, decl, ValueRange{a, x, acc}).getResult(0);
}

namespace {

/// A call of the matrix product `name` on workgroup buffers `a` and `b_`,
/// accumulators `c` of type `accumulator`.
SmallVector<Value, 4> emitMatrixProduct(ImplicitLocOpBuilder &b,
                                        mlir::gpu::GPUModuleOp module,
                                        StringRef name, Value a, Value aBase,
                                        int64_t aStride, Value b_, Value bBase,
                                        int64_t bStride, Value lane,
                                        ValueRange c) {
  Type i32 = b.getI32Type(), indexType = b.getIndexType();
  Type accumulator = c.front().getType();
  auto words = MemRefType::get(
      {ShapedType::kDynamic}, i32, MemRefLayoutAttrInterface(),
      cast<MemRefType>(a.getType()).getMemorySpace());
  SmallVector<Type> inputs = {words, indexType, indexType, words,
                              indexType, indexType, indexType};
  inputs.append(4, accumulator);
  func::FuncOp decl =
      declare(b, module, name,
              b.getFunctionType(inputs, SmallVector<Type>(4, accumulator)));
  SmallVector<Value> operands = {
      memref::CastOp::create(b, words, a), aBase, index(b, aStride),
      memref::CastOp::create(b, words, b_), bBase, index(b, bStride), lane};
  operands.append(c.begin(), c.end());
  auto call = func::CallOp::create(b, decl, operands);
  return SmallVector<Value, 4>(call.getResults());
}

} // namespace

SmallVector<Value, 4> emitMmaS8U8(ImplicitLocOpBuilder &b,
                                  mlir::gpu::GPUModuleOp module, Value a,
                                  Value aBase, int64_t aStride, Value b_,
                                  Value bBase, int64_t bStride, Value lane,
                                  ValueRange c) {
  return emitMatrixProduct(b, module, kMmaS8U8, a, aBase, aStride, b_, bBase,
                           bStride, lane, c);
}

SmallVector<Value, 4> emitMmaHalves(ImplicitLocOpBuilder &b,
                                    mlir::gpu::GPUModuleOp module, bool bf16,
                                    Value a, Value aBase, int64_t aStride,
                                    Value b_, Value bBase, int64_t bStride,
                                    Value lane, ValueRange c) {
  return emitMatrixProduct(b, module, bf16 ? kMmaBF16 : kMmaF16, a, aBase,
                           aStride, b_, bBase, bStride, lane, c);
}

LogicalResult resolveIntrinsicsForNvvm(mlir::gpu::GPUModuleOp module) {
  auto dot4 = [](ImplicitLocOpBuilder &b, func::CallOp call) -> Value {
    // The NVVM op takes its bytes as vectors; LLVM's bitcast reinterprets
    // the word (arith's keeps shapes).
    auto bytes = VectorType::get({4}, b.getI8Type());
    Value a = LLVM::BitcastOp::create(b, bytes, call.getOperand(0));
    Value x = LLVM::BitcastOp::create(b, bytes, call.getOperand(1));
    return NVVM::DotAccumulate4WayOp::create(
               b, b.getI32Type(), a, NVVM::DotAccumulateType::UNSIGNED, x,
               NVVM::DotAccumulateType::SIGNED, call.getOperand(2))
        .getResult();
  };
  auto mma = [](ImplicitLocOpBuilder &b,
                func::CallOp call) -> SmallVector<Value> {
    // Fragments (PTX ISA, mma.m16n8k32 with .s8/.u8 and mma.m16n8k16 with
    // .f16/.bf16 alike, in words): A's registers hold words inGroup and
    // inGroup + 4 of rows group and group + 8; B's words inGroup and
    // inGroup + 4 of column group.
    MmaOperands m(b, call);
    Value row8 = plus(b, m.group, 8), word4 = plus(b, m.inGroup, 4);
    SmallVector<Value> fa = {m.aWord(b, m.group, m.inGroup),
                             m.aWord(b, row8, m.inGroup),
                             m.aWord(b, m.group, word4),
                             m.aWord(b, row8, word4)};
    SmallVector<Value> fb = {m.bWord(b, m.group, m.inGroup),
                             m.bWord(b, m.group, word4)};
    StringRef callee = call.getCallee();
    Type element = m.c.front().getType();
    auto result = LLVM::LLVMStructType::getLiteral(
        b.getContext(), SmallVector<Type>(4, element));
    std::optional<NVVM::MMAIntOverflow> overflow;
    NVVM::MMATypes aType, bType;
    int64_t k = 16;
    if (callee == kMmaS8U8) {
      overflow = NVVM::MMAIntOverflow::wrapped;
      aType = NVVM::MMATypes::s8;
      bType = NVVM::MMATypes::u8;
      k = 32;
    } else if (callee == kMmaF16) {
      // f16 pairs are the op's vector<2xf16> operands.
      aType = bType = NVVM::MMATypes::f16;
      auto pair = VectorType::get({2}, b.getF16Type());
      for (Value &v : fa)
        v = LLVM::BitcastOp::create(b, pair, v);
      for (Value &v : fb)
        v = LLVM::BitcastOp::create(b, pair, v);
    } else {
      aType = bType = NVVM::MMATypes::bf16;
    }
    auto op = NVVM::MmaOp::create(
        b, result, fa, fb, m.c, ArrayRef<int64_t>{16, 8, k},
        /*b1Op=*/std::nullopt, overflow,
        std::array<NVVM::MMATypes, 2>{aType, bType},
        std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row,
                                       NVVM::MMALayout::col});
    SmallVector<Value> out;
    for (int64_t i = 0; i < 4; ++i)
      out.push_back(LLVM::ExtractValueOp::create(b, op, ArrayRef<int64_t>{i}));
    return out;
  };
  return resolve(module, {dot4, mma});
}

LogicalResult resolveIntrinsicsPortably(mlir::gpu::GPUModuleOp module) {
  auto dot4 = [](ImplicitLocOpBuilder &b, func::CallOp call) -> Value {
    return portableDot4(b, call.getOperand(0), call.getOperand(1),
                        call.getOperand(2));
  };
  auto mma = [](ImplicitLocOpBuilder &b,
                func::CallOp call) -> SmallVector<Value> {
    // The lane's four elements of C, each over the 8 words of its A row and
    // B column: no exchange between threads.
    MmaOperands m(b, call);
    StringRef callee = call.getCallee();
    Value twice = arith::MulIOp::create(b, m.inGroup, index(b, 2));
    SmallVector<Value> out;
    for (int64_t e = 0; e < 4; ++e) {
      Value row = plus(b, m.group, 8 * (e / 2));
      Value column = plus(b, twice, e % 2);
      Value sum = m.c[e];
      for (int64_t w = 0; w < 8; ++w) {
        Value x = m.aWord(b, row, index(b, w));
        Value y = m.bWord(b, column, index(b, w));
        if (callee == kMmaS8U8) {
          sum = portableDot4(b, y, x, sum);
          continue;
        }
        // Two 16-bit products, exact in f32, added in f32.
        for (int half = 0; half < 2; ++half)
          sum = arith::AddFOp::create(
              b, sum,
              arith::MulFOp::create(
                  b, portableHalf(b, x, half, callee == kMmaBF16),
                  portableHalf(b, y, half, callee == kMmaBF16)));
      }
      out.push_back(sum);
    }
    return out;
  };
  return resolve(module, {dot4, mma});
}

} // namespace fmc::gpu
