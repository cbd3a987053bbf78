//===- OptionNames.h - how pass diagnostics name pass options -------------===//
//
// A pass whose options are wrong for the model says which option: fmc-opt's
// users set pass options, so by default a diagnostic names the pass option
// (`window`); fmc-compile's users set flags that fmc-compile turns into pass
// options, so fmc-compile gives each pass it creates the names of its flags
// (`--window`), from one table (kFlagOfPassOption in fmc-compile.cpp), and
// an error names what its user typed.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_PASSES_OPTIONNAMES_H
#define FMC_PASSES_OPTIONNAMES_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringRef.h"

#include <string>

namespace mlir::fm {

/// One row of a driver's table: the flag that sets `option` of `pass`
/// (a pass argument such as "fm-interleave-attention").
struct OptionFlag {
  llvm::StringRef pass;
  llvm::StringRef option;
  llvm::StringRef flag;
};

/// The names one pass's diagnostics give its options.
class OptionNames {
public:
  /// Every option named as itself.
  OptionNames() = default;
  /// The flags `table` gives the options of `pass`; other options as
  /// themselves.
  OptionNames(llvm::ArrayRef<OptionFlag> table, llvm::StringRef pass) {
    for (const OptionFlag &row : table)
      if (row.pass == pass)
        names[row.option] = row.flag.str();
  }

  /// How a diagnostic names `option` (a pass option's argument).
  std::string operator()(llvm::StringRef option) const {
    auto it = names.find(option);
    return it == names.end() ? option.str() : it->second;
  }

private:
  llvm::StringMap<std::string> names;
};

} // namespace mlir::fm

#endif // FMC_PASSES_OPTIONNAMES_H
