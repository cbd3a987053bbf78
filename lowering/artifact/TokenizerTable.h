//===- TokenizerTable.h - a Vocabulary as the artifact's Tokenizer table --===//
//
// The one place a compiler-side Vocabulary (import/Vocabulary.h) becomes the
// runtime's schema::Tokenizer: the artifact writer stores it in the .fmc, and
// fmc-tokenize builds one in memory to tokenize with a model file directly.
// No MLIR here.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_LOWERING_ARTIFACT_TOKENIZERTABLE_H
#define FMC_LOWERING_ARTIFACT_TOKENIZERTABLE_H

#include "import/Vocabulary.h"
#include "runtime/schema/fmc_generated.h"

namespace fmc::artifact {

/// Builds `vocab` into `fbb`. `plainSpace`: token text spells a space as " "
/// (llama2.c) rather than U+2581.
flatbuffers::Offset<schema::Tokenizer>
buildTokenizerTable(flatbuffers::FlatBufferBuilder &fbb,
                    const fmc::import::Vocabulary &vocab, bool plainSpace);

} // namespace fmc::artifact

#endif // FMC_LOWERING_ARTIFACT_TOKENIZERTABLE_H
