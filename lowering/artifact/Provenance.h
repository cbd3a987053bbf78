//===- Provenance.h - how an artifact was made ----------------------------===//
//
// What fmc-compile records in an artifact beside the model (schema fields
// compile_command, compile_options, source_files) so that fmc-inspect can
// say which command, options and source files produced it. The source
// files carry their SHA-256, the digest llama.cpp and MLC users compare
// model files by (computed by OpenSSL's libcrypto).
//
//===----------------------------------------------------------------------===//

#ifndef FMC_LOWERING_ARTIFACT_PROVENANCE_H
#define FMC_LOWERING_ARTIFACT_PROVENANCE_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace fmc::artifact {

struct SourceFile {
  std::string path; ///< As the compiler was given it.
  uint64_t bytes = 0;
  std::string sha256; ///< Lower-case hex.
};

struct Provenance {
  /// fmc-compile's argv, the program first.
  std::vector<std::string> command;
  /// Every option in effect (given or default): name without dashes, value.
  std::vector<std::pair<std::string, std::string>> options;
  std::vector<SourceFile> sourceFiles;
};

/// The files `module`'s parameters and tokenizer are read from, each once,
/// in the order the module first names them.
std::vector<std::string> referencedFiles(mlir::ModuleOp module);

/// `path`'s size and SHA-256. Errors name the file.
llvm::Expected<SourceFile> describeSourceFile(llvm::StringRef path);

} // namespace fmc::artifact

#endif // FMC_LOWERING_ARTIFACT_PROVENANCE_H
