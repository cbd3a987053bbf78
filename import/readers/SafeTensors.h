//===- SafeTensors.h - the header of a .safetensors file ------------------===//
//
// A safetensors file is an 8-byte little-endian header length N, N bytes of
// JSON ({"name": {"dtype", "shape", "data_offsets": [begin, end]}, ...,
// "__metadata__": {...}}), then the tensor data; offsets are relative to the
// start of the data. Only the header is read.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_IMPORT_READERS_SAFETENSORS_H
#define FMC_IMPORT_READERS_SAFETENSORS_H

#include "import/ModelSource.h"

namespace fmc::import {

/// Parses the header of the safetensors file `file`. `prefix` holds the first
/// bytes of the file: at least its length field and JSON header when the file
/// has them (a fuzzer passes the whole file). `fileSize` is the size of the
/// whole file, which the header's offsets are checked against. Tensors come
/// back in file order, with absolute offsets.
llvm::Expected<std::vector<TensorRef>>
parseSafeTensors(llvm::StringRef file, llvm::StringRef prefix,
                 uint64_t fileSize);

/// Reads the header (and nothing else) of the safetensors file at `path`.
llvm::Expected<std::vector<TensorRef>> readSafeTensors(llvm::StringRef path);

} // namespace fmc::import

#endif // FMC_IMPORT_READERS_SAFETENSORS_H
