//===- Llama2c.h - llama2.c legacy checkpoints ----------------------------===//
//
// A legacy llama2.c checkpoint is seven int32 (dim, hidden_dim, n_layers,
// n_heads, n_kv_heads, vocab_size, seq_len; a negative vocab_size means an
// untied classifier) followed by fp32 arrays in a fixed order. The reader
// derives every tensor's place from the header and checks that the file has
// exactly the size the header implies.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_IMPORT_READERS_LLAMA2C_H
#define FMC_IMPORT_READERS_LLAMA2C_H

#include "import/ModelSource.h"

namespace fmc::import {

/// Bytes of the llama2.c header.
constexpr uint64_t kLlama2cHeaderBytes = 7 * 4;

/// Builds the ModelSource of the checkpoint `file` from its first bytes
/// `header` (at least kLlama2cHeaderBytes when the file has them) and the
/// size of the whole file. Sets no tokenizer.
llvm::Expected<ModelSource> parseLlama2c(llvm::StringRef file,
                                         llvm::StringRef header,
                                         uint64_t fileSize);

} // namespace fmc::import

#endif // FMC_IMPORT_READERS_LLAMA2C_H
