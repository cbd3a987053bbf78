//===- FmFilePaths.cpp - file paths of fm IR relative to its file ---------===//

#include "dialects/fm/IR/FmFilePaths.h"

#include "dialects/fm/IR/FmOps.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

using namespace mlir;
using namespace mlir::fm;
namespace path = llvm::sys::path;

namespace {

/// `dir` as an absolute path without `.` or `..`: through the file system
/// when it exists, else lexically from the current directory.
llvm::SmallString<256> absoluteDirectory(llvm::StringRef dir) {
  llvm::SmallString<256> result;
  if (!llvm::sys::fs::real_path(dir.empty() ? "." : dir, result))
    return result;
  result = dir;
  llvm::sys::fs::make_absolute(result);
  path::remove_dots(result, /*remove_dot_dot=*/true);
  return result;
}

/// `target` relative to `base`, both absolute and without `.` or `..`;
/// `target` itself when they have different roots.
std::string relativeTo(llvm::StringRef target, llvm::StringRef base) {
  if (path::root_path(target) != path::root_path(base))
    return target.str();
  auto t = path::begin(path::relative_path(target)),
       tEnd = path::end(path::relative_path(target));
  auto b = path::begin(path::relative_path(base)),
       bEnd = path::end(path::relative_path(base));
  while (t != tEnd && b != bEnd && *t == *b) {
    ++t;
    ++b;
  }
  llvm::SmallString<256> result;
  for (; b != bEnd; ++b)
    path::append(result, "..");
  for (; t != tEnd; ++t)
    path::append(result, *t);
  return result.empty() ? "." : std::string(result);
}

/// rebasePath with both directories resolved once.
class Rebaser {
public:
  Rebaser(llvm::StringRef from, llvm::StringRef to)
      : from(absoluteDirectory(from)), to(absoluteDirectory(to)) {}

  bool isIdentity() const { return from == to; }

  std::string operator()(llvm::StringRef file) {
    if (isIdentity() || path::is_absolute(file))
      return file.str();
    auto [it, inserted] = cache.try_emplace(file);
    if (inserted) {
      llvm::SmallString<256> target(from);
      path::append(target, file);
      path::remove_dots(target, /*remove_dot_dot=*/true);
      it->second = relativeTo(target, to);
    }
    return it->second;
  }

private:
  llvm::SmallString<256> from, to;
  llvm::StringMap<std::string> cache;
};

} // namespace

std::string mlir::fm::irFileDirectory(llvm::StringRef irFile) {
  if (irFile == "-")
    return "";
  return path::parent_path(irFile).str();
}

std::string mlir::fm::rebasePath(llvm::StringRef file, llvm::StringRef from,
                                 llvm::StringRef to) {
  if (path::is_absolute(file))
    return file.str();
  return Rebaser(from, to)(file);
}

void mlir::fm::rebaseFilePaths(ModuleOp module, llvm::StringRef from,
                               llvm::StringRef to) {
  Rebaser rebase(from, to);
  if (rebase.isIdentity())
    return;
  MLIRContext *context = module.getContext();
  auto rebased = [&](ExternalAttr source) {
    std::string file = rebase(source.getFile());
    return file == source.getFile()
               ? source
               : ExternalAttr::get(context, file, source.getOffset(),
                                   source.getDtype(), source.getRowStride());
  };
  for (ParamOp param : module.getOps<ParamOp>()) {
    if (ExternalAttr source = param.getSourceAttr())
      param.setSourceAttr(rebased(source));
    if (LoraDeltaAttr delta = param.getDeltaAttr())
      param.setDeltaAttr(LoraDeltaAttr::get(context, rebased(delta.getA()),
                                            rebased(delta.getB()),
                                            delta.getRank(), delta.getScale()));
  }
  for (TokenizerOp tokenizer : module.getOps<TokenizerOp>()) {
    std::string file = rebase(tokenizer.getFile());
    if (file != tokenizer.getFile())
      tokenizer.setFile(file);
  }
}
