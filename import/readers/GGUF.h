//===- GGUF.h - GGUF models as Hugging Face tensors and config ------------===//

#ifndef FMC_IMPORT_READERS_GGUF_H
#define FMC_IMPORT_READERS_GGUF_H

#include "import/ModelSource.h"
#include "import/readers/GGUFFile.h"

namespace fmc::import {

/// The ModelSource of a parsed GGUF file (what readGGUF returns for it), for
/// the architectures GGUFArchitectures.h maps.
llvm::Expected<ModelSource> modelFromGGUF(const GGUFFile &gguf);

} // namespace fmc::import

#endif // FMC_IMPORT_READERS_GGUF_H
