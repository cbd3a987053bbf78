// Diagnostics of the embedding, norm, linear, rope, elementwise and logits ops.
// RUN: fmc-opt %s --split-input-file --verify-diagnostics

fm.param @emb : tensor<128x32xf32> from <"m", offset = 0, dtype = f32>
func.func @f(%t: tensor<?xi32>) -> tensor<?x32x1xf32> {
  // expected-error @+1 {{result must be [tokens, hidden], got 'tensor<?x32x1xf32>'}}
  %h = fm.embedding @emb[%t] : tensor<?xi32> -> tensor<?x32x1xf32>
  return %h : tensor<?x32x1xf32>
}

// -----

fm.param @emb : tensor<128x32xf32> from <"m", offset = 0, dtype = f32>
func.func @f(%t: tensor<?xi32>) -> tensor<?x32xf32> {
  // expected-error @+1 {{scale must be positive, got -1}}
  %h = fm.embedding @emb[%t] {scale = -1.0 : f64} : tensor<?xi32> -> tensor<?x32xf32>
  return %h : tensor<?x32xf32>
}

// -----

func.func @f(%t: tensor<?xi32>) -> tensor<?x32xf32> {
  // expected-error @+1 {{table @emb does not name an fm.param}}
  %h = fm.embedding @emb[%t] : tensor<?xi32> -> tensor<?x32xf32>
  return %h : tensor<?x32xf32>
}

// -----

fm.kv_cache @emb linear capacity = 16, kv_heads = 2, head_dim = 8 : f32
func.func @f(%t: tensor<?xi32>) -> tensor<?x32xf32> {
  // expected-error @+1 {{table @emb is not an fm.param}}
  %h = fm.embedding @emb[%t] : tensor<?xi32> -> tensor<?x32xf32>
  return %h : tensor<?x32xf32>
}

// -----

fm.param @emb : tensor<128x64xf32> from <"m", offset = 0, dtype = f32>
func.func @f(%t: tensor<?xi32>) -> tensor<?x32xf32> {
  // expected-error @+1 {{table @emb has shape [128, 64], expected [?, 32]}}
  %h = fm.embedding @emb[%t] : tensor<?xi32> -> tensor<?x32xf32>
  return %h : tensor<?x32xf32>
}

// -----

func.func @f(%x: tensor<?x32xf32>) -> tensor<?x32xf32> {
  // expected-error @+1 {{eps must not be negative, got -1e-05}}
  %y = fm.rms_norm %x eps = -1.0e-05 : tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}

// -----

func.func @f(%x: tensor<?x32xf32>) -> tensor<?x32xf32> {
  // expected-error @+1 {{group_size must be positive, got 0}}
  %y = fm.rms_norm %x eps = 1.0e-05 {group_size = 0 : i64} : tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}

// -----

func.func @f(%x: tensor<?x32xf32>) -> tensor<?x32xf32> {
  // expected-error @+1 {{input has 32 features, not a multiple of group_size 12}}
  %y = fm.rms_norm %x eps = 1.0e-05 {group_size = 12 : i64} : tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}

// -----

fm.param @w : tensor<32xf32> from <"m", offset = 0, dtype = f32>
func.func @f(%x: tensor<?x32xf32>) -> tensor<?x32xf32> {
  // A per-head norm needs a weight of head_dim elements.
  // expected-error @+1 {{weight @w has shape [32], expected [8]}}
  %y = fm.rms_norm %x, @w eps = 1.0e-05 {group_size = 8 : i64} : tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}

// -----

fm.param @w : tensor<4x8xf32> from <"m", offset = 0, dtype = f32>
func.func @f(%x: tensor<?x32xf32>) -> tensor<?x32xf32> {
  // expected-error @+1 {{weight @w has shape [4, 8], expected [32]}}
  %y = fm.rms_norm %x, @w eps = 1.0e-05 : tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}

// -----

