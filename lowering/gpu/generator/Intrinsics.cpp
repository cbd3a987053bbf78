//===- Intrinsics.cpp - target-specific instructions in portable kernels --===//

#include "lowering/gpu/generator/Intrinsics.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"

using namespace mlir;

namespace fmc::gpu {

namespace {

constexpr llvm::StringLiteral kDot4U8S8 = "fmc.dot4_u8_s8";

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

/// Resolves each call to an intrinsic with `lower(builder, call)`, then
/// erases the declarations.
LogicalResult
resolve(mlir::gpu::GPUModuleOp module,
        llvm::function_ref<Value(ImplicitLocOpBuilder &, func::CallOp)> lower) {
  SmallVector<func::CallOp> calls;
  module.walk([&](func::CallOp call) {
    if (call.getCallee() == kDot4U8S8)
      calls.push_back(call);
  });
  for (func::CallOp call : calls) {
    ImplicitLocOpBuilder b(call.getLoc(), call);
    call.getResult(0).replaceAllUsesWith(lower(b, call));
    call.erase();
  }
  if (auto decl = module.lookupSymbol<func::FuncOp>(kDot4U8S8))
    decl.erase();
  return success();
}

} // namespace

Value emitDot4U8S8(ImplicitLocOpBuilder &b, mlir::gpu::GPUModuleOp module,
                   Value a, Value x, Value acc) {
  Type i32 = b.getI32Type();
  func::FuncOp decl = declare(b, module, kDot4U8S8,
                              b.getFunctionType({i32, i32, i32}, {i32}));
  return func::CallOp::create(b, decl, ValueRange{a, x, acc}).getResult(0);
}

LogicalResult resolveIntrinsicsForNvvm(mlir::gpu::GPUModuleOp module) {
  return resolve(module, [](ImplicitLocOpBuilder &b, func::CallOp call) {
    // The NVVM op takes its bytes as vectors; LLVM's bitcast reinterprets
    // the word (arith's keeps shapes).
    auto bytes = VectorType::get({4}, b.getI8Type());
    Value a = LLVM::BitcastOp::create(b, bytes, call.getOperand(0));
    Value x = LLVM::BitcastOp::create(b, bytes, call.getOperand(1));
    return NVVM::DotAccumulate4WayOp::create(
               b, b.getI32Type(), a, NVVM::DotAccumulateType::UNSIGNED, x,
               NVVM::DotAccumulateType::SIGNED, call.getOperand(2))
        .getResult();
  });
}

LogicalResult resolveIntrinsicsPortably(mlir::gpu::GPUModuleOp module) {
  return resolve(module, [](ImplicitLocOpBuilder &b, func::CallOp call) {
    Value a = call.getOperand(0), x = call.getOperand(1);
    Value sum = call.getOperand(2);
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
  });
}

} // namespace fmc::gpu
