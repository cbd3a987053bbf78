//===- MatvecBindings.h - the bindings of a generated matvec's launch -----===//
//
// A generated matvec kernel (generator/MatvecKernel.h) names its bindings
// by index; the launch takes them as a list in the same order. The #plan.matvec
// family and the grouped expert GEMM build both together through this.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_LOWERING_GPU_FAMILIES_MATVECBINDINGS_H
#define FMC_LOWERING_GPU_FAMILIES_MATVECBINDINGS_H

#include "lowering/gpu/generator/KernelBuilder.h"
#include "lowering/gpu/generator/MatvecKernel.h"

#include <vector>

namespace fmc::gpu {

/// The bindings of one launch and their memref types, built together.
class MatvecBindings {
public:
  explicit MatvecBindings(MatvecKernelSpec &spec) : spec(spec) {}
  /// Appends `binding`, read as `element`s; returns its index.
  int add(Binding binding, mlir::Type element) {
    spec.bindings.push_back(bindingType(binding.bytes, element));
    list.push_back(std::move(binding));
    return static_cast<int>(list.size() - 1);
  }
  std::vector<Binding> take() { return std::move(list); }

private:
  MatvecKernelSpec &spec;
  std::vector<Binding> list;
};

} // namespace fmc::gpu

#endif // FMC_LOWERING_GPU_FAMILIES_MATVECBINDINGS_H
