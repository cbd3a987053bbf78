//===- CompiledModelCache.h - fmc-run MODEL: compile once, then reuse -----===//
//
// `fmc-run model.gguf` runs a model the way `llama-cli -m model.gguf` does,
// with no compile step to remember: fmc-run compiles the model into a cache
// directory the first time and loads the cached artifact afterwards. The
// entry's key covers everything that shapes the artifact (the model files'
// bytes, fmc's build, the fmc-compile arguments), so a changed model, option
// or fmc never reuses a stale artifact.
//
// fmc-run links no compiler (it must run where LLVM is not installed), so
// the compiler is the fmc-compile executable, run as a child process.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_TOOLS_FMC_RUN_COMPILEDMODELCACHE_H
#define FMC_TOOLS_FMC_RUN_COMPILEDMODELCACHE_H

#include "absl/status/statusor.h"

#include <string>
#include <vector>

namespace fmc::run {

/// Whether fmc-run loads `path` as an artifact rather than compiling it: a
/// name ending in .fmc (a damaged artifact is reported as one, not
/// compiled), or a file that starts like an artifact (its FlatBuffers
/// identifier).
bool isArtifactPath(const std::string &path);

struct CompileRequest {
  /// The model as given: a file (.gguf, llama2.c, .mlir) or a Hugging Face
  /// directory.
  std::string model;
  /// Empty: $XDG_CACHE_HOME/fmc, else $HOME/.cache/fmc.
  std::string cacheDir;
  /// Passed to fmc-compile after fmc-run's own --target.
  std::vector<std::string> compileArgs;
  /// fmc-run --backend: "auto" compiles for the best backend this machine
  /// runs (a GPU backend with a device, else cpu), a name for that backend.
  std::string backend = "auto";
  /// Compile even when the cache has the entry (and replace it).
  bool recompile = false;
  /// fmc-run's argv[0]: where to look for fmc-compile when
  /// /proc/self/exe cannot say where fmc-run lies.
  std::string argv0;
};

struct CompiledModel {
  /// The cached artifact.
  std::string path;
  /// Compiled by this call (a miss), not found in the cache.
  bool compiledNow = false;
};

/// The artifact of `request.model`: the cache's entry, or compiled into the
/// cache now. Prints one line on stderr saying which. A failed compile
/// leaves nothing in the cache; fmc-compile's own messages come first.
absl::StatusOr<CompiledModel> compiledModel(const CompileRequest &request);

} // namespace fmc::run

#endif // FMC_TOOLS_FMC_RUN_COMPILEDMODELCACHE_H