fm.param @w : tensor<16xf32> from <"m", offset = 0, dtype = f32>
func.func @f(%x: tensor<?x32xf32>) -> tensor<?x32xf32> {
  // expected-error @+1 {{weight @w has shape [16], expected [32]}}
  %y = fm.layer_norm %x weight @w eps = 1.0e-05 : tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}

// -----

fm.param @b : tensor<31xf32> from <"m", offset = 0, dtype = f32>
func.func @f(%x: tensor<?x32xf32>) -> tensor<?x32xf32> {
  // expected-error @+1 {{bias @b has shape [31], expected [32]}}
  %y = fm.layer_norm %x bias @b eps = 1.0e-05 : tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}

// -----

fm.param @w : tensor<16x32xf32> from <"m", offset = 0, dtype = f32>
func.func @f(%x: tensor<4x32xf32>) -> tensor<5x16xf32> {
  // expected-error @+1 {{input 'tensor<4x32xf32>' and result 'tensor<5x16xf32>' must have the same rows}}
  %y = fm.linear %x, @w : tensor<4x32xf32> -> tensor<5x16xf32>
  return %y : tensor<5x16xf32>
}

// -----

fm.param @w : tensor<16x32xf32> from <"m", offset = 0, dtype = f32>
func.func @f(%x: tensor<?x32xf32>) -> tensor<?x16xf16> {
  // expected-error @+1 {{input and result element types differ: 'f32' vs 'f16'}}
  %y = fm.linear %x, @w : tensor<?x32xf32> -> tensor<?x16xf16>
  return %y : tensor<?x16xf16>
}

// -----

fm.param @w : tensor<32x16xf32> from <"m", offset = 0, dtype = f32>
func.func @f(%x: tensor<?x32xf32>) -> tensor<?x16xf32> {
  // Linear weights are [out, in], as Hugging Face stores them.
  // expected-error @+1 {{weight @w has shape [32, 16], expected [16, 32]}}
  %y = fm.linear %x, @w : tensor<?x32xf32> -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}

// -----

fm.param @w : tensor<16x32xf32> from <"m", offset = 0, dtype = f32>
fm.param @b : tensor<32xf32> from <"m", offset = 0, dtype = f32>
func.func @f(%x: tensor<?x32xf32>) -> tensor<?x16xf32> {
  // expected-error @+1 {{bias @b has shape [32], expected [16]}}
  %y = fm.linear %x, @w bias @b : tensor<?x32xf32> -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}

// -----

func.func @f(%x: tensor<?x32xf32>) -> tensor<?x16xf32> {
  // expected-error @+1 {{weight @missing does not name an fm.param}}
  %y = fm.linear %x, @missing : tensor<?x32xf32> -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}

// -----

func.func @f(%x: tensor<?x32xf32>, %p: tensor<?xi32>) -> tensor<?x32xf32> {
  // expected-error @+1 {{head_dim must be positive and even, got 7}}
  %y = fm.rope interleaved %x at %p head_dim = 7 theta = 1.0e+04 : tensor<?x32xf32>, tensor<?xi32>
  return %y : tensor<?x32xf32>
}

// -----

func.func @f(%x: tensor<?x36xf32>, %p: tensor<?xi32>) -> tensor<?x36xf32> {
  // expected-error @+1 {{input has 36 features, not a multiple of head_dim 8}}
  %y = fm.rope interleaved %x at %p head_dim = 8 theta = 1.0e+04 : tensor<?x36xf32>, tensor<?xi32>
  return %y : tensor<?x36xf32>
}

// -----

func.func @f(%x: tensor<?x32xf32>, %p: tensor<?xi32>) -> tensor<?x32xf32> {
  // expected-error @+1 {{theta must be positive, got 0}}
  %y = fm.rope rotate_half %x at %p head_dim = 8 theta = 0.0 : tensor<?x32xf32>, tensor<?xi32>
  return %y : tensor<?x32xf32>
}

// -----

