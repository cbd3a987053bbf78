//===- MslTranslation.h - SPIR-V kernels to one MSL source ----------------===//
//
// The Metal target: the SPIR-V module of the GPU kernels (lowering/spirv)
// becomes one Metal Shading Language source through SPIRV-Cross, as IREE's
// Metal target does. Each entry point becomes a `kernel` function of the same
// name whose storage buffer at descriptor set 0, binding i is its
// `[[buffer(i)]]` argument (the dispatch's binding i, see EntryPoint in
// runtime/schema/fmc.fbs); subgroup operations become simdgroup functions
// (simd_sum, simd_shuffle, ...); Workgroup variables become `threadgroup`
// variables of the kernel. The kernel carries its workgroup size as
// [[max_total_threads_per_threadgroup(N)]]; the runtime dispatches exactly
// the EntryPoint's workgroup size.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_LOWERING_METAL_MSLTRANSLATION_H
#define FMC_LOWERING_METAL_MSLTRANSLATION_H

#include "lowering/gpu/GpuProgram.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace fmc::metal {

enum class MslPlatform { MacOS, IOS };

struct MslOptions {
  /// The MSL language version written (3.0: macOS 13 / iOS 16, Apple7+).
  unsigned major = 3, minor = 0;
  /// iOS needs simdgroup functions enabled explicitly; macOS has them.
  MslPlatform platform = MslPlatform::MacOS;
};

/// Translates `spirvWords` (a SPIR-V module with a GLCompute entry point for
/// each of `entryPoints`) into one MSL source. Fails, with SPIRV-Tools' or
/// SPIRV-Cross's message, on invalid SPIR-V, on an entry point the module
/// lacks, whose LocalSize differs from its workgroup size, that uses a
/// resource other than storage buffers at set 0, bindings below its
/// `bindings`, or that MSL cannot express.
llvm::Expected<std::string>
translateSpirvToMsl(llvm::ArrayRef<uint32_t> spirvWords,
                    llvm::ArrayRef<fmc::gpu::EntryPoint> entryPoints,
                    const MslOptions &options = {});

/// The module's GLCompute entry points as EntryPoints: LocalSize as the
/// workgroup size, bindings one past the highest storage-buffer binding the
/// entry point uses. For tools that translate a SPIR-V file alone.
llvm::Expected<std::vector<fmc::gpu::EntryPoint>>
readSpirvEntryPoints(llvm::ArrayRef<uint32_t> spirvWords);

} // namespace fmc::metal

#endif // FMC_LOWERING_METAL_MSLTRANSLATION_H
