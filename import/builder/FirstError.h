//===- FirstError.h - keep the first import error, ignore the rest --------===//
//
// Reading a config and emitting a model touch hundreds of fields and tensors.
// Rather than thread llvm::Expected through every one, the config reader and
// the graph emitter report problems here and carry on with harmless values
// (a missing tensor still gets a symbol name; a missing field reads as 1).
// Only the first problem is kept: the tool prints exactly one diagnostic, and
// the partially built module is thrown away.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_IMPORT_BUILDER_FIRSTERROR_H
#define FMC_IMPORT_BUILDER_FIRSTERROR_H

#include "llvm/ADT/Twine.h"
#include "llvm/Support/Error.h"

#include <optional>
#include <string>

namespace fmc::import {

class FirstError {
public:
  /// Records "<file>: <message>" unless an error is already recorded.
  void report(const llvm::Twine &file, const llvm::Twine &message) {
    if (!first)
      first = (file + ": " + message).str();
  }

  bool failed() const { return first.has_value(); }

  /// The recorded error (success when none), which is then cleared.
  llvm::Error take() {
    if (!first)
      return llvm::Error::success();
    llvm::Error error =
        llvm::createStringError(llvm::inconvertibleErrorCode(), *first);
    first.reset();
    return error;
  }

private:
  std::optional<std::string> first;
};

} // namespace fmc::import

#endif // FMC_IMPORT_BUILDER_FIRSTERROR_H
