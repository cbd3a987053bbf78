// Diagnostics of fm.attention: its own attributes, the cache it names, and
// where that cache is written.
// RUN: fmc-opt %s --split-input-file --verify-diagnostics

fm.kv_cache @c linear capacity = 16, kv_heads = 2, head_dim = 8 : f32
func.func @f(%q: tensor<?x48xf32>, %p: tensor<?xi32>) -> tensor<?x48xf32> {
  // expected-error @+1 {{heads (6) must be a multiple of kv_heads (4)}}
  %a = fm.attention global %q at %p reads @c heads = 6, kv_heads = 4, head_dim = 8 : (tensor<?x48xf32>, tensor<?xi32>) -> tensor<?x48xf32>
  return %a : tensor<?x48xf32>
}

// -----

func.func @f(%q: tensor<?x32xf32>, %p: tensor<?xi32>) -> tensor<?x32xf32> {
  // expected-error @+1 {{heads, kv_heads and head_dim must be positive, got 4, 0, 8}}
  %a = fm.attention global %q at %p reads @c heads = 4, kv_heads = 0, head_dim = 8 : (tensor<?x32xf32>, tensor<?xi32>) -> tensor<?x32xf32>
  return %a : tensor<?x32xf32>
}

// -----

func.func @f(%q: tensor<?x32xf32>, %p: tensor<?xi32>) -> tensor<?x32xf32> {
  // expected-error @+1 {{q has 32 features, expected heads * head_dim = 64}}
  %a = fm.attention global %q at %p reads @c heads = 8, kv_heads = 2, head_dim = 8 : (tensor<?x32xf32>, tensor<?xi32>) -> tensor<?x32xf32>
  return %a : tensor<?x32xf32>
}

// -----

func.func @f(%q: tensor<?x32xf32>, %p: tensor<?xi32>) -> tensor<?x32xf16> {
  // expected-error @+1 {{result type 'tensor<?x32xf16>' must match q's 'tensor<?x32xf32>'}}
  %a = fm.attention global %q at %p reads @c heads = 4, kv_heads = 2, head_dim = 8 : (tensor<?x32xf32>, tensor<?xi32>) -> tensor<?x32xf16>
  return %a : tensor<?x32xf16>
}

// -----

