//===- KernelTemplates.cpp - kernels/*.mlir, specialized per instance -----===//

#include "lowering/gpu/KernelTemplates.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Dominance.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Transforms/CSE.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/BitVector.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace fmc::gpu {

namespace {

const TemplateSource kTemplateFiles[] = {
#include "KernelTemplates.inc"
};

llvm::Error fail(const llvm::Twine &message) {
  return llvm::createStringError(message);
}

/// The canonicalization patterns of every loaded dialect and op, as the
/// canonicalize pass collects them.
std::unique_ptr<FrozenRewritePatternSet>
canonicalizationPatterns(MLIRContext &context) {
  RewritePatternSet patterns(&context);
  for (Dialect *dialect : context.getLoadedDialects())
    dialect->getCanonicalizationPatterns(patterns);
  for (RegisteredOperationName op : context.getRegisteredOperations())
    op.getCanonicalizationPatterns(patterns, &context);
  return std::make_unique<FrozenRewritePatternSet>(std::move(patterns));
}

} // namespace

void loadKernelDialects(MLIRContext &context) {
  // func: the target intrinsics are private functions of the gpu.module
  // (generator/Intrinsics.h).
  context.loadDialect<arith::ArithDialect, func::FuncDialect,
                      mlir::gpu::GPUDialect,
                      math::MathDialect, memref::MemRefDialect,
                      scf::SCFDialect, vector::VectorDialect>();
}

OwningOpRef<ModuleOp> createKernelsModule(MLIRContext &context) {
  loadKernelDialects(context);
  OpBuilder builder(&context);
  OwningOpRef<ModuleOp> module = ModuleOp::create(builder.getUnknownLoc());
  (*module)->setAttr(mlir::gpu::GPUDialect::getContainerModuleAttrName(),
                     builder.getUnitAttr());
  builder.setInsertionPointToEnd(module->getBody());
  mlir::gpu::GPUModuleOp::create(builder, builder.getUnknownLoc(), "kernels");
  return module;
}

mlir::gpu::GPUModuleOp kernelsOf(ModuleOp module) {
  return *module.getOps<mlir::gpu::GPUModuleOp>().begin();
}

llvm::Expected<std::unique_ptr<KernelTemplates>>
KernelTemplates::load(MLIRContext &context) {
  return load(context, kTemplateFiles);
}

llvm::Expected<std::unique_ptr<KernelTemplates>>
KernelTemplates::load(MLIRContext &context,
                      llvm::ArrayRef<TemplateSource> sources) {
  loadKernelDialects(context);
  auto templates = std::unique_ptr<KernelTemplates>(new KernelTemplates());
  OpBuilder builder(&context);
  templates->module = ModuleOp::create(builder.getUnknownLoc());
  for (const TemplateSource &file : sources) {
    std::string diagnostics;
    llvm::raw_string_ostream os(diagnostics);
    llvm::SourceMgr sourceMgr;
    sourceMgr.AddNewSourceBuffer(
        llvm::MemoryBuffer::getMemBuffer(file.text, file.name), llvm::SMLoc());
    SourceMgrDiagnosticHandler handler(sourceMgr, &context, os);
    OwningOpRef<ModuleOp> parsed =
        parseSourceFile<ModuleOp>(sourceMgr, ParserConfig(&context));
    if (!parsed)
      return fail("kernel template " + llvm::Twine(file.name) +
                  " does not parse:\n" + diagnostics);
    for (auto gpuModule :
         llvm::make_early_inc_range(parsed->getOps<mlir::gpu::GPUModuleOp>())) {
      for (auto func : gpuModule.getOps<mlir::gpu::GPUFuncOp>()) {
        if (!func.isKernel())
          return fail("kernel template " + llvm::Twine(file.name) + ": @" +
                      func.getName() + " is not a kernel");
        if (!templates->functions.try_emplace(func.getName(), func).second)
          return fail("kernel template @" + func.getName() +
                      " is defined twice (" + file.name + ")");
      }
      gpuModule->moveBefore(templates->module->getBody(),
                            templates->module->getBody()->end());
    }
  }
  templates->canonicalization = canonicalizationPatterns(context);
  return templates;
}

std::vector<std::string> KernelTemplates::names() const {
  std::vector<std::string> result;
  for (const auto &entry : functions)
    result.push_back(entry.getKey().str());
  llvm::sort(result);
  return result;
}

