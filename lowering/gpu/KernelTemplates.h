//===- KernelTemplates.h - kernels/*.mlir, specialized per instance -------===//
//
// The templates are parsed once from the copies embedded at build time. A
// specialization clones a template, turns its scalar arguments into
// constants and its memref arguments into static memrefs of their
// bindings' sizes, records the workgroup size, and folds: what is left is
// the kernel for one shape. Identical specializations share one function.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_LOWERING_GPU_KERNELTEMPLATES_H
#define FMC_LOWERING_GPU_KERNELTEMPLATES_H

#include "lowering/gpu/LaunchBuilder.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "mlir/Rewrite/FrozenRewritePatternSet.h"
#include "llvm/ADT/StringMap.h"

#include <memory>

namespace fmc::gpu {

/// Registers and loads every dialect the kernels use (templates, generated
/// kernels and their target intrinsics).
void loadKernelDialects(mlir::MLIRContext &context);

/// An empty kernels module: a gpu.container_module holding one gpu.module
/// @kernels, which specializations go into.
mlir::OwningOpRef<mlir::ModuleOp>
createKernelsModule(mlir::MLIRContext &context);
/// The gpu.module @kernels of a module createKernelsModule made.
mlir::gpu::GPUModuleOp kernelsOf(mlir::ModuleOp module);

/// A template file's name (for messages) and MLIR text.
struct TemplateSource {
  const char *name;
  const char *text;
};

class KernelTemplates {
public:
  /// Parses the embedded templates; fails naming the file that does not
  /// parse or a function name defined twice.
  static llvm::Expected<std::unique_ptr<KernelTemplates>>
  load(mlir::MLIRContext &context);
  /// The same for `sources` instead (tests run the file they name).
  static llvm::Expected<std::unique_ptr<KernelTemplates>>
  load(mlir::MLIRContext &context, llvm::ArrayRef<TemplateSource> sources);

  /// Clones template `name` into `target` specialized as described in
  /// LaunchBuilder::dispatch; returns the name of the kernel function (an
  /// existing one when an identical specialization exists).
  llvm::Expected<std::string>
  specialize(llvm::StringRef name, llvm::ArrayRef<SpecValue> spec,
             llvm::ArrayRef<uint64_t> bindingBytes,
             std::array<uint32_t, 3> workgroup, mlir::gpu::GPUModuleOp target);

  /// Takes a kernel function built elsewhere (a generator's, not inserted
  /// anywhere): folds and CSEs it, and adds it to `target` as `name`_N
  /// unless an identical kernel is there; returns the kernel's name.
  llvm::Expected<std::string> insert(llvm::StringRef name,
                                     mlir::gpu::GPUFuncOp func,
                                     mlir::gpu::GPUModuleOp target);

  /// Template names, sorted (for diagnostics and tests).
  std::vector<std::string> names() const;

private:
  mlir::OwningOpRef<mlir::ModuleOp> module;
  llvm::StringMap<mlir::gpu::GPUFuncOp> functions;
  std::unique_ptr<mlir::FrozenRewritePatternSet> canonicalization;
  /// Printed specialization (under a fixed name) -> its kernel's name.
  llvm::StringMap<std::string> specializations;
  llvm::StringMap<unsigned> instances;
};

} // namespace fmc::gpu

#endif // FMC_LOWERING_GPU_KERNELTEMPLATES_H
