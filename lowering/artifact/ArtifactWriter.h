//===- ArtifactWriter.h - plan module to .fmc artifact --------------------===//
//
// The last compiler phase: serializes a plan-level module (fm.param,
// fm.kv_cache, fm.tokenizer, plan.program @prefill and @decode) into the
// .fmc layout of runtime/schema/fmc.fbs, copying every referenced
// parameter's bytes from its source file into the weight segment.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_LOWERING_ARTIFACT_ARTIFACTWRITER_H
#define FMC_LOWERING_ARTIFACT_ARTIFACTWRITER_H

#include "lowering/artifact/Provenance.h"
#include "lowering/gpu/GpuProgram.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace fmc::artifact {

struct WriteOptions {
  /// Targets to record executables for; "cpu" needs none.
  std::vector<std::string> targets = {"cpu"};
  /// The GPU targets' code and dispatch lists (lowering/targets), written
  /// with their weight and cache bindings resolved to table indices.
  std::vector<fmc::gpu::ExecutableImage> executables;
  /// The model's name in the artifact; the output file's stem when empty.
  std::string modelName;
  /// The command, options and source files recorded for fmc-inspect (none
  /// when empty).
  Provenance provenance;
  /// Called while weights are copied, with bytes done and bytes in all.
  std::function<void(uint64_t done, uint64_t total)> progress;
  /// For a module partitioned over ranks (fm.track_partition): the id every
  /// part of one compilation records, so parts of different ones are never
  /// run together.
  uint64_t trackPartitionId = 0;
};

/// Writes `module` to `path` through a temporary file renamed on success, so
/// a failure never leaves a partial artifact. Returns the file's size.
llvm::Expected<uint64_t> writeArtifact(mlir::ModuleOp module,
                                       llvm::StringRef path,
                                       const WriteOptions &options);

/// The targets this build can compile for.
std::vector<std::string> availableTargets();

} // namespace fmc::artifact

#endif // FMC_LOWERING_ARTIFACT_ARTIFACTWRITER_H
