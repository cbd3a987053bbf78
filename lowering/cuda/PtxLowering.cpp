//===- PtxLowering.cpp - the kernels module to PTX (and cubin) ------------===//

#include "lowering/cuda/PtxLowering.h"

#include "lowering/gpu/GridDependency.h"
#include "lowering/gpu/generator/Intrinsics.h"

#include "mlir/AsmParser/AsmParser.h"
#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVM.h"
#include "mlir/Conversion/GPUToNVVM/GPUToNVVMPass.h"
#include "mlir/Conversion/IndexToLLVM/IndexToLLVM.h"
#include "mlir/Conversion/MemRefToLLVM/MemRefToLLVM.h"
#include "mlir/Conversion/NVVMToLLVM/NVVMToLLVM.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Conversion/UBToLLVM/UBToLLVM.h"
#include "mlir/Conversion/VectorToLLVM/ConvertVectorToLLVM.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVM/NVVM/Target.h"
#include "mlir/Target/LLVMIR/Dialect/GPU/GPUToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/NVVM/NVVMToLLVMIRTranslation.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/TargetSelect.h"

#include <cstdlib>
#include <mutex>

using namespace mlir;

namespace fmc::cuda {

namespace {

llvm::Error fail(const llvm::Twine &message) {
  return llvm::createStringError(message);
}

void initializeNvptx() {
  static std::once_flag once;
  std::call_once(once, [] {
    LLVMInitializeNVPTXTargetInfo();
    LLVMInitializeNVPTXTarget();
    LLVMInitializeNVPTXTargetMC();
    LLVMInitializeNVPTXAsmPrinter();
  });
}

/// A warp has 32 lanes on every NVIDIA GPU.
struct SubgroupSizeIsWarpSize : OpRewritePattern<mlir::gpu::SubgroupSizeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(mlir::gpu::SubgroupSizeOp op,
                                PatternRewriter &rewriter) const override {
    rewriter.replaceOpWithNewOp<arith::ConstantIndexOp>(op, 32);
    return success();
  }
};

/// A PTX instruction of one f32 operand (sqrt.rn.f32, rsqrt.approx.f32):
/// the NVVM conversion would otherwise turn the math op into a libdevice
/// call, and libdevice is part of the CUDA toolkit this build must not need.
template <typename MathOp>
struct UnaryF32ToPtx : OpRewritePattern<MathOp> {
  // Ahead of the math expansion patterns, which would otherwise rewrite
  // some of these ops (roundeven) into intrinsics NVVM leaves to libdevice.
  UnaryF32ToPtx(MLIRContext *context, llvm::StringRef instruction)
      : OpRewritePattern<MathOp>(context, /*benefit=*/2),
        instruction(instruction) {}
  LogicalResult matchAndRewrite(MathOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.getType().isF32())
      return failure();
    auto asmOp = LLVM::InlineAsmOp::create(
        rewriter, op.getLoc(), op.getType(), ValueRange{op.getOperand()},
        instruction + " $0, $1;", "=f,f",
        /*has_side_effects=*/false, /*is_align_stack=*/false,
        LLVM::TailCallKind::None, LLVM::AsmDialectAttr(), ArrayAttr());
    rewriter.replaceOp(op, asmOp.getResult(0));
    return success();
  }
  std::string instruction;
};

/// |x| by clearing the sign bit.
struct AbsFByMask : OpRewritePattern<math::AbsFOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(math::AbsFOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.getType().isF32())
      return failure();
    Location loc = op.getLoc();
    Value bits =
        arith::BitcastOp::create(rewriter, loc, rewriter.getI32Type(), op.getOperand());
    Value mask = arith::ConstantIntOp::create(rewriter, loc, 0x7fffffff, 32);
    Value cleared = arith::AndIOp::create(rewriter, loc, bits, mask);
    rewriter.replaceOpWithNewOp<arith::BitcastOp>(op, op.getType(), cleared);
    return success();
  }
};

