//===- LoraMerge.h - a LoRA delta folded into a weight --------------------===//
//
// fmc-compile --adapter DIR --merge: the artifact writer writes a parameter
// with a #fm.lora_delta as W + scale * B A, computed in f64 per element and
// rounded once to W's storage type (f32, f16 or bf16), so the merged model
// runs at the base's speed.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_LOWERING_ARTIFACT_LORAMERGE_H
#define FMC_LOWERING_ARTIFACT_LORAMERGE_H

#include "dialects/fm/IR/FmOps.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>

namespace fmc::artifact {

/// Bytes A (or B) of `param`'s delta occupies in its file.
uint64_t loraDeltaBytes(mlir::fm::ParamOp param, bool b);

/// W + scale * B A in W's storage type, from the bytes of W, A and B as
/// their ExternalAttrs store them (each exactly its size).
llvm::Expected<std::string> mergeLoraDelta(mlir::fm::ParamOp param,
                                           llvm::StringRef w,
                                           llvm::StringRef a,
                                           llvm::StringRef b);

} // namespace fmc::artifact

#endif // FMC_LOWERING_ARTIFACT_LORAMERGE_H
