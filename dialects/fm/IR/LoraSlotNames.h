//===- LoraSlotNames.h - how LoRA slots and modules are named -------------===//
//
// One convention, shared by fm-add-lora-slots (which declares the slots),
// the artifact writer (which pairs them back with their weight), track
// batching (which keeps slotted weights tensors of their own) and the
// adapter writer (which maps PEFT module names onto weights): a linear's
// module is its weight's name without ".weight", as PEFT names it, and the
// weight `w`'s slots are `w.lora_a` and `w.lora_b`. Plain strings, no MLIR.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_DIALECTS_FM_IR_LORASLOTNAMES_H
#define FMC_DIALECTS_FM_IR_LORASLOTNAMES_H

#include "llvm/ADT/StringRef.h"

#include <string>

namespace mlir::fm {

/// The slot A (or, with `b`, B) of weight `weight`.
inline std::string loraSlotName(llvm::StringRef weight, bool b) {
  return (weight + (b ? ".lora_b" : ".lora_a")).str();
}

/// The module a linear weight belongs to: its name without ".weight".
inline llvm::StringRef loraModuleOf(llvm::StringRef weight) {
  weight.consume_back(".weight");
  return weight;
}

} // namespace mlir::fm

#endif // FMC_DIALECTS_FM_IR_LORASLOTNAMES_H