/// floor(x) through an integer conversion (the exp approximation needs it):
/// t = trunc(x), minus 1 where t > x; |x| >= 2^23 is already integral.
struct FloorByTruncation : OpRewritePattern<math::FloorOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(math::FloorOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.getType().isF32())
      return failure();
    Location loc = op.getLoc();
    Value x = op.getOperand();
    Type i32 = rewriter.getI32Type(), f32 = op.getType();
    Value truncated = arith::SIToFPOp::create(
        rewriter, loc, f32, arith::FPToSIOp::create(rewriter, loc, i32, x));
    Value above = arith::CmpFOp::create(rewriter, loc,
                                        arith::CmpFPredicate::OGT, truncated, x);
    Value one = arith::ConstantFloatOp::create(rewriter, loc, cast<FloatType>(f32),
                                               llvm::APFloat(1.0f));
    Value lowered = arith::SubFOp::create(rewriter, loc, truncated, one);
    Value floored =
        arith::SelectOp::create(rewriter, loc, above, lowered, truncated);
    Value magnitude = math::AbsFOp::create(rewriter, loc, x);
    Value integral = arith::ConstantFloatOp::create(
        rewriter, loc, cast<FloatType>(f32), llvm::APFloat(8388608.0f));
    Value large = arith::CmpFOp::create(rewriter, loc, arith::CmpFPredicate::OGE,
                                        magnitude, integral);
    rewriter.replaceOpWithNewOp<arith::SelectOp>(op, large, x, floored);
    return success();
  }
};

/// arith.maxnumf / minnumf as LLVM's maxnum / minnum (PTX max.f32 /
/// min.f32), not libdevice's fmaxf / fminf.
template <typename ArithOp, typename LLVMOp>
struct NumFToIntrinsic : OpRewritePattern<ArithOp> {
  using OpRewritePattern<ArithOp>::OpRewritePattern;
  LogicalResult matchAndRewrite(ArithOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.getType().isF32())
      return failure();
    rewriter.replaceOpWithNewOp<LLVMOp>(op, op.getType(), op.getLhs(),
                                        op.getRhs());
    return success();
  }
};

/// Everything the NVVM conversion cannot take directly: the subgroup size,
/// subgroup reductions (to warp shuffles), global ids, and math functions
/// that would otherwise become libdevice calls.
LogicalResult prepareForNvvm(Operation *gpuModule) {
  if (failed(fmc::gpu::resolveIntrinsicsForNvvm(
          cast<mlir::gpu::GPUModuleOp>(gpuModule))))
    return failure();
  MLIRContext *context = gpuModule->getContext();
  RewritePatternSet patterns(context);
  patterns.add<SubgroupSizeIsWarpSize>(context);
  mlir::populateGpuLowerSubgroupReduceToShufflePatterns(patterns,
                                                        /*subgroupSize=*/32);
  mlir::populateGpuGlobalIdPatterns(patterns);
  patterns.add<UnaryF32ToPtx<math::SqrtOp>>(context, "sqrt.rn.f32");
  patterns.add<UnaryF32ToPtx<math::RsqrtOp>>(context, "rsqrt.approx.f32");
  // The int8 rounding of activations: to nearest, ties to even.
  patterns.add<UnaryF32ToPtx<math::RoundEvenOp>>(context, "cvt.rni.f32.f32");
  patterns.add<AbsFByMask, FloorByTruncation,
               NumFToIntrinsic<arith::MaxNumFOp, LLVM::MaxNumOp>,
               NumFToIntrinsic<arith::MinNumFOp, LLVM::MinNumOp>>(context);
  mlir::math::populateExpansionPatterns(patterns);
  mlir::populateMathF32ExpansionPatterns(patterns,
                                         [](StringRef) { return true; });
  mlir::populateMathPolynomialApproximationPatterns(
      patterns, [](StringRef) { return true; });
  return applyPatternsGreedily(gpuModule, std::move(patterns));
}

