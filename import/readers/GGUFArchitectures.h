//===- GGUFArchitectures.h - GGUF architectures as Hugging Face models ----===//
//
// What a GGUF file's general.architecture means, as llama.cpp reads it
// (src/llama-arch.cpp's tensor names, src/llama-model.cpp's hyperparameters,
// convert_hf_to_gguf.py's layouts), restated as the Hugging Face config and
// tensor names the fm builder knows. GGUF.cpp checks the container's tensors;
// this layer owns the architecture facts.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_IMPORT_READERS_GGUFARCHITECTURES_H
#define FMC_IMPORT_READERS_GGUFARCHITECTURES_H

#include "import/ModelSource.h"
#include "import/readers/GGUFFile.h"

namespace fmc::import {

/// Renames `source.tensors` (GGUF names, checked against the data) to
/// Hugging Face names, slicing stacked experts per expert, and fills
/// `source.config` from the metadata. Every `<arch>.*` key must be one that
/// fmc applies or knows to be irrelevant to the computation; any other is an
/// error naming it.
llvm::Error mapGGUFArchitecture(const GGUFFile &gguf, ModelSource &source);

/// The general.architecture values mapGGUFArchitecture reads, for messages
/// and --help.
llvm::StringRef ggufArchitecturesList();

} // namespace fmc::import

#endif // FMC_IMPORT_READERS_GGUFARCHITECTURES_H