// Issue 14: constants the kernels compute with in f32 must survive the
// conversion (1e-300 is 0 there, 1e308 infinite) and be numbers.
func.func @f(%x: tensor<?x32xf32>, %p: tensor<?xi32>) -> tensor<?x32xf32> {
  // expected-error @+1 {{theta 1e-300 is 0 as the f32 the kernels compute with}}
  %y = fm.rope rotate_half %x at %p head_dim = 8 theta = 1.0e-300 : tensor<?x32xf32>, tensor<?xi32>
  return %y : tensor<?x32xf32>
}

// -----

func.func @f(%x: tensor<?x32xf32>, %p: tensor<?xi32>) -> tensor<?x32xf32> {
  // expected-error @+1 {{theta must be a number, got nan}}
  %y = fm.rope rotate_half %x at %p head_dim = 8 theta = 0x7FF8000000000000 : tensor<?x32xf32>, tensor<?xi32>
  return %y : tensor<?x32xf32>
}

// -----

func.func @f(%x: tensor<?x32xf32>) -> tensor<?x32xf32> {
  // expected-error @+1 {{eps 1e+308 is infinite as the f32 the kernels compute with}}
  %y = fm.rms_norm %x eps = 1.0e+308 : tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}

// -----

func.func @f(%x: tensor<?x32xf32>) -> tensor<?x32xf32> {
  // expected-error @+1 {{eps must be a number, got nan}}
  %y = fm.layer_norm %x eps = 0x7FF8000000000000 : tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}

// -----

fm.param @emb : tensor<128x32xf32> from <"m", offset = 0, dtype = f32>
func.func @f(%t: tensor<?xi32>, %p: tensor<?xi32>) -> tensor<?x32xf32> {
  %x = fm.embedding @emb[%t] : tensor<?xi32> -> tensor<?x32xf32>
  // expected-error @+1 {{positions are the token ids of fm.embedding; attention and rope need the positions argument}}
  %y = fm.rope rotate_half %x at %t head_dim = 8 theta = 1.0e+04 : tensor<?x32xf32>, tensor<?xi32>
  return %y : tensor<?x32xf32>
}

// -----

func.func @f(%x: tensor<?x32xf32>, %p: tensor<?xi32>) -> tensor<?x32xf32> {
  // expected-error @+1 {{frequencies has 3 entries; rotating 4 features needs 2}}
  %y = fm.rope rotate_half %x at %p head_dim = 8 theta = 1.0e+04 {rotary_fraction = 0.5 : f64, frequencies = array<f32: 1.0, 0.5, 0.25>} : tensor<?x32xf32>, tensor<?xi32>
  return %y : tensor<?x32xf32>
}

// -----

func.func @f(%x: tensor<?x32xf32>, %p: tensor<?xi32>) -> tensor<?x32xf32> {
  // expected-error @+1 {{frequencies[1] must be positive and finite, got 0}}
  %y = fm.rope rotate_half %x at %p head_dim = 4 theta = 1.0e+04 {frequencies = array<f32: 1.0, 0.0>} : tensor<?x32xf32>, tensor<?xi32>
  return %y : tensor<?x32xf32>
}

// -----

func.func @f(%x: tensor<?x32xf32>, %p: tensor<?xi32>) -> tensor<?x32xf32> {
  // expected-error @+1 {{attention_factor must be positive, got -1}}
  %y = fm.rope rotate_half %x at %p head_dim = 4 theta = 1.0e+04 {frequencies = array<f32: 1.0, 0.5>, attention_factor = -1.0 : f64} : tensor<?x32xf32>, tensor<?xi32>
  return %y : tensor<?x32xf32>
}

// -----

func.func @f(%x: tensor<?x32xf32>, %p: tensor<?xi32>) -> tensor<?x32xf32> {
  // expected-error @+1 {{rotary_fraction must be in (0, 1], got 1.5}}
  %y = fm.rope rotate_half %x at %p head_dim = 8 theta = 1.0e+04 {rotary_fraction = 1.5 : f64} : tensor<?x32xf32>, tensor<?xi32>
  return %y : tensor<?x32xf32>
}

