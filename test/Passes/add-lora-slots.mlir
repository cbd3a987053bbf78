// fm-add-lora-slots: positive (every linear, PEFT-style targets, a shared
// weight's one slot, idempotence) and every diagnostic.
// RUN: fmc-opt %s --fm-add-lora-slots=rank=8 | FileCheck %s --check-prefix=ALL
// RUN: fmc-opt %s --fm-add-lora-slots="rank=8 targets=q_proj" | FileCheck %s --check-prefix=Q
// RUN: fmc-opt %s --fm-add-lora-slots=rank=8 --fm-add-lora-slots=rank=8 | FileCheck %s --check-prefix=ALL
// RUN: fmc-opt %s --fm-add-lora-slots=rank=8 --fm-expand-lora | FileCheck %s --check-prefix=EXPAND
// RUN: not fmc-opt %s --fm-add-lora-slots=rank=0 2>&1 | FileCheck %s --check-prefix=RANK
// RUN: not fmc-opt %s --fm-add-lora-slots="rank=4 targets=x_proj" 2>&1 | FileCheck %s --check-prefix=TARGET
// RUN: not fmc-opt %fmc_src/test/Models/stories260k.mlir --fm-add-lora-slots=rank=4 --fm-to-plan 2>&1 | FileCheck %s --check-prefix=UNEXPANDED
// RUN: fmc-opt %fmc_src/test/Models/stories260k.mlir --fm-add-lora-slots=rank=4 --fm-expand-lora --fm-to-plan -o /dev/null

// ALL: fm.param @model.layers.0.self_attn.q_proj.weight : tensor<32x32xf32>
// ALL-NEXT: fm.param @model.layers.0.self_attn.q_proj.weight.lora_a : tensor<8x32xf16> adapter_slot
// ALL-NEXT: fm.param @model.layers.0.self_attn.q_proj.weight.lora_b : tensor<32x8xf16> adapter_slot
// ALL: fm.param @model.layers.0.mlp.up_proj.weight : tensor<48x32xf32>
// ALL-NEXT: fm.param @model.layers.0.mlp.up_proj.weight.lora_a : tensor<8x32xf16> adapter_slot
// ALL-NEXT: fm.param @model.layers.0.mlp.up_proj.weight.lora_b : tensor<48x8xf16> adapter_slot
// ALL-NOT: adapter_slot
// ALL: fm.linear %{{.*}}, @model.layers.0.self_attn.q_proj.weight lora @model.layers.0.self_attn.q_proj.weight.lora_a, @model.layers.0.self_attn.q_proj.weight.lora_b
// ALL: fm.linear %{{.*}}, @model.layers.0.self_attn.q_proj.weight lora @model.layers.0.self_attn.q_proj.weight.lora_a, @model.layers.0.self_attn.q_proj.weight.lora_b
// ALL: fm.linear %{{.*}}, @model.layers.0.mlp.up_proj.weight lora @model.layers.0.mlp.up_proj.weight.lora_a, @model.layers.0.mlp.up_proj.weight.lora_b

// Q: q_proj.weight.lora_a
// Q-NOT: up_proj.weight.lora_a
// Q: fm.linear %{{.*}}, @model.layers.0.mlp.up_proj.weight :

// EXPAND: %[[BASE:.*]] = fm.linear %[[X:.*]], @model.layers.0.mlp.up_proj.weight : tensor<?x32xf32> -> tensor<?x48xf32>
// EXPAND-NEXT: %[[DOWN:.*]] = fm.linear %[[X]], @model.layers.0.mlp.up_proj.weight.lora_a : tensor<?x32xf32> -> tensor<?x8xf32>
// EXPAND-NEXT: %[[UP:.*]] = fm.linear %[[DOWN]], @model.layers.0.mlp.up_proj.weight.lora_b : tensor<?x8xf32> -> tensor<?x48xf32>
// EXPAND-NEXT: %[[SUM:.*]] = fm.add %[[BASE]], %[[UP]] : tensor<?x48xf32>
// EXPAND-NEXT: return %[[SUM]]
// EXPAND-NOT: lora @

// RANK: error: rank must be a positive LoRA rank, got 0
// TARGET: error: targets names 'x_proj', which is no linear layer's module (modules are weight names without '.weight', e.g. 'model.layers.0.self_attn.q_proj')
// UNEXPANDED: error: 'fm.linear' op has a LoRA pair; run fm-expand-lora before fm-to-plan

fm.param @model.layers.0.self_attn.q_proj.weight : tensor<32x32xf32> from <"m", offset = 0, dtype = f32>
fm.param @model.layers.0.mlp.up_proj.weight : tensor<48x32xf32> from <"m", offset = 0, dtype = f32>
func.func @f(%x: tensor<?x32xf32>) -> tensor<?x48xf32> {
  // One weight used twice gets one slot.
  %q = fm.linear %x, @model.layers.0.self_attn.q_proj.weight : tensor<?x32xf32> -> tensor<?x32xf32>
  %q2 = fm.linear %q, @model.layers.0.self_attn.q_proj.weight : tensor<?x32xf32> -> tensor<?x32xf32>
  %u = fm.linear %q2, @model.layers.0.mlp.up_proj.weight : tensor<?x32xf32> -> tensor<?x48xf32>
  return %u : tensor<?x48xf32>
}
