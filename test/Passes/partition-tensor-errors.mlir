// RUN: fmc-opt %s --split-input-file --fm-partition-tensor="ranks=2 rank=1" --verify-diagnostics
// RUN: not fmc-opt %s --split-input-file --fm-partition-tensor="ranks=2 rank=2" 2>&1 | FileCheck %s --check-prefix=RANK
// RUN: not fmc-opt %s --split-input-file --fm-partition-tensor="ranks=0" 2>&1 | FileCheck %s --check-prefix=ZERO

// Every message of fm-partition-tensor, one model per split.
// RANK: error: rank must be from 0 to 1, got 2
// ZERO: error: ranks must be 1 or more, got 0

module {
  fm.param @emb : tensor<8x32xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @wq : tensor<32x32xf32> from #fm.external<"w.bin", offset = 0, dtype = q8_0>
  fm.param @wk : tensor<16x32xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @wo : tensor<32x32xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c0 linear capacity = 16, kv_heads = 2, head_dim = 8 : f32
  func.func @forward(%tokens: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x8xf32> {
    %h = fm.embedding @emb[%tokens] : tensor<?xi32> -> tensor<?x32xf32>
    // expected-error @+1 {{'fm.linear' op reads @wq, which ranks cannot split: it is stored as 'q8_0'; tensor parallelism slices f32, f16 and bf16 weights}}
    %q = fm.linear %h, @wq : tensor<?x32xf32> -> tensor<?x32xf32>
    %k = fm.linear %h, @wk : tensor<?x32xf32> -> tensor<?x16xf32>
    %v = fm.linear %h, @wk : tensor<?x32xf32> -> tensor<?x16xf32>
    %att = fm.attention global %q, %k, %v at %pos reads @c0 writes @c0 heads = 4, kv_heads = 2, head_dim = 8
        : (tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x32xf32>
    %o = fm.linear %att, @wo : tensor<?x32xf32> -> tensor<?x32xf32>
    %l = fm.logits %o, @emb : tensor<?x32xf32> -> tensor<?x8xf32>
    return %l : tensor<?x8xf32>
  }
}

// -----

// A query straight from the embedding: no projection to split.
module {
  fm.param @emb : tensor<8x32xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @wk : tensor<16x32xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @wo : tensor<32x32xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c0 linear capacity = 16, kv_heads = 2, head_dim = 8 : f32
  func.func @forward(%tokens: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x8xf32> {
    %h = fm.embedding @emb[%tokens] : tensor<?xi32> -> tensor<?x32xf32>
    %k = fm.linear %h, @wk : tensor<?x32xf32> -> tensor<?x16xf32>
    %v = fm.linear %h, @wk : tensor<?x32xf32> -> tensor<?x16xf32>
    // expected-error @+1 {{'fm.attention' op reads a query that is not a projection (through RoPE or a per-head norm), which ranks cannot split}}
    %att = fm.attention global %h, %k, %v at %pos reads @c0 writes @c0 heads = 4, kv_heads = 2, head_dim = 8
        : (tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x32xf32>
    %o = fm.linear %att, @wo : tensor<?x32xf32> -> tensor<?x32xf32>
    %l = fm.logits %o, @emb : tensor<?x32xf32> -> tensor<?x8xf32>
    return %l : tensor<?x8xf32>
  }
}

// -----

// The attention output read by the projection and by the residual add.
module {
  fm.param @emb : tensor<8x32xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @wq : tensor<32x32xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @wk : tensor<16x32xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @wo : tensor<32x32xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c0 linear capacity = 16, kv_heads = 2, head_dim = 8 : f32
  func.func @forward(%tokens: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x8xf32> {
    %h = fm.embedding @emb[%tokens] : tensor<?xi32> -> tensor<?x32xf32>
    %q = fm.linear %h, @wq : tensor<?x32xf32> -> tensor<?x32xf32>
    %k = fm.linear %h, @wk : tensor<?x32xf32> -> tensor<?x16xf32>
    %v = fm.linear %h, @wk : tensor<?x32xf32> -> tensor<?x16xf32>
    // expected-error @+1 {{'fm.attention' op gives its attention output to other ops than one projection, which ranks cannot split}}
    %att = fm.attention global %q, %k, %v at %pos reads @c0 writes @c0 heads = 4, kv_heads = 2, head_dim = 8
        : (tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x32xf32>
    %o = fm.linear %att, @wo : tensor<?x32xf32> -> tensor<?x32xf32>
    %r = fm.add %att, %o : tensor<?x32xf32>
    %l = fm.logits %r, @emb : tensor<?x32xf32> -> tensor<?x8xf32>
    return %l : tensor<?x8xf32>
  }
}

// -----

// One projection feeding the query and the logits.
module {
  fm.param @emb : tensor<8x32xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @wq : tensor<32x32xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @wk : tensor<16x32xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @wo : tensor<32x32xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c0 linear capacity = 16, kv_heads = 2, head_dim = 8 : f32
  func.func @forward(%tokens: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x8xf32> {
    %h = fm.embedding @emb[%tokens] : tensor<?xi32> -> tensor<?x32xf32>
    // expected-error @+1 {{'fm.linear' op feeds the query of fm.attention and other ops; ranks splits a projection that has one reader}}
    %q = fm.linear %h, @wq : tensor<?x32xf32> -> tensor<?x32xf32>
    %k = fm.linear %h, @wk : tensor<?x32xf32> -> tensor<?x16xf32>
    %v = fm.linear %h, @wk : tensor<?x32xf32> -> tensor<?x16xf32>
    %att = fm.attention global %q, %k, %v at %pos reads @c0 writes @c0 heads = 4, kv_heads = 2, head_dim = 8
        : (tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x32xf32>
    %o = fm.linear %att, @wo : tensor<?x32xf32> -> tensor<?x32xf32>
    %r = fm.add %q, %o : tensor<?x32xf32>
    %l = fm.logits %r, @emb : tensor<?x32xf32> -> tensor<?x8xf32>
    return %l : tensor<?x8xf32>
  }
}

// -----

// A projection quantized when written in groups of 32: each rank's 16
// columns of the output projection would split a group.
module {
  fm.param @emb : tensor<8x32xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @wq : tensor<32x32xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @wk : tensor<16x32xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @wo : tensor<32x32xf32, #fm.quant<bits = 2, grid = balanced, group_size = 32, scale_type = f16, layout = row_major>> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c0 linear capacity = 16, kv_heads = 2, head_dim = 8 : f32
  func.func @forward(%tokens: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x8xf32> {
    %h = fm.embedding @emb[%tokens] : tensor<?xi32> -> tensor<?x32xf32>
    %q = fm.linear %h, @wq : tensor<?x32xf32> -> tensor<?x32xf32>
    %k = fm.linear %h, @wk : tensor<?x32xf32> -> tensor<?x16xf32>
    %v = fm.linear %h, @wk : tensor<?x32xf32> -> tensor<?x16xf32>
    %att = fm.attention global %q, %k, %v at %pos reads @c0 writes @c0 heads = 4, kv_heads = 2, head_dim = 8
        : (tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x32xf32>
    // expected-error @+1 {{'fm.linear' op reads @wo, which ranks cannot split: each rank's 16 columns must be whole quantization groups of 32}}
    %o = fm.linear %att, @wo : tensor<?x32xf32> -> tensor<?x32xf32>
    %l = fm.logits %o, @emb : tensor<?x32xf32> -> tensor<?x8xf32>
    return %l : tensor<?x8xf32>
  }
}

// -----

// A weight that already is a slice, and one that is a stack of others.
module {
  fm.param @emb : tensor<8x32xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @wq : tensor<32x32xf32> from #fm.external<"w.bin", offset = 0, dtype = f32, row_stride = 256>
  fm.param @wk : tensor<16x32xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @wo : tensor<32x32xf32> stacks [@wk, @wk]
  fm.kv_cache @c0 linear capacity = 16, kv_heads = 2, head_dim = 8 : f32
  func.func @forward(%tokens: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x8xf32> {
    %h = fm.embedding @emb[%tokens] : tensor<?xi32> -> tensor<?x32xf32>
    // expected-error @+1 {{'fm.linear' op reads @wq, which ranks cannot split: it is already a slice}}
    %q = fm.linear %h, @wq : tensor<?x32xf32> -> tensor<?x32xf32>
    %k = fm.linear %h, @wk : tensor<?x32xf32> -> tensor<?x16xf32>
    %v = fm.linear %h, @wk : tensor<?x32xf32> -> tensor<?x16xf32>
    %att = fm.attention global %q, %k, %v at %pos reads @c0 writes @c0 heads = 4, kv_heads = 2, head_dim = 8
        : (tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x32xf32>
    %o = fm.linear %att, @wo : tensor<?x32xf32> -> tensor<?x32xf32>
    %l = fm.logits %o, @emb : tensor<?x32xf32> -> tensor<?x8xf32>
    return %l : tensor<?x8xf32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x32xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @wq : tensor<32x32xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @wk : tensor<16x32xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @wo : tensor<32x32xf32> stacks [@wk, @wk]
  fm.kv_cache @c0 linear capacity = 16, kv_heads = 2, head_dim = 8 : f32
  func.func @forward(%tokens: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x8xf32> {
    %h = fm.embedding @emb[%tokens] : tensor<?xi32> -> tensor<?x32xf32>
    %q = fm.linear %h, @wq : tensor<?x32xf32> -> tensor<?x32xf32>
    %k = fm.linear %h, @wk : tensor<?x32xf32> -> tensor<?x16xf32>
    %v = fm.linear %h, @wk : tensor<?x32xf32> -> tensor<?x16xf32>
    %att = fm.attention global %q, %k, %v at %pos reads @c0 writes @c0 heads = 4, kv_heads = 2, head_dim = 8
        : (tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x32xf32>
    // expected-error @+1 {{'fm.linear' op reads @wo, which ranks cannot split: only a parameter read whole from a file is sliced}}
    %o = fm.linear %att, @wo : tensor<?x32xf32> -> tensor<?x32xf32>
    %l = fm.logits %o, @emb : tensor<?x32xf32> -> tensor<?x8xf32>
    return %l : tensor<?x8xf32>
  }
}

// -----

// A LoRA pair.
module {
  fm.param @emb : tensor<8x32xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @wq : tensor<32x32xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @la : tensor<4x32xf16> adapter_slot
  fm.param @lb : tensor<32x4xf16> adapter_slot
  func.func @forward(%tokens: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x8xf32> {
    %h = fm.embedding @emb[%tokens] : tensor<?xi32> -> tensor<?x32xf32>
    // expected-error @+1 {{'fm.linear' op has a LoRA pair, which ranks does not split}}
    %q = fm.linear %h, @wq lora @la, @lb : tensor<?x32xf32> -> tensor<?x32xf32>
    %l = fm.logits %q, @emb : tensor<?x32xf32> -> tensor<?x8xf32>
    return %l : tensor<?x8xf32>
  }
}

// -----

// A fused MoE block: its experts are stacked already.
module {
  fm.param @emb : tensor<8x32xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @r : tensor<4x32xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @gu : tensor<4x32x32xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @d : tensor<4x32x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  func.func @forward(%tokens: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x8xf32> {
    %h = fm.embedding @emb[%tokens] : tensor<?xi32> -> tensor<?x32xf32>
    // expected-error @+1 {{'fm.moe' op is a fused MoE block, which ranks does not split: partition the model before fm-fuse-moe}}
    %y = fm.moe softmax %h router @r gate_up @gu down @d top_k = 2 activation = silu : tensor<?x32xf32>
    %l = fm.logits %y, @emb : tensor<?x32xf32> -> tensor<?x8xf32>
    return %l : tensor<?x8xf32>
  }
}

// -----

// expected-error @+1 {{ranks splits attention heads, and this model has no fm.attention}}
module {
  fm.param @emb : tensor<8x32xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  func.func @forward(%tokens: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x8xf32> {
    %h = fm.embedding @emb[%tokens] : tensor<?xi32> -> tensor<?x32xf32>
    %l = fm.logits %h, @emb : tensor<?x32xf32> -> tensor<?x8xf32>
    return %l : tensor<?x8xf32>
  }
}

// -----

// expected-error @+1 {{the model is already partitioned over ranks (fm.tensor_partition)}}
module attributes {fm.tensor_partition = array<i64: 0, 2>} {
  fm.param @emb : tensor<8x32xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  func.func @forward(%tokens: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x8xf32> {
    %h = fm.embedding @emb[%tokens] : tensor<?xi32> -> tensor<?x32xf32>
    %l = fm.logits %h, @emb : tensor<?x32xf32> -> tensor<?x8xf32>
    return %l : tensor<?x8xf32>
  }
}

// -----

// One KV head cannot be shared by 2 ranks.
module {
  fm.param @emb : tensor<8x24xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @wq : tensor<24x24xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @wk : tensor<8x24xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @wo : tensor<24x24xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c0 linear capacity = 16, kv_heads = 1, head_dim = 8 : f32
  func.func @forward(%tokens: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x8xf32> {
    %h = fm.embedding @emb[%tokens] : tensor<?xi32> -> tensor<?x24xf32>
    %q = fm.linear %h, @wq : tensor<?x24xf32> -> tensor<?x24xf32>
    %k = fm.linear %h, @wk : tensor<?x24xf32> -> tensor<?x8xf32>
    %v = fm.linear %h, @wk : tensor<?x24xf32> -> tensor<?x8xf32>
    // expected-error @+1 {{'fm.attention' op has 3 heads and 1 KV heads, which ranks = 2 does not divide: each rank needs whole heads}}
    %att = fm.attention global %q, %k, %v at %pos reads @c0 writes @c0 heads = 3, kv_heads = 1, head_dim = 8
        : (tensor<?x24xf32>, tensor<?x8xf32>, tensor<?x8xf32>, tensor<?xi32>) -> tensor<?x24xf32>
    %o = fm.linear %att, @wo : tensor<?x24xf32> -> tensor<?x24xf32>
    %l = fm.logits %o, @emb : tensor<?x24xf32> -> tensor<?x8xf32>
    return %l : tensor<?x8xf32>
  }
}

// -----

// 33 hidden units of a feed-forward network.
module {
  fm.param @emb : tensor<8x32xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @wq : tensor<32x32xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @wk : tensor<16x32xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @wo : tensor<32x32xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @wg : tensor<33x32xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @wd : tensor<32x33xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c0 linear capacity = 16, kv_heads = 2, head_dim = 8 : f32
  func.func @forward(%tokens: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x8xf32> {
    %h = fm.embedding @emb[%tokens] : tensor<?xi32> -> tensor<?x32xf32>
    %q = fm.linear %h, @wq : tensor<?x32xf32> -> tensor<?x32xf32>
    %k = fm.linear %h, @wk : tensor<?x32xf32> -> tensor<?x16xf32>
    %v = fm.linear %h, @wk : tensor<?x32xf32> -> tensor<?x16xf32>
    %att = fm.attention global %q, %k, %v at %pos reads @c0 writes @c0 heads = 4, kv_heads = 2, head_dim = 8
        : (tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x32xf32>
    %o = fm.linear %att, @wo : tensor<?x32xf32> -> tensor<?x32xf32>
    %g = fm.linear %o, @wg : tensor<?x32xf32> -> tensor<?x33xf32>
    // expected-error @+1 {{'fm.activation' op has 33 hidden units, which ranks = 2 does not divide}}
    %s = fm.activation gelu %g : tensor<?x33xf32>
    %d = fm.linear %s, @wd : tensor<?x33xf32> -> tensor<?x32xf32>
    %l = fm.logits %d, @emb : tensor<?x32xf32> -> tensor<?x8xf32>
    return %l : tensor<?x8xf32>
  }
}