/// The grid dependency markers of `gpuModule` (GridDependency.h) as
/// griddepcontrol instructions, and a wait at the entry of every kernel
/// that calls none, for chips that have them; erased for those that do not.
void lowerGridDependencyMarkers(mlir::gpu::GPUModuleOp gpuModule,
                                bool gridDependencyControl) {
  if (!gridDependencyControl) {
    fmc::gpu::eraseGridDependencyMarkers(gpuModule);
    return;
  }
  OpBuilder builder(gpuModule.getContext());
  auto control = [&](Location loc, NVVM::GridDepActionKind kind) {
    NVVM::GriddepcontrolOp::create(builder, loc, kind);
  };
  for (auto kernel : gpuModule.getOps<mlir::gpu::GPUFuncOp>()) {
    if (!kernel.isKernel())
      continue;
    bool waits = llvm::any_of(
        fmc::gpu::gridDependencyMarkerCalls(kernel), [](func::CallOp call) {
          return call.getCallee() == fmc::gpu::kPdlWaitMarker;
        });
    if (waits)
      continue;
    builder.setInsertionPointToStart(&kernel.getBody().front());
    control(kernel.getLoc(), NVVM::GridDepActionKind::wait);
  }
  for (func::CallOp call : fmc::gpu::gridDependencyMarkerCalls(gpuModule)) {
    builder.setInsertionPoint(call);
    control(call.getLoc(), call.getCallee() == fmc::gpu::kPdlWaitMarker
                               ? NVVM::GridDepActionKind::wait
                               : NVVM::GridDepActionKind::launch_dependents);
    call.erase();
  }
  fmc::gpu::eraseGridDependencyMarkerDeclarations(gpuModule);
}

} // namespace

bool hasGridDependencyControl(llvm::StringRef chip) {
  unsigned version = 0;
  if (!chip.consume_front("sm_"))
    return false;
  // "sm_90a": the digits before the suffix.
  chip = chip.take_while([](char c) { return llvm::isDigit(c); });
  return !chip.getAsInteger(10, version) && version >= 90;
}

llvm::Expected<std::string> lowerToPtx(ModuleOp kernels,
                                       const PtxOptions &options) {
  initializeNvptx();
  MLIRContext &context = *kernels.getContext();
  DialectRegistry registry;
  mlir::NVVM::registerNVVMTargetInterfaceExternalModels(registry);
  mlir::registerLLVMDialectTranslation(registry);
  mlir::registerNVVMDialectTranslation(registry);
  mlir::registerGPUDialectTranslation(registry);
  // What convert-gpu-to-nvvm converts besides gpu ops: every dialect the
  // kernels use, through its ConvertToLLVM interface.
  mlir::arith::registerConvertArithToLLVMInterface(registry);
  mlir::cf::registerConvertControlFlowToLLVMInterface(registry);
  mlir::registerConvertFuncToLLVMInterface(registry);
  mlir::index::registerConvertIndexToLLVMInterface(registry);
  mlir::registerConvertMathToLLVMInterface(registry);
  mlir::registerConvertMemRefToLLVMInterface(registry);
  mlir::registerConvertNVVMToLLVMInterface(registry);
  mlir::ub::registerConvertUBToLLVMInterface(registry);
  mlir::vector::registerConvertVectorToLLVMInterface(registry);
  context.appendDialectRegistry(registry);
  context.loadDialect<mlir::NVVM::NVVMDialect, mlir::LLVM::LLVMDialect>();

  OwningOpRef<ModuleOp> module(cast<ModuleOp>(kernels->clone()));
  // Only the gpu.module is code; the launch lists beside it name its kernels
  // by symbol and would dangle once the kernels become a binary.
  for (Operation &op : llvm::make_early_inc_range(module->getOps()))
    if (!isa<mlir::gpu::GPUModuleOp>(op))
      op.erase();
  Attribute target = parseAttribute(
      "#nvvm.target<O = 3, chip = \"" + options.chip + "\", features = \"" +
          options.features + "\">",
      &context);
  if (!target)
    return fail("bad CUDA target chip '" + options.chip + "' or features '" +
                options.features + "'");
  std::string diagnostics;
  llvm::raw_string_ostream os(diagnostics);
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diag) {
    os << diag << "\n";
    return success();
  });
  bool gridDependencyControl = hasGridDependencyControl(options.chip);
  for (auto gpuModule : module->getOps<mlir::gpu::GPUModuleOp>()) {
    gpuModule.setTargetsAttr(ArrayAttr::get(&context, {target}));
    lowerGridDependencyMarkers(gpuModule, gridDependencyControl);
    if (failed(prepareForNvvm(gpuModule)))
      return fail("PTX lowering: preparing " + gpuModule.getName() +
                  " failed:\n" + diagnostics);
  }

  PassManager pm(&context);
  OpPassManager &nested = pm.nest<mlir::gpu::GPUModuleOp>();
  nested.addPass(createSCFToControlFlowPass());
  nested.addPass(createConvertMathToLLVMPass());
  ConvertGpuOpsToNVVMOpsOptions nvvm;
  nvvm.useBarePtrCallConv = true;
  nested.addPass(createConvertGpuOpsToNVVMOps(nvvm));
  nested.addPass(createReconcileUnrealizedCastsPass());
  GpuModuleToBinaryPassOptions binary;
  binary.compilationTarget = "isa";
  pm.addPass(createGpuModuleToBinaryPass(binary));
  if (failed(pm.run(*module))) {
    if (std::getenv("FMC_DEBUG_PTX"))
      module->print(llvm::errs());
    return fail("PTX lowering failed:\n" + diagnostics);
  }

  for (auto binaryOp : module->getOps<mlir::gpu::BinaryOp>())
    for (Attribute object : binaryOp.getObjects())
      if (auto gpuObject = dyn_cast<mlir::gpu::ObjectAttr>(object))
        return gpuObject.getObject().getValue().str();
  return fail("PTX lowering produced no object");
}