func.func @f(%q: tensor<?x32xf32>, %k: tensor<?x16xf32>, %p: tensor<?xi32>) -> tensor<?x32xf32> {
  // expected-error @+1 {{k and v must be given together}}
  %a = "fm.attention"(%q, %k, %p) <{kind = #fm<attention_kind global>, reads = @c, writes = @c, num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 8 : i64, operandSegmentSizes = array<i32: 1, 1, 0, 1>}> : (tensor<?x32xf32>, tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x32xf32>
  return %a : tensor<?x32xf32>
}

// -----

func.func @f(%q: tensor<?x32xf32>, %k: tensor<?x16xf32>, %p: tensor<?xi32>) -> tensor<?x32xf32> {
  // expected-error @+1 {{k and v are given but no cache is written}}
  %a = fm.attention global %q, %k, %k at %p reads @c heads = 4, kv_heads = 2, head_dim = 8 : (tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x32xf32>
  return %a : tensor<?x32xf32>
}

// -----

func.func @f(%q: tensor<?x32xf32>, %p: tensor<?xi32>) -> tensor<?x32xf32> {
  // expected-error @+1 {{writes a cache but has no k and v to write}}
  %a = fm.attention global %q at %p reads @c writes @c heads = 4, kv_heads = 2, head_dim = 8 : (tensor<?x32xf32>, tensor<?xi32>) -> tensor<?x32xf32>
  return %a : tensor<?x32xf32>
}

// -----

func.func @f(%q: tensor<?x32xf32>, %k: tensor<?x24xf32>, %p: tensor<?xi32>) -> tensor<?x32xf32> {
  // expected-error @+1 {{k has 24 features, expected kv_heads * head_dim = 16}}
  %a = fm.attention global %q, %k, %k at %p reads @c writes @c heads = 4, kv_heads = 2, head_dim = 8 : (tensor<?x32xf32>, tensor<?x24xf32>, tensor<?x24xf32>, tensor<?xi32>) -> tensor<?x32xf32>
  return %a : tensor<?x32xf32>
}

// -----

func.func @f(%q: tensor<3x32xf32>, %k: tensor<4x16xf32>, %p: tensor<?xi32>) -> tensor<3x32xf32> {
  // expected-error @+1 {{k and v must have the same rows as q}}
  %a = fm.attention global %q, %k, %k at %p reads @c writes @c heads = 4, kv_heads = 2, head_dim = 8 : (tensor<3x32xf32>, tensor<4x16xf32>, tensor<4x16xf32>, tensor<?xi32>) -> tensor<3x32xf32>
  return %a : tensor<3x32xf32>
}

// -----

func.func @f(%q: tensor<?x32xf32>, %p: tensor<?xi32>) -> tensor<?x32xf32> {
  // expected-error @+1 {{local attention needs a window}}
  %a = fm.attention local %q at %p reads @c heads = 4, kv_heads = 2, head_dim = 8 : (tensor<?x32xf32>, tensor<?xi32>) -> tensor<?x32xf32>
  return %a : tensor<?x32xf32>
}

// -----

func.func @f(%q: tensor<?x32xf32>, %p: tensor<?xi32>) -> tensor<?x32xf32> {
  // expected-error @+1 {{chunked attention needs a window}}
  %a = fm.attention chunked %q at %p reads @c heads = 4, kv_heads = 2, head_dim = 8 : (tensor<?x32xf32>, tensor<?xi32>) -> tensor<?x32xf32>
  return %a : tensor<?x32xf32>
}

// -----

func.func @f(%q: tensor<?x32xf32>, %p: tensor<?xi32>) -> tensor<?x32xf32> {
  // expected-error @+1 {{window must be positive, got -4}}
  %a = fm.attention local %q at %p reads @c heads = 4, kv_heads = 2, head_dim = 8 {window = -4 : i64} : (tensor<?x32xf32>, tensor<?xi32>) -> tensor<?x32xf32>
  return %a : tensor<?x32xf32>
}

// -----

func.func @f(%q: tensor<?x32xf32>, %p: tensor<?xi32>) -> tensor<?x32xf32> {
  // expected-error @+1 {{global attention cannot have a window (got 64); make it local}}
  %a = fm.attention global %q at %p reads @c heads = 4, kv_heads = 2, head_dim = 8 {window = 64 : i64} : (tensor<?x32xf32>, tensor<?xi32>) -> tensor<?x32xf32>
  return %a : tensor<?x32xf32>
}

// -----

func.func @f(%q: tensor<?x32xf32>, %p: tensor<?xi32>) -> tensor<?x32xf32> {
  // expected-error @+1 {{scale must be positive, got 0}}
  %a = fm.attention global %q at %p reads @c heads = 4, kv_heads = 2, head_dim = 8 {scale = 0.0 : f64} : (tensor<?x32xf32>, tensor<?xi32>) -> tensor<?x32xf32>
  return %a : tensor<?x32xf32>
}

// -----

func.func @f(%q: tensor<?x32xf32>, %p: tensor<?xi32>) -> tensor<?x32xf32> {
  // expected-error @+1 {{softcap must be positive, got -50}}
  %a = fm.attention global %q at %p reads @c heads = 4, kv_heads = 2, head_dim = 8 {softcap = -50.0 : f64} : (tensor<?x32xf32>, tensor<?xi32>) -> tensor<?x32xf32>
  return %a : tensor<?x32xf32>
}

// -----

func.func @f(%q: tensor<?x32xf32>, %p: tensor<?xi32>) -> tensor<?x32xf32> {
  // expected-error @+1 {{reads @nope, which does not name an fm.kv_cache}}
  %a = fm.attention global %q at %p reads @nope heads = 4, kv_heads = 2, head_dim = 8 : (tensor<?x32xf32>, tensor<?xi32>) -> tensor<?x32xf32>
  return %a : tensor<?x32xf32>
}

// -----

fm.param @w : tensor<4xf32> from <"m", offset = 0, dtype = f32>
func.func @f(%q: tensor<?x32xf32>, %p: tensor<?xi32>) -> tensor<?x32xf32> {
  // expected-error @+1 {{reads @w, which is not an fm.kv_cache}}
  %a = fm.attention global %q at %p reads @w heads = 4, kv_heads = 2, head_dim = 8 : (tensor<?x32xf32>, tensor<?xi32>) -> tensor<?x32xf32>
  return %a : tensor<?x32xf32>
}

// -----

fm.kv_cache @a linear capacity = 16, kv_heads = 2, head_dim = 8 : f32
fm.kv_cache @b linear capacity = 16, kv_heads = 2, head_dim = 8 : f32
func.func @f(%q: tensor<?x32xf32>, %k: tensor<?x16xf32>, %p: tensor<?xi32>) -> tensor<?x32xf32> {
  // expected-error @+1 {{writes @a but reads @b; an attention that writes a cache reads that same cache}}
  %a = fm.attention global %q, %k, %k at %p reads @b writes @a heads = 4, kv_heads = 2, head_dim = 8 : (tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x32xf32>
  return %a : tensor<?x32xf32>
}

// -----

fm.kv_cache @c linear capacity = 16, kv_heads = 4, head_dim = 8 : f32
func.func @f(%q: tensor<?x32xf32>, %k: tensor<?x16xf32>, %p: tensor<?xi32>) -> tensor<?x32xf32> {
  // expected-error @+1 {{has kv_heads = 2, head_dim = 8 but cache @c holds kv_heads = 4, head_dim = 8}}
  %a = fm.attention global %q, %k, %k at %p reads @c writes @c heads = 4, kv_heads = 2, head_dim = 8 : (tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x32xf32>
  return %a : tensor<?x32xf32>
}

// -----

// A window on a global cache: a global attention would need every position.
fm.kv_cache @c ring capacity = 64, kv_heads = 2, head_dim = 8 : f32
func.func @f(%q: tensor<?x32xf32>, %k: tensor<?x16xf32>, %p: tensor<?xi32>) -> tensor<?x32xf32> {
  // expected-error @+1 {{is global but reads ring cache @c, which keeps only the last 64 positions}}
  %a = fm.attention global %q, %k, %k at %p reads @c writes @c heads = 4, kv_heads = 2, head_dim = 8 : (tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x32xf32>
  return %a : tensor<?x32xf32>
}

// -----

fm.kv_cache @c ring capacity = 64, kv_heads = 2, head_dim = 8 : f32
func.func @f(%q: tensor<?x32xf32>, %k: tensor<?x16xf32>, %p: tensor<?xi32>) -> tensor<?x32xf32> {
  // expected-error @+1 {{has window 128, larger than the 64 positions ring cache @c keeps}}
  %a = fm.attention local %q, %k, %k at %p reads @c writes @c heads = 4, kv_heads = 2, head_dim = 8 {window = 128 : i64} : (tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x32xf32>
  return %a : tensor<?x32xf32>
}

// -----

fm.kv_cache @c linear capacity = 16, kv_heads = 2, head_dim = 8 : f32
func.func @f(%q: tensor<?x32xf32>, %k: tensor<?x16xf32>, %p: tensor<?xi32>) -> tensor<?x32xf32> {
  // expected-note @+1 {{first written here}}
  %a = fm.attention global %q, %k, %k at %p reads @c writes @c heads = 4, kv_heads = 2, head_dim = 8 : (tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x32xf32>
  // expected-error @+1 {{writes cache @c, which an earlier attention already writes; give each writer its own cache}}
  %b = fm.attention global %a, %k, %k at %p reads @c writes @c heads = 4, kv_heads = 2, head_dim = 8 : (tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x32xf32>
  return %b : tensor<?x32xf32>
}

// -----

// KV sharing must read a cache an earlier layer wrote in this step.
fm.kv_cache @c linear capacity = 16, kv_heads = 2, head_dim = 8 : f32
func.func @f(%q: tensor<?x32xf32>, %k: tensor<?x16xf32>, %p: tensor<?xi32>) -> tensor<?x32xf32> {
  // expected-error @+1 {{reads cache @c before it is written: its writer comes later in the layer order}}
  %a = fm.attention global %q at %p reads @c heads = 4, kv_heads = 2, head_dim = 8 : (tensor<?x32xf32>, tensor<?xi32>) -> tensor<?x32xf32>
  // expected-note @+1 {{written here}}
  %b = fm.attention global %a, %k, %k at %p reads @c writes @c heads = 4, kv_heads = 2, head_dim = 8 : (tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x32xf32>
  return %b : tensor<?x32xf32>
}

// -----

fm.kv_cache @c linear capacity = 16, kv_heads = 2, head_dim = 8 : f32
func.func @f(%q: tensor<?x32xf32>, %p: tensor<?xi32>) -> tensor<?x32xf32> {
  // expected-error @+1 {{reads cache @c, which no attention writes}}
  %a = fm.attention global %q at %p reads @c heads = 4, kv_heads = 2, head_dim = 8 : (tensor<?x32xf32>, tensor<?xi32>) -> tensor<?x32xf32>
  return %a : tensor<?x32xf32>
}

// -----

// Issue 14: the token ids as positions indexed the cache with values up to
// the vocabulary size (a heap write past it on the cpu backend).
fm.kv_cache @c linear capacity = 16, kv_heads = 2, head_dim = 8 : f32
fm.param @emb : tensor<128x32xf32> from <"m", offset = 0, dtype = f32>
func.func @forward(%tokens: tensor<?xi32>, %pos: tensor<?xi32>, %k: tensor<?x16xf32>) -> tensor<?x32xf32> {
  %h = fm.embedding @emb[%tokens] : tensor<?xi32> -> tensor<?x32xf32>
  // expected-error @+1 {{positions are the token ids of fm.embedding; attention and rope need the positions argument}}
  %a = fm.attention global %h, %k, %k at %tokens reads @c writes @c heads = 4, kv_heads = 2, head_dim = 8 : (tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x32xf32>
  return %a : tensor<?x32xf32>
}
