//===- TensorTable.h - the tensors a model uses, checked against it -------===//
//
// Looks tensors up by Hugging Face name, checks each against the shape the
// config implies, remembers which were used so that leftovers (a tensor for a
// layer the config does not have) are reported, and presents experts that a
// file stores stacked ([experts, rows, cols] in one tensor) as per-expert
// slices of it, so every MoE is imported in the same expert-by-expert form.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_IMPORT_BUILDER_TENSORTABLE_H
#define FMC_IMPORT_BUILDER_TENSORTABLE_H

#include "import/ModelSource.h"
#include "import/builder/FirstError.h"
#include "import/builder/ModelSpec.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"

#include <deque>
#include <string>

namespace fmc::import {

class TensorTable {
public:
  /// `configFile` is named in shape diagnostics as the source of the
  /// expected sizes.
  TensorTable(const ModelSource &source, llvm::StringRef configFile,
              FirstError &errors);

  /// True when the file holds `name` (a stacked expert slice counts).
  bool has(llvm::StringRef name) const;
  /// The stored shape of `name`, for architectures that infer a size from a
  /// tensor; null when absent. Does not mark the tensor used.
  const TensorRef *peek(llvm::StringRef name) const;

  /// The tensor `name`, after checking that its shape is `expected`. Reports
  /// a missing tensor or a mismatching shape and returns null.
  const TensorRef *use(llvm::StringRef name, llvm::ArrayRef<Dim> expected);

  /// Reports the first tensor of the file that no op used, except those
  /// named in `ignored` and rotary-embedding buffers.
  void reportUnused(llvm::StringRef modelType,
                    llvm::ArrayRef<std::string> ignored);

private:
  /// `name` as a slice of a stacked expert tensor, or null.
  const TensorRef *expertSlice(llvm::StringRef name);
  const TensorRef *lookup(llvm::StringRef name) const;

  const ModelSource &source;
  std::string configFile;
  FirstError &errors;
  llvm::StringMap<const TensorRef *> byName;
  llvm::StringSet<> used;
  /// Slices handed out, keyed by their per-expert name (stable addresses).
  std::deque<TensorRef> slices;
  llvm::StringMap<const TensorRef *> sliceByName;
};

/// "[64, 172]".
std::string shapeString(llvm::ArrayRef<int64_t> shape);

} // namespace fmc::import

#endif // FMC_IMPORT_BUILDER_TENSORTABLE_H