llvm::Expected<std::string> KernelTemplates::specialize(
    llvm::StringRef name, llvm::ArrayRef<SpecValue> spec,
    llvm::ArrayRef<uint64_t> bindingBytes, std::array<uint32_t, 3> workgroup,
    mlir::gpu::GPUModuleOp target) {
  auto it = functions.find(name);
  if (it == functions.end())
    return fail("no GPU kernel template @" + name);
  mlir::gpu::GPUFuncOp tmpl = it->second;

  // Check the instance against the template's signature before cloning.
  unsigned memrefs = 0, scalars = 0;
  for (Type type : tmpl.getArgumentTypes()) {
    if (auto memref = dyn_cast<MemRefType>(type)) {
      if (memref.getRank() != 1)
        return fail("kernel template @" + name +
                    ": bindings must be 1-D memrefs");
      ++memrefs;
    } else {
      ++scalars;
    }
  }
  if (memrefs != bindingBytes.size() || scalars != spec.size())
    return fail("kernel template @" + name + " takes " + llvm::Twine(memrefs) +
                " bindings and " + llvm::Twine(scalars) +
                " specialization values; the lowering gave " +
                llvm::Twine(bindingBytes.size()) + " and " +
                llvm::Twine(spec.size()));

  auto func = cast<mlir::gpu::GPUFuncOp>(tmpl->clone());
  OwningOpRef<mlir::gpu::GPUFuncOp> owned(func);
  Block &entry = func.getBody().front();
  OpBuilder builder = OpBuilder::atBlockBegin(&entry);
  Location loc = func.getLoc();
  llvm::BitVector erase(func.getNumArguments());
  SmallVector<Type> argumentTypes;
  unsigned nextSpec = 0, nextBinding = 0;
  for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i) {
    BlockArgument arg = entry.getArgument(i);
    if (auto memref = dyn_cast<MemRefType>(arg.getType())) {
      unsigned elementBytes =
          std::max(1u, memref.getElementTypeBitWidth() / 8);
      // Rounded up: a tensor of an odd number of f16 values or packed bytes
      // is read in whole 32-bit words; the artifact pads every tensor (and
      // the weight segment's end) to 64 bytes, so the last word exists.
      int64_t elements =
          (bindingBytes[nextBinding++] + elementBytes - 1) / elementBytes;
      auto type = MemRefType::get({std::max<int64_t>(elements, 1)},
                                  memref.getElementType());
      arg.setType(type);
      argumentTypes.push_back(type);
      continue;
    }
    const SpecValue &value = spec[nextSpec++];
    Value constant;
    if (auto floatType = dyn_cast<FloatType>(arg.getType())) {
      if (!std::holds_alternative<double>(value))
        return fail("kernel template @" + name + ": argument " +
                    llvm::Twine(i) + " is a float; the lowering gave an integer");
      constant = arith::ConstantOp::create(
          builder, loc, builder.getFloatAttr(floatType, std::get<double>(value)));
    } else {
      if (!std::holds_alternative<int64_t>(value))
        return fail("kernel template @" + name + ": argument " +
                    llvm::Twine(i) + " is an integer; the lowering gave a float");
      constant = arith::ConstantOp::create(
          builder, loc,
          builder.getIntegerAttr(arg.getType(), std::get<int64_t>(value)));
    }
    arg.replaceAllUsesWith(constant);
    erase.set(i);
  }
  SmallVector<Type> retyped;
  for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i)
    retyped.push_back(entry.getArgument(i).getType());
  func.setFunctionTypeAttr(
      TypeAttr::get(builder.getFunctionType(retyped, {})));
  if (failed(func.eraseArguments(erase)))
    return fail("kernel template @" + name + ": cannot erase its arguments");
  // eraseArguments kept the memref arguments' retyped block arguments; the
  // function type must say the same.
  func.setFunctionTypeAttr(
      TypeAttr::get(builder.getFunctionType(argumentTypes, {})));
  func.setKnownBlockSizeAttr(builder.getDenseI32ArrayAttr(
      {static_cast<int32_t>(workgroup[0]), static_cast<int32_t>(workgroup[1]),
       static_cast<int32_t>(workgroup[2])}));

  return insert(name, owned.release(), target);
}

llvm::Expected<std::string>
KernelTemplates::insert(llvm::StringRef name, mlir::gpu::GPUFuncOp func,
                        mlir::gpu::GPUModuleOp target) {
  // Generators build in place (their intrinsic declarations land in the
  // target module); specializations arrive detached.
  bool detached = !func->getParentOp();
  // Fold the constants through: static loop bounds, static unpacking.
  GreedyRewriteConfig config;
  (void)applyPatternsGreedily(func.getOperation(), *canonicalization, config);
  IRRewriter rewriter(func.getContext());
  DominanceInfo dominance(func);
  eliminateCommonSubExpressions(rewriter, dominance, func);

  std::string key;
  llvm::raw_string_ostream os(key);
  func.setName("kernel");
  func->print(os, OpPrintingFlags().useLocalScope().elideLargeElementsAttrs());
  auto existing = specializations.find(key);
  if (existing != specializations.end()) {
    func.erase();
    return existing->second;
  }

  std::string kernelName =
      (name + "_" + llvm::Twine(instances[name]++)).str();
  func.setName(kernelName);
  if (detached)
    target.getBody()->push_back(func);
  specializations[key] = kernelName;
  return kernelName;
}

} // namespace fmc::gpu
