//===- LaunchBuilder.h - what a kernel family's GPU lowering sees ---------===//
//
// Each plan kernel family has one lowering function (families/*.cpp) that
// turns a kernel instance into dispatches: it picks a template from
// kernels/*.mlir, the values of the template's scalar (specialization)
// arguments, the workgroup size and grid, and the bindings for its memref
// arguments. The builder specializes and deduplicates the kernel functions
// and records the dispatches in program order.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_LOWERING_GPU_LAUNCHBUILDER_H
#define FMC_LOWERING_GPU_LAUNCHBUILDER_H

#include "dialects/fm/IR/FmOps.h"
#include "dialects/plan/IR/PlanOps.h"
#include "lowering/gpu/GpuProgram.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/Value.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <array>
#include <cstdint>
#include <variant>
#include <vector>

namespace fmc::gpu {

class KernelTemplates;

/// The value a template's scalar argument is specialized to: integers for
/// index and iN arguments, doubles for f32.
using SpecValue = std::variant<int64_t, double>;

class LaunchBuilder {
public:
  /// Records the launches of plan.program `program` as a plan.launch_list
  /// of the same name in `output`'s kernels module.
  LaunchBuilder(mlir::ModuleOp planModule, mlir::Operation *program,
                KernelTemplates &templates, GpuProgram &output);

  /// The arena binding of a plan buffer: its max_tokens rows.
  Binding buffer(mlir::Value rows) const;
  /// All bytes of parameter `symbol`, and the parameter (dtype, shape,
  /// quantization).
  Binding weight(mlir::FlatSymbolRefAttr symbol) const;
  mlir::fm::ParamOp param(mlir::FlatSymbolRefAttr symbol) const;
  /// All bytes of KV cache `symbol` (KVCache.bytes in the artifact), and the
  /// cache. The layout inside is the attention kernels' own.
  Binding cache(mlir::FlatSymbolRefAttr symbol) const;
  mlir::fm::KVCacheOp cacheOp(mlir::FlatSymbolRefAttr symbol) const;
  /// `bytes` of scratch (256-byte aligned) for the dispatches of the plan
  /// kernel being lowered: fresh within the kernel, reused by the next one
  /// (a kernel's intermediates are dead once its dispatches ran), so a
  /// program's scratch is its largest kernel's.
  Binding scratch(uint64_t bytes);
  /// The run record: four i32, [rows, 1, 0, 0].
  Binding run() const;
  /// The index in the run record of the row count of the kernel being
  /// lowered: 0, or 1 once a plan.last_row kernel ran.
  int64_t rowsSlot() const { return afterLastRow ? 1 : 0; }
  /// The most rows a run of this program has (grids cover this many).
  int64_t maxTokens() const { return maxRows; }
  /// Marks the rest of the program as running on one row (plan.last_row).
  void startLastRowPhase() { afterLastRow = true; }

  /// Appends a dispatch of template `name`: its scalar arguments become
  /// `spec` (in argument order), its memref arguments `bindings` (in
  /// argument order, each retyped to a static memref of its bytes), run by
  /// `workgroup`-sized workgroups over `grid` workgroups.
  llvm::Error dispatch(llvm::StringRef name, llvm::ArrayRef<SpecValue> spec,
                       std::array<uint32_t, 3> workgroup,
                       std::array<uint32_t, 3> grid,
                       std::vector<Binding> bindings);

  /// Appends a dispatch of a generated kernel: `build` emits it (named as
  /// it likes) at the end of the kernels module; an identical kernel
  /// emitted before is reused, as for templates. Its memref arguments are
  /// `bindings`, in order.
  using KernelGenerator =
      llvm::function_ref<mlir::gpu::GPUFuncOp(mlir::ImplicitLocOpBuilder &)>;
  llvm::Error dispatchGenerated(llvm::StringRef name, KernelGenerator build,
                                std::array<uint32_t, 3> workgroup,
                                std::array<uint32_t, 3> grid,
                                std::vector<Binding> bindings);

  /// Appends an all-reduce across the ranks (plan.collective_launch): no
  /// kernel, `inputs` summed into `outputs` by the run's collective engine.
  void collective(std::vector<Binding> inputs, std::vector<Binding> outputs);

  /// The plan kernel being lowered (set by the driver); its scratch starts
  /// anew.
  void setKernel(uint32_t index) {
    kernelIndex = index;
    kernelScratch = 0;
  }

private:
  /// Records a dispatch of kernel function `function`.
  void record(const std::string &function, std::array<uint32_t, 3> workgroup,
              std::array<uint32_t, 3> grid, std::vector<Binding> bindings);
  llvm::Error checkGrid(llvm::StringRef name,
                        std::array<uint32_t, 3> grid) const;

  mlir::ModuleOp planModule;
  KernelTemplates &templates;
  GpuProgram &output;
  mlir::plan::LaunchListOp launchList;
  int64_t maxRows = 1;
  uint32_t kernelIndex = 0;
  uint64_t kernelScratch = 0;
  bool afterLastRow = false;
};

/// Lowers one plan kernel with the kernel library (families/Families.cpp
/// dispatches on its op).
llvm::Error lowerKernel(mlir::Operation *kernel, LaunchBuilder &builder);
/// Lowers one plan.dispatch as its configuration says: generated matvec or
/// row kernels, or the library kernels of its one kernel.
llvm::Error lowerDispatch(mlir::plan::DispatchOp dispatch,
                          LaunchBuilder &builder);

} // namespace fmc::gpu

#endif // FMC_LOWERING_GPU_LAUNCHBUILDER_H