std::string findPtxas() {
  if (const char *path = std::getenv("FMC_PTXAS"))
    return path;
  if (llvm::sys::fs::can_execute("/usr/local/cuda/bin/ptxas"))
    return "/usr/local/cuda/bin/ptxas";
  return "";
}

llvm::Expected<std::string> assembleCubin(llvm::StringRef ptx,
                                          llvm::StringRef chip,
                                          llvm::StringRef ptxas) {
  llvm::SmallString<128> ptxPath, cubinPath, logPath;
  if (std::error_code ec =
          llvm::sys::fs::createTemporaryFile("fmc-kernels", "ptx", ptxPath))
    return fail("cannot create a temporary file: " + ec.message());
  llvm::FileRemover removePtx(ptxPath);
  llvm::sys::fs::createTemporaryFile("fmc-kernels", "cubin", cubinPath);
  llvm::FileRemover removeCubin(cubinPath);
  llvm::sys::fs::createTemporaryFile("fmc-ptxas", "log", logPath);
  llvm::FileRemover removeLog(logPath);
  {
    std::error_code ec;
    llvm::raw_fd_ostream out(ptxPath, ec);
    if (ec)
      return fail("cannot write " + ptxPath + ": " + ec.message());
    out << ptx;
  }
  std::string arch = ("-arch=" + chip).str();
  llvm::StringRef args[] = {ptxas, arch, "-O3", ptxPath, "-o", cubinPath};
  std::optional<llvm::StringRef> redirects[] = {std::nullopt, logPath.str(),
                                                logPath.str()};
  std::string error;
  int status = llvm::sys::ExecuteAndWait(ptxas, args, std::nullopt, redirects,
                                         /*SecondsToWait=*/300, 0, &error);
  if (status != 0) {
    std::string log;
    if (auto buffer = llvm::MemoryBuffer::getFile(logPath))
      log = (*buffer)->getBuffer().str();
    return fail("ptxas " + arch + " failed" +
                (error.empty() ? "" : ": " + error) + "\n" + log);
  }
  auto cubin = llvm::MemoryBuffer::getFile(cubinPath, /*IsText=*/false);
  if (!cubin)
    return fail("ptxas wrote no cubin: " + cubin.getError().message());
  return (*cubin)->getBuffer().str();
}

} // namespace fmc::cuda
