//===- AdapterWriter.h - compile a PEFT LoRA adapter for a base -----------===//
//
// fmc-compile --adapter DIR --base BASE.fmc -o NAME.fmca: maps each adapted
// module of the PEFT adapter onto the base's LoRA slot of that linear
// (schema LoraSlot, from fmc-compile --lora-rank), checks shapes and ranks,
// and writes A and scale * B as F16, padded with zeros to the slot's rank,
// in the .fmca format (runtime/schema/adapter.fbs) the runtime applies.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_LOWERING_ARTIFACT_ADAPTERWRITER_H
#define FMC_LOWERING_ARTIFACT_ADAPTERWRITER_H

#include "import/readers/PeftAdapter.h"

#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>

namespace fmc::artifact {

struct AdapterSummary {
  size_t modules = 0;     ///< Adapted linears.
  size_t baseSlots = 0;   ///< LoRA slots of the base.
  int64_t slotRank = 0;   ///< The base's slot rank (the largest).
  uint64_t fileBytes = 0; ///< Size of the .fmca written.
};

/// Writes `adapter` for the base artifact at `basePath` to `outPath` (via a
/// temporary renamed into place: nothing is left on error). `name` is
/// recorded for messages (the adapter directory's name when empty).
llvm::Expected<AdapterSummary> writeAdapter(const import::PeftAdapter &adapter,
                                            llvm::StringRef basePath,
                                            llvm::StringRef outPath,
                                            llvm::StringRef name);

} // namespace fmc::artifact

#endif // FMC_LOWERING_ARTIFACT_ADAPTERWRITER_H
