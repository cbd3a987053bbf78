//===- TensorOrder.cpp - one tensor order for every reader ----------------===//

#include "import/readers/TensorOrder.h"

#include "llvm/ADT/STLExtras.h"

#include <tuple>

using namespace llvm;

namespace fmc::import {

namespace {
/// (group, layer, position in the layer, name): compared lexicographically.
using Rank = std::tuple<int, uint64_t, int, StringRef>;
} // namespace

static Rank rankOf(StringRef name) {
  static constexpr StringRef kLayerOrder[] = {
      "input_layernorm.weight",   "self_attn.q_proj.weight",
      "self_attn.k_proj.weight",  "self_attn.v_proj.weight",
      "self_attn.o_proj.weight",  "post_attention_layernorm.weight",
      "mlp.gate_proj.weight",     "mlp.down_proj.weight",
      "mlp.up_proj.weight"};
  if (name == "model.embed_tokens.weight")
    return {0, 0, 0, name};
  StringRef rest = name;
  uint64_t layer;
  if (rest.consume_front("model.layers.") && !rest.consumeInteger(10, layer) &&
      rest.consume_front(".")) {
    const StringRef *known = llvm::find(kLayerOrder, rest);
    return {1, layer, static_cast<int>(known - std::begin(kLayerOrder)), name};
  }
  if (name == "model.norm.weight")
    return {2, 0, 0, name};
  if (name == "lm_head.weight")
    return {3, 0, 0, name};
  return {4, 0, 0, name};
}

void sortTensorsCanonically(std::vector<TensorRef> &tensors) {
  llvm::stable_sort(tensors, [](const TensorRef &a, const TensorRef &b) {
    return rankOf(a.name) < rankOf(b.name);
  });
}

} // namespace fmc::import
