// Diagnostics of LoRA pairs and adapter slots.
// RUN: fmc-opt %s --split-input-file --verify-diagnostics

// expected-error @+1 {{an adapter slot is a dense f16 matrix, got 'tensor<4x32xf32>'}}
fm.param @a : tensor<4x32xf32> adapter_slot

// -----

// expected-error @+1 {{an adapter slot is a dense f16 matrix, got 'tensor<4xf16>'}}
fm.param @a : tensor<4xf16> adapter_slot

// -----

// expected-error @+1 {{a parameter comes from a file, stacks other parameters or is an adapter slot, only one of them}}
fm.param @a : tensor<4x32xf16> from <"m", offset = 0, dtype = f16> adapter_slot


// -----

fm.param @w : tensor<16x32xf32> from <"m", offset = 0, dtype = f32>
fm.param @a : tensor<4x32xf16> adapter_slot
func.func @f(%x: tensor<?x32xf32>) -> tensor<?x16xf32> {
  // expected-error @+1 {{a lora update needs both A and B}}
  %y = "fm.linear"(%x) {weight = @w, lora_a = @a} : (tensor<?x32xf32>) -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}

// -----

fm.param @w : tensor<16x32xf32> from <"m", offset = 0, dtype = f32>
fm.param @a : tensor<4x24xf16> adapter_slot
fm.param @b : tensor<16x4xf16> adapter_slot
func.func @f(%x: tensor<?x32xf32>) -> tensor<?x16xf32> {
  // expected-error @+1 {{lora A @a has shape [4, 24], expected [?, 32]}}
  %y = fm.linear %x, @w lora @a, @b : tensor<?x32xf32> -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}

// -----

fm.param @w : tensor<16x32xf32> from <"m", offset = 0, dtype = f32>
fm.param @a : tensor<4x32xf16> adapter_slot
fm.param @b : tensor<16x8xf16> adapter_slot
func.func @f(%x: tensor<?x32xf32>) -> tensor<?x16xf32> {
  // expected-error @+1 {{lora B @b has shape [16, 8], expected [16, 4]}}
  %y = fm.linear %x, @w lora @a, @b : tensor<?x32xf32> -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}

// -----

fm.param @w : tensor<16x32xf32> from <"m", offset = 0, dtype = f32>
fm.param @a : tensor<4x32xf16> adapter_slot
func.func @f(%x: tensor<?x32xf32>) -> tensor<?x16xf32> {
  // expected-error @+1 {{lora B @nothing does not name an fm.param}}
  %y = fm.linear %x, @w lora @a, @nothing : tensor<?x32xf32> -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}

// -----

fm.param @w : tensor<16x32xf32> from <"m", offset = 0, dtype = f32>
fm.param @a : tensor<4x32xf32, #fm.quant<bits = 4, grid = affine, group_size = 32, scale_type = f16, layout = row_major>> from <"m", offset = 0, dtype = f32>
fm.param @b : tensor<16x4xf16> adapter_slot
func.func @f(%x: tensor<?x32xf32>) -> tensor<?x16xf32> {
  // expected-error @+1 {{lora @a must be dense, not quantized}}
  %y = fm.linear %x, @w lora @a, @b : tensor<?x32xf32> -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}

// -----

// expected-error @+1 {{a LoRA delta's rank must be positive, not 0}}
fm.param @w : tensor<16x32xf32> from <"m", offset = 0, dtype = f32> plus <a = <"a", offset = 0, dtype = f32>, b = <"a", offset = 0, dtype = f32>, rank = 0, scale = 1.0>

// -----

// expected-error @+1 {{a LoRA delta's A and B are f32, f16 or bf16, not i8}}
fm.param @w : tensor<16x32xf32> from <"m", offset = 0, dtype = f32> plus <a = <"a", offset = 0, dtype = i8>, b = <"a", offset = 0, dtype = f32>, rank = 4, scale = 1.0>

// -----

// expected-error @+1 {{a LoRA delta folds into a dense float matrix stored as f32, f16 or bf16}}
fm.param @w : tensor<16x32xf32> from <"m", offset = 0, dtype = q8_0> plus <a = <"a", offset = 0, dtype = f32>, b = <"a", offset = 0, dtype = f32>, rank = 4, scale = 1.0>

// -----

// expected-error @+1 {{a LoRA delta is added to a parameter from a file}}
fm.param @w : tensor<16x32xf16> plus <a = <"a", offset = 0, dtype = f32>, b = <"a", offset = 0, dtype = f32>, rank = 4, scale = 1.0> adapter_slot
