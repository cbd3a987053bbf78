//===- fmc-opt.cpp - run fm passes over MLIR files ------------------------===//
//
// mlir-opt for fmc: parses fm modules, verifies them, runs fm and upstream
// passes (`--help` lists them) and prints the result.
//
// Relative file paths in an IR file are relative to its directory
// (dialects/fm/IR/FmFilePaths.h): the pipeline starts with
// fm-rebase-file-paths from the input's directory (stdin: the current one),
// so that passes reading those files find them from any directory, and ends
// with it to the directory of the -o file. Printed to stdout, the paths are
// as the input had them.
//
//===----------------------------------------------------------------------===//

#include "dialects/fm/IR/FmFilePaths.h"
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
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/ToolOutputFile.h"

#include <cstdio>

using namespace mlir;

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  registerTransformsPasses();
  fm::registerFmPassesAndPipelines();
  plan::registerPlanPasses();
  registerPass([] { return fmc::spirv::createZeroTripLoopGuardPass(); });

  DialectRegistry registry;
  registry.insert<fm::FmDialect, plan::PlanDialect, func::FuncDialect,
                  gpu::GPUDialect, arith::ArithDialect, memref::MemRefDialect,
                  scf::SCFDialect>();
  llvm::cl::SetVersionPrinter([](llvm::raw_ostream &os) {
    os << fmc::versionLine("fmc-opt") << "\n";
  });
  auto [inputFile, outputFile] = registerAndParseCLIOptions(
      argc, argv, "fmc-opt: the fm model compiler's pass driver\n", registry);

  // MlirOptMain(argc, argv, inputFile, outputFile, registry), with the
  // pipeline the command line gives between the two path rebasings.
  MlirOptMainConfig commandLine = MlirOptMainConfig::createFromCLOptions();
  MlirOptMainConfig config = commandLine;
  std::string inputDir = fm::irFileDirectory(inputFile);
  std::string outputDir =
      outputFile == "-" ? inputDir : fm::irFileDirectory(outputFile);
  config.setPassPipelineSetupFn([&](PassManager &pm) -> LogicalResult {
    bool onModule = pm.getOpAnchorName() == ModuleOp::getOperationName();
    if (onModule && !inputDir.empty())
      pm.addPass(fm::createRebaseFilePaths({inputDir, ""}));
    if (failed(commandLine.setupPassPipeline(pm)))
      return failure();
    if (onModule && !outputDir.empty())
      pm.addPass(fm::createRebaseFilePaths({"", outputDir}));
    return success();
  });

  if (inputFile == "-" &&
      llvm::sys::Process::FileDescriptorIsDisplayed(fileno(stdin)))
    llvm::errs() << "(processing input from stdin now, hit ctrl-c/ctrl-d to "
                    "interrupt)\n";
  std::string error;
  std::unique_ptr<llvm::MemoryBuffer> input = openInputFile(inputFile, &error);
  if (!input) {
    llvm::errs() << error << "\n";
    return 1;
  }
  std::unique_ptr<llvm::ToolOutputFile> output =
      openOutputFile(outputFile, &error);
  if (!output) {
    llvm::errs() << error << "\n";
    return 1;
  }
  if (failed(MlirOptMain(output->os(), std::move(input), registry, config)))
    return 1;
  output->keep();
  return 0;
}
