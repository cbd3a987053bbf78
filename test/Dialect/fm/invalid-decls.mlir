// Diagnostics of fm.param, fm.kv_cache, fm.tokenizer and the fm attributes.
// RUN: fmc-opt %s --split-input-file --verify-diagnostics

// expected-error @+1 {{external parameter has an empty file name}}
fm.param @p : tensor<4xf32> from <"", offset = 0, dtype = f32>

// -----

// expected-error @+1 {{quantized codes must have 2, 3, 4 or 8 bits, not 5}}
fm.param @p : tensor<4x4xf32, #fm.quant<bits = 5, grid = balanced, group_size = 64, scale_type = f16, layout = row_major>> from <"m", offset = 0, dtype = packed>

// -----

// expected-error @+1 {{group_size must be positive, or 0 for one group per row, not -2}}
fm.param @p : tensor<4x4xf32, #fm.quant<bits = 2, grid = balanced, group_size = -2, scale_type = f16, layout = row_major>> from <"m", offset = 0, dtype = packed>

// -----

// expected-error @+1 {{scale_type must be f16, bf16 or f32, not 'i8'}}
fm.param @p : tensor<4x4xf32, #fm.quant<bits = 2, grid = affine, group_size = 32, scale_type = i8, layout = row_major>> from <"m", offset = 0, dtype = packed>

// -----

// expected-error @+1 {{parameter shape must be static, got 'tensor<?x4xf32>'}}
fm.param @p : tensor<?x4xf32> from <"m", offset = 0, dtype = f32>

// -----

// expected-error @+1 {{parameter dimensions must be positive, got 'tensor<0x4xf32>'}}
fm.param @p : tensor<0x4xf32> from <"m", offset = 0, dtype = f32>

// -----

// expected-error @+1 {{parameter element type must be a float type, got 'i32'}}
fm.param @p : tensor<4xi32> from <"m", offset = 0, dtype = f32>

// -----

// expected-error @+1 {{parameter encoding must be #fm.quant, got "dense"}}
fm.param @p : tensor<4xf32, "dense"> from <"m", offset = 0, dtype = f32>

// -----

// expected-error @+1 {{a quantized parameter is stored 'packed' or quantized from floats, not from 'q4_0'}}
fm.param @p : tensor<4x64xf32, #fm.quant<bits = 2, grid = balanced, group_size = 64, scale_type = f16, layout = row_major>> from <"m", offset = 0, dtype = q4_0>

// -----

// expected-error @+1 {{a parameter comes from a file, stacks other parameters or is an adapter slot, got none}}
fm.param @p : tensor<4x64xf32>

// -----

fm.param @a : tensor<4x64xf32> from <"m", offset = 0, dtype = f32>
// expected-error @+1 {{a parameter comes from a file, stacks other parameters or is an adapter slot, only one of them}}
fm.param @p : tensor<4x64xf32> from <"m", offset = 0, dtype = f32> stacks [@a]

// -----

// expected-error @+1 {{a stack needs at least one part}}
fm.param @p : tensor<4x64xf32> stacks []

// -----

// expected-error @+1 {{part @missing does not name an fm.param}}
fm.param @p : tensor<4x64xf32> stacks [@missing]

// -----

fm.param @a : tensor<2x64xf32> from <"m", offset = 0, dtype = f32>
fm.param @s : tensor<2x64xf32> stacks [@a]
// expected-error @+1 {{part @s must be a dense parameter stored in a file}}
fm.param @p : tensor<2x64xf32> stacks [@s]

// -----

fm.param @a : tensor<2x64xf32> from <"m", offset = 0, dtype = f32>
fm.param @b : tensor<2x32xf32> from <"m", offset = 0, dtype = f32>
// expected-error @+1 {{part @b has rows of 32 elements, the stack rows of 64}}
fm.param @p : tensor<4x64xf32> stacks [@a, @b]

// -----

fm.param @a : tensor<2x64xf32> from <"m", offset = 0, dtype = f32>
fm.param @b : tensor<2x64xf32> from <"m", offset = 0, dtype = f16>
// expected-error @+1 {{part @b is stored as 'f16' but earlier parts as 'f32'}}
fm.param @p : tensor<4x64xf32> stacks [@a, @b]

// -----

fm.param @a : tensor<2x64xf32> from <"m", offset = 0, dtype = f32>
// expected-error @+1 {{parts hold 256 elements, the stack 384}}
fm.param @p : tensor<2x3x64xf32> stacks [@a, @a]

// -----

// expected-error @+1 {{'packed' storage needs an #fm.quant encoding on the type}}
fm.param @p : tensor<4x64xf32> from <"m", offset = 0, dtype = packed>

// -----

// expected-error @+1 {{'q4_0' stores blocks of 32 along the last dimension, which is 48}}
fm.param @p : tensor<4x48xf32> from <"m", offset = 0, dtype = q4_0>

// -----

// K-quants, IQ4_XS and the ternary formats use super-blocks of 256.
// expected-error @+1 {{'q4_k' stores blocks of 256 along the last dimension, which is 128}}
fm.param @p : tensor<4x128xf32> from <"m", offset = 0, dtype = q4_k>

// -----

func.func @nested() {
  // expected-error @+1 {{'fm.param' op expects parent op 'builtin.module'}}
  fm.param @p : tensor<4xf32> from <"m", offset = 0, dtype = f32>
  return
}

// -----

// expected-error @+1 {{capacity must be positive, got 0}}
fm.kv_cache @c linear capacity = 0, kv_heads = 2, head_dim = 8 : f32

// -----

// expected-error @+1 {{kv_heads must be positive, got -1}}
fm.kv_cache @c linear capacity = 16, kv_heads = -1, head_dim = 8 : f32

// -----

// expected-error @+1 {{head_dim must be positive, got 0}}
fm.kv_cache @c ring capacity = 16, kv_heads = 2, head_dim = 0 : f32

// -----

// expected-error @+1 {{attribute 'element_type' failed to satisfy constraint}}
fm.kv_cache @c ring capacity = 16, kv_heads = 2, head_dim = 8 : i32

// -----

// expected-error @+1 {{tokenizer file name is empty}}
fm.tokenizer llama2c "" bos = 1, eos = 2

// -----

fm.tokenizer llama2c "a.bin" bos = 1, eos = 2
// expected-error @+1 {{a module holds at most one tokenizer}}
fm.tokenizer gguf "b.gguf" bos = 1, eos = 2

// -----

// expected-error @+1 {{a row_stride strides rows of f32, f16 or bf16, not q8_0}}
fm.param @p : tensor<4x64xf32> from <"m", offset = 0, dtype = q8_0, row_stride = 256>

// -----

// expected-error @+1 {{row_stride 128 is shorter than a row of 256 bytes}}
fm.param @p : tensor<4x64xf32> from <"m", offset = 0, dtype = f32, row_stride = 128>
