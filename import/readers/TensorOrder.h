//===- TensorOrder.h - one tensor order for every reader ------------------===//
//
// Readers list tensors in one canonical order, whatever order their file
// stores them in (llama2.c stacks layers, GGUF writers sort by name,
// safetensors by offset): the token embedding, then layer by layer (norm,
// q, k, v, o, norm, gate, down, up, then the layer's other tensors by name),
// then the final norm and lm_head, then anything else by name. So the same
// model read from two formats gives the same list, and the builder's output
// is deterministic.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_IMPORT_READERS_TENSORORDER_H
#define FMC_IMPORT_READERS_TENSORORDER_H

#include "import/ModelSource.h"

namespace fmc::import {

void sortTensorsCanonically(std::vector<TensorRef> &tensors);

} // namespace fmc::import

#endif // FMC_IMPORT_READERS_TENSORORDER_H
