//===- FmFilePaths.h - file paths of fm IR relative to its file -----------===//
//
// fm IR names the files a model is read from: parameter sources
// (`#fm.external`) and the tokenizer (`fm.tokenizer`). In an IR file a
// relative path is relative to the directory of that file; in memory it is
// relative to the current directory, as file APIs take it. Tools rebase the
// paths when they cross that boundary: after parsing a file (from its
// directory to the current one) and before writing one (from the current
// directory to the output's). stdin and stdout are the current directory.
// Absolute paths are never changed.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_DIALECTS_FM_IR_FMFILEPATHS_H
#define FMC_DIALECTS_FM_IR_FMFILEPATHS_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringRef.h"

#include <string>

namespace mlir::fm {

/// The directory IR read from or written to `irFile` resolves its relative
/// paths against: the file's directory, or "" (the current directory) for
/// "-" (stdin, stdout) and for a file name without a directory.
std::string irFileDirectory(llvm::StringRef irFile);

/// `path`, relative to directory `from`, made relative to directory `to`
/// ("" is the current directory). Absolute paths come back unchanged, and so
/// does every path when `from` and `to` are the same directory. Directories
/// are made absolute through the file system where they exist (symbolic
/// links resolved); `..` in `path` is then removed lexically.
std::string rebasePath(llvm::StringRef path, llvm::StringRef from,
                       llvm::StringRef to);

/// Rebases every relative path in `module` (fm.param sources, fm.tokenizer
/// files) from directory `from` to directory `to`, as rebasePath does.
void rebaseFilePaths(ModuleOp module, llvm::StringRef from,
                     llvm::StringRef to);

} // namespace mlir::fm

#endif // FMC_DIALECTS_FM_IR_FMFILEPATHS_H