// -----

func.func @f(%x: tensor<?x32xf32>, %p: tensor<?xi32>) -> tensor<?x32xf32> {
  // expected-error @+1 {{rotary_fraction 0.125 of head_dim 8 rotates 1 features; it must be an even count}}
  %y = fm.rope rotate_half %x at %p head_dim = 8 theta = 1.0e+04 {rotary_fraction = 0.125 : f64} : tensor<?x32xf32>, tensor<?xi32>
  return %y : tensor<?x32xf32>
}

// -----

func.func @f(%x: tensor<?x32xf32>, %g: tensor<?x2xf32>) -> tensor<?x32xf32> {
  // expected-error @+1 {{rhs 'tensor<?x2xf32>' must be 'tensor<?x32xf32>' or have a last dimension of 1}}
  %y = fm.mul %x, %g : tensor<?x32xf32>, tensor<?x2xf32>
  return %y : tensor<?x32xf32>
}

// -----

func.func @f(%x: tensor<?x32xf32>, %y: tensor<?x16xf32>) -> tensor<?x32xf32> {
  // expected-error @+1 {{'fm.add' op requires the same type for all operands and results}}
  %z = "fm.add"(%x, %y) : (tensor<?x32xf32>, tensor<?x16xf32>) -> tensor<?x32xf32>
  return %z : tensor<?x32xf32>
}

// -----

func.func @f(%x: tensor<?x32xi32>) -> tensor<?x32xi32> {
  // expected-error @+1 {{operand #0 must be ranked tensor of 32-bit float or 16-bit float or bfloat16 type values}}
  %y = "fm.activation"(%x) <{kind = #fm<activation silu>}> : (tensor<?x32xi32>) -> tensor<?x32xi32>
  return %y : tensor<?x32xi32>
}

// -----

fm.param @emb : tensor<128x32xf32> from <"m", offset = 0, dtype = f32>
func.func @f(%x: tensor<?x32xf32>) -> tensor<?x128xf32> {
  // expected-error @+1 {{softcap must be positive, got 0}}
  %l = fm.logits %x, @emb {softcap = 0.0 : f64} : tensor<?x32xf32> -> tensor<?x128xf32>
  return %l : tensor<?x128xf32>
}

// -----

fm.param @emb : tensor<128x32xf32> from <"m", offset = 0, dtype = f32>
func.func @f(%x: tensor<?x32xf32>) -> tensor<?x128xf32> {
  // expected-error @+1 {{scale must be positive, got -2}}
  %l = fm.logits %x, @emb {scale = -2.0 : f64} : tensor<?x32xf32> -> tensor<?x128xf32>
  return %l : tensor<?x128xf32>
}

// -----

fm.param @emb : tensor<128x32xf32> from <"m", offset = 0, dtype = f32>
func.func @f(%x: tensor<3x32xf32>) -> tensor<4x128xf32> {
  // expected-error @+1 {{must have the same rows}}
  %l = fm.logits %x, @emb : tensor<3x32xf32> -> tensor<4x128xf32>
  return %l : tensor<4x128xf32>
}

// -----

fm.param @emb : tensor<128x32xf32> from <"m", offset = 0, dtype = f32>
func.func @f(%x: tensor<?x32xf32>) -> tensor<?x100xf32> {
  // expected-error @+1 {{weight @emb has shape [128, 32], expected [100, 32]}}
  %l = fm.logits %x, @emb : tensor<?x32xf32> -> tensor<?x100xf32>
  return %l : tensor<?x100xf32>
}

// -----

func.func @f(%x: tensor<?x32xf32>) -> tensor<?x32xf32> {
  // expected-error @+1 {{sums over 2 or more ranks, got 1}}
  %y = fm.all_reduce %x ranks = 1 : tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}
