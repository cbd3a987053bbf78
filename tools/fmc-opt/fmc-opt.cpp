//===- fmc-opt.cpp - run fm passes over MLIR files ------------------------===//
//
// mlir-opt for fmc: parses fm modules, verifies them, runs fm and upstream
// passes (`--help` lists them) and prints the result.
//
//===----------------------------------------------------------------------===//

#include "dialects/fm/IR/FmOps.h"
#include "dialects/plan/IR/PlanDialect.h"
#include "lowering/plan/Passes.h"
#include "lowering/spirv/ZeroTripLoopGuard.h"
#include "passes/Passes.h"
#include "support/Version.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::registerTransformsPasses();
  mlir::fm::registerFmPassesAndPipelines();
  mlir::plan::registerPlanPasses();
  mlir::registerPass([] { return fmc::spirv::createZeroTripLoopGuardPass(); });

  mlir::DialectRegistry registry;
  registry.insert<mlir::fm::FmDialect, mlir::plan::PlanDialect,
                  mlir::func::FuncDialect, mlir::gpu::GPUDialect,
                  mlir::arith::ArithDialect,
                  mlir::memref::MemRefDialect, mlir::scf::SCFDialect>();
  llvm::cl::SetVersionPrinter([](llvm::raw_ostream &os) {
    os << fmc::versionLine("fmc-opt") << "\n";
  });
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "fmc-opt: the fm model compiler's pass driver\n", registry));
}
