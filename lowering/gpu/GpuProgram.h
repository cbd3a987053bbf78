//===- GpuProgram.h - a plan's programs as GPU dispatch lists -------------===//
//
// The target-neutral half of the GPU targets. Every kernel of the plan's
// @prefill and @decode programs becomes one or more dispatches of kernel
// functions specialized from the templates in kernels/*.mlir (shapes,
// quantization parameters and workgroup sizes become constants), all in one
// gpu.module. lowering/cuda turns that module into PTX, lowering/spirv into
// SPIR-V, lowering/metal the SPIR-V into MSL; the dispatch lists are the
// same for every target.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_LOWERING_GPU_GPUPROGRAM_H
#define FMC_LOWERING_GPU_GPUPROGRAM_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/Support/Error.h"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace fmc::gpu {

/// Mirrors schema::BindingMemory (runtime/schema/fmc.fbs) and
/// plan::BindingMemory, value for value.
enum class Memory : uint8_t { Arena, Weights, Caches, Scratch, Run };

/// A dispatch's buffer argument. Weights and caches are named by symbol
/// (the artifact writer turns names into table indices).
struct Binding {
  Memory memory = Memory::Arena;
  std::string symbol; ///< fm.param / fm.kv_cache name (Weights, Caches).
  uint64_t offset = 0;
  uint64_t bytes = 0;
};

struct EntryPoint {
  std::string name;
  std::array<uint32_t, 3> workgroupSize = {1, 1, 1};
  uint32_t bindings = 0;
};

struct Dispatch {
  uint32_t entry = 0;
  std::array<uint32_t, 3> grid = {1, 1, 1};
  std::vector<Binding> bindings;
  uint32_t kernel = 0; ///< Index of the plan kernel in its program.
  /// An all-reduce across the ranks (plan.collective_launch): no entry
  /// point; `bindings` are its inputs, then its outputs.
  bool collective = false;
};

struct DispatchList {
  std::vector<Dispatch> dispatches;
  uint64_t scratchBytes = 0;
};

/// What every GPU target is built from.
struct GpuProgram {
  /// A module holding one gpu.module @kernels with every kernel, and one
  /// plan.launch_list per program: the launches, as IR.
  mlir::OwningOpRef<mlir::ModuleOp> kernels;
  /// Read from the module (entryPointsOf, dispatchListOf) once it is built.
  std::vector<EntryPoint> entryPoints;
  DispatchList prefill, decode;
};

/// A binding as IR (#plan.binding) and back.
mlir::Attribute bindingAttr(mlir::MLIRContext *ctx, const Binding &binding);
Binding bindingOf(mlir::Attribute attr);

/// The kernels of `kernels`' gpu.module, in order: name, workgroup size
/// (known_block_size), binding count.
std::vector<EntryPoint> entryPointsOf(mlir::ModuleOp kernels);
/// Launch list `program` of `kernels` as a dispatch list whose entry
/// indices count in `entries`; an empty list when the module has none.
llvm::Expected<DispatchList> dispatchListOf(mlir::ModuleOp kernels,
                                            llvm::StringRef program,
                                            llvm::ArrayRef<EntryPoint> entries);

/// One target's code plus the dispatch lists, ready for the artifact.
struct ExecutableImage {
  std::string target; ///< "cuda", "vulkan", "metal".
  std::string format; ///< "ptx", "cubin", "spirv", "msl".
  std::string arch;   ///< The SM architecture of ptx and cubin ("sm_90").
  std::string data;
  /// Every kernel waits for its predecessor (griddepcontrol.wait): the
  /// runtime may launch with programmatic dependent launch.
  bool programmaticDependentLaunch = false;
  std::vector<EntryPoint> entryPoints;
  DispatchList prefill, decode;
};

/// Builds the dispatch lists and kernels for `planModule` (fm params and
/// caches plus plan.program @prefill and @decode), forming the programs'
/// dispatches first when they have none. Fails naming the kernel when a
/// family or a parameter format has no GPU kernel.
llvm::Expected<GpuProgram> buildGpuProgram(mlir::ModuleOp planModule);

} // namespace fmc::gpu

#endif // FMC_LOWERING_GPU_GPUPROGRAM_H
