//===- LoadTokenizer.h - a runtime tokenizer from any model file ----------===//
//
// The runtime's tokenizer (runtime/Tokenizer.h) built from what a user has:
// a GGUF file (a vocabulary-only one is enough), a Hugging Face directory's
// tokenizer.json, a compiled .fmc artifact, or a llama2.c tok*.bin. Shared
// by fmc-tokenize and fmc-grammar-bench, which must see exactly the
// vocabulary fmc-run would. Links the import readers (LLVM).
//
//===----------------------------------------------------------------------===//

#ifndef FMC_TOOLS_COMMON_LOADTOKENIZER_H
#define FMC_TOOLS_COMMON_LOADTOKENIZER_H

#include "runtime/Artifact.h"
#include "runtime/Tokenizer.h"

#include "flatbuffers/flatbuffers.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <memory>

namespace fmc::tools {

/// The tokenizer of a model file, kept alive with the buffer it reads from.
struct LoadedTokenizer {
  std::unique_ptr<fmc::Artifact> artifact;
  flatbuffers::FlatBufferBuilder table;
  std::unique_ptr<fmc::Tokenizer> tokenizer;
  const fmc::schema::Tokenizer *schema = nullptr;
};

/// Loads the tokenizer of `path`; `tokenizerPath` is the tok*.bin of a
/// llama2.c checkpoint (empty otherwise).
llvm::Error loadTokenizer(llvm::StringRef path, llvm::StringRef tokenizerPath,
                          LoadedTokenizer &loaded);

} // namespace fmc::tools

#endif // FMC_TOOLS_COMMON_LOADTOKENIZER_H
