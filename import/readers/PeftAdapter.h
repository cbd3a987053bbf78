//===- PeftAdapter.h - a PEFT LoRA adapter directory ----------------------===//
//
// Hugging Face PEFT saves a LoRA adapter as adapter_config.json (r,
// lora_alpha, target_modules, rank_pattern, alpha_pattern, use_rslora, ...)
// and adapter_model.safetensors, whose tensors are named
// `base_model.model.<module>.lora_A.weight` ([r, in]) and `...lora_B.weight`
// ([out, r]) for each adapted linear `<module>` of the base. This reads the
// config and the tensors' headers (not their data) and checks what fmc
// applies: plain LoRA on linear layers (no DoRA, no trained biases, no
// embedding adapters, no fully trained modules).
//
//===----------------------------------------------------------------------===//

#ifndef FMC_IMPORT_READERS_PEFTADAPTER_H
#define FMC_IMPORT_READERS_PEFTADAPTER_H

#include "import/ModelSource.h"

#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace fmc::import {

/// One adapted linear: y += scale * (x A^T) B^T.
struct LoraModule {
  std::string module; ///< The base linear's name, e.g. model.layers.0.mlp.up_proj.
  int64_t rank = 0;   ///< r, or its rank_pattern entry.
  double alpha = 0;   ///< lora_alpha, or its alpha_pattern entry.
  double scale = 0;   ///< alpha / rank (alpha / sqrt(rank) with use_rslora).
  TensorRef a, b;
};

struct PeftAdapter {
  std::string directory;
  int64_t rank = 0; ///< The config's r.
  double alpha = 0; ///< Its lora_alpha.
  std::vector<LoraModule> modules; ///< In tensor-name order.
};

/// Reads the PEFT LoRA adapter in `directory`. Errors name the file and the
/// key or tensor.
llvm::Expected<PeftAdapter> readPeftAdapter(llvm::StringRef directory);

} // namespace fmc::import

#endif // FMC_IMPORT_READERS_PEFTADAPTER_H
