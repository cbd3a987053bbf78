//===- Architectures.h - one ModelSpec writer per model_type --------------===//
//
// Each architecture family lives in its own file under archs/ and states its
// config's facts as a ModelSpec; GraphEmitter does the rest.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_IMPORT_BUILDER_ARCHS_ARCHITECTURES_H
#define FMC_IMPORT_BUILDER_ARCHS_ARCHITECTURES_H

#include "import/builder/archs/Common.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

namespace fmc::import {

// Llama.cpp
void describeLlama(ArchContext &, ModelSpec &);
void describeMistral(ArchContext &, ModelSpec &);
void describeQwen2(ArchContext &, ModelSpec &);
// Gemma.cpp
void describeGemma2(ArchContext &, ModelSpec &);
void describeGemma3(ArchContext &, ModelSpec &);
// Cohere2.cpp
void describeCohere2(ArchContext &, ModelSpec &);
// MixtureOfExperts.cpp
void describeMixtral(ArchContext &, ModelSpec &);
void describeQwen2Moe(ArchContext &, ModelSpec &);
void describeOlmoe(ArchContext &, ModelSpec &);
// Llama4.cpp
void describeLlama4(ArchContext &, ModelSpec &);
// AfmOnDevice.cpp
void describeAfmOnDevice(ArchContext &, ModelSpec &);
// AfmServer.cpp
void describeAfmServer(ArchContext &, ModelSpec &);

struct Architecture {
  llvm::StringRef modelType;
  DescribeArchitecture describe;
};

/// Every supported model_type, in the order --help lists them.
llvm::ArrayRef<Architecture> architectures();

} // namespace fmc::import

#endif // FMC_IMPORT_BUILDER_ARCHS_ARCHITECTURES_H
