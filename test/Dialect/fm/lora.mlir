// fm.linear's LoRA pair and fm.param's adapter slots: they parse, print
// back and verify; every diagnostic they can raise.
// RUN: fmc-opt %s --split-input-file | FileCheck %s
// RUN: fmc-opt %s --split-input-file | fmc-opt --split-input-file | FileCheck %s

// CHECK: fm.param @w.lora_a : tensor<4x32xf16> adapter_slot
// CHECK: fm.param @w.lora_b : tensor<16x4xf16> adapter_slot
// CHECK: fm.linear %{{.*}}, @w lora @w.lora_a, @w.lora_b : tensor<?x32xf32> -> tensor<?x16xf32>
fm.param @w : tensor<16x32xf32> from <"m", offset = 0, dtype = f32>
fm.param @w.lora_a : tensor<4x32xf16> adapter_slot
fm.param @w.lora_b : tensor<16x4xf16> adapter_slot
func.func @f(%x: tensor<?x32xf32>) -> tensor<?x16xf32> {
  %y = fm.linear %x, @w lora @w.lora_a, @w.lora_b : tensor<?x32xf32> -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}

// -----

// A pair from files (an adapter baked into the IR) is a LoRA pair too.
// CHECK: fm.linear %{{.*}}, @w bias @b lora @a, @bb
fm.param @w : tensor<16x32xf32> from <"m", offset = 0, dtype = f32>
fm.param @b : tensor<16xf32> from <"m", offset = 0, dtype = f32>
fm.param @a : tensor<8x32xf32> from <"m", offset = 0, dtype = f32>
fm.param @bb : tensor<16x8xf16> from <"m", offset = 0, dtype = f16>
func.func @f(%x: tensor<?x32xf32>) -> tensor<?x16xf32> {
  %y = fm.linear %x, @w bias @b lora @a, @bb : tensor<?x32xf32> -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}

// -----

// A LoRA delta merged into a weight when it is written (--merge).
// CHECK: fm.param @w : tensor<16x32xf32> from <"m", offset = 0, dtype = f32> plus <a = <"adapter.safetensors", offset = 8, dtype = f32>, b = <"adapter.safetensors", offset = 1032, dtype = f16>, rank = 8, scale = 2.000000e+00>
fm.param @w : tensor<16x32xf32> from <"m", offset = 0, dtype = f32> plus <a = <"adapter.safetensors", offset = 8, dtype = f32>, b = <"adapter.safetensors", offset = 1032, dtype = f16>, rank = 8, scale = 2.0>
