// RUN: fmc-opt %s --split-input-file --verify-diagnostics

// Every verifier message of plan.dispatch, its kernel configurations and
// plan.kv_append (test/Plan/invalid.mlir has the other kernels').
// Generated once by a script kept out of the tree; each split is a whole
// decode program so only the case's own error shows.

module {
  fm.param @emb : tensor<8x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @n16 : tensor<16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @n8 : tensor<8xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @k16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @h16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f16>
  fm.param @w12 : tensor<12x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 8, kv_heads = 2, head_dim = 8 : f32
  plan.program @decode max_tokens = 1, arena_bytes = 65536 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 1024 : !plan.rows<1, i32>
    %h = plan.buffer offset = 2048 : !plan.rows<16, f32>
    %x = plan.buffer offset = 4096 : !plan.rows<16, f32>
    %y = plan.buffer offset = 6144 : !plan.rows<16, f32>
    %z = plan.buffer offset = 8192 : !plan.rows<16, f32>
    %u = plan.buffer offset = 10240 : !plan.rows<16, f32>
    %w = plan.buffer offset = 12288 : !plan.rows<12, f32>
    %a = plan.buffer offset = 14336 : !plan.rows<16, f32>
    %l = plan.buffer offset = 16384 : !plan.rows<8, f32>
    plan.embedding @emb[%t] -> %h : !plan.rows<1, i32>, !plan.rows<16, f32>
    // expected-error @+1 {{workgroup_size must be a power of two in [32, 1024], got 100}}
    plan.dispatch #plan.matvec<workgroup_size = 100, rows_per_workgroup = 8, threads_per_row = 32, vector_bytes = 16, tokens_per_pass = 1, activations = f32, tiles = rows> {
      plan.linear %h, @w16 -> %y : !plan.rows<16, f32>, !plan.rows<16, f32>
    }
    plan.logits %y, @emb -> %l : !plan.rows<16, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @n16 : tensor<16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @n8 : tensor<8xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @k16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @h16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f16>
  fm.param @w12 : tensor<12x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 8, kv_heads = 2, head_dim = 8 : f32
  plan.program @decode max_tokens = 1, arena_bytes = 65536 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 1024 : !plan.rows<1, i32>
    %h = plan.buffer offset = 2048 : !plan.rows<16, f32>
    %x = plan.buffer offset = 4096 : !plan.rows<16, f32>
    %y = plan.buffer offset = 6144 : !plan.rows<16, f32>
    %z = plan.buffer offset = 8192 : !plan.rows<16, f32>
    %u = plan.buffer offset = 10240 : !plan.rows<16, f32>
    %w = plan.buffer offset = 12288 : !plan.rows<12, f32>
    %a = plan.buffer offset = 14336 : !plan.rows<16, f32>
    %l = plan.buffer offset = 16384 : !plan.rows<8, f32>
    plan.embedding @emb[%t] -> %h : !plan.rows<1, i32>, !plan.rows<16, f32>
    // expected-error @+1 {{threads_per_row must be a power of two in [8, workgroup_size], got 4}}
    plan.dispatch #plan.matvec<workgroup_size = 256, rows_per_workgroup = 8, threads_per_row = 4, vector_bytes = 16, tokens_per_pass = 1, activations = f32, tiles = rows> {
      plan.linear %h, @w16 -> %y : !plan.rows<16, f32>, !plan.rows<16, f32>
    }
    plan.logits %y, @emb -> %l : !plan.rows<16, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @n16 : tensor<16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @n8 : tensor<8xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @k16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @h16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f16>
  fm.param @w12 : tensor<12x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 8, kv_heads = 2, head_dim = 8 : f32
  plan.program @decode max_tokens = 1, arena_bytes = 65536 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 1024 : !plan.rows<1, i32>
    %h = plan.buffer offset = 2048 : !plan.rows<16, f32>
    %x = plan.buffer offset = 4096 : !plan.rows<16, f32>
    %y = plan.buffer offset = 6144 : !plan.rows<16, f32>
    %z = plan.buffer offset = 8192 : !plan.rows<16, f32>
    %u = plan.buffer offset = 10240 : !plan.rows<16, f32>
    %w = plan.buffer offset = 12288 : !plan.rows<12, f32>
    %a = plan.buffer offset = 14336 : !plan.rows<16, f32>
    %l = plan.buffer offset = 16384 : !plan.rows<8, f32>
    plan.embedding @emb[%t] -> %h : !plan.rows<1, i32>, !plan.rows<16, f32>
    // expected-error @+1 {{rows_per_workgroup must be a positive multiple of the 8 row teams of a workgroup, got 12}}
    plan.dispatch #plan.matvec<workgroup_size = 256, rows_per_workgroup = 12, threads_per_row = 32, vector_bytes = 16, tokens_per_pass = 1, activations = f32, tiles = rows> {
      plan.linear %h, @w16 -> %y : !plan.rows<16, f32>, !plan.rows<16, f32>
    }
    plan.logits %y, @emb -> %l : !plan.rows<16, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @n16 : tensor<16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @n8 : tensor<8xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @k16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @h16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f16>
  fm.param @w12 : tensor<12x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 8, kv_heads = 2, head_dim = 8 : f32
  plan.program @decode max_tokens = 1, arena_bytes = 65536 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 1024 : !plan.rows<1, i32>
    %h = plan.buffer offset = 2048 : !plan.rows<16, f32>
    %x = plan.buffer offset = 4096 : !plan.rows<16, f32>
    %y = plan.buffer offset = 6144 : !plan.rows<16, f32>
    %z = plan.buffer offset = 8192 : !plan.rows<16, f32>
    %u = plan.buffer offset = 10240 : !plan.rows<16, f32>
    %w = plan.buffer offset = 12288 : !plan.rows<12, f32>
    %a = plan.buffer offset = 14336 : !plan.rows<16, f32>
    %l = plan.buffer offset = 16384 : !plan.rows<8, f32>
    plan.embedding @emb[%t] -> %h : !plan.rows<1, i32>, !plan.rows<16, f32>
    // expected-error @+1 {{vector_bytes must be 4, 8 or 16, got 3}}
    plan.dispatch #plan.matvec<workgroup_size = 256, rows_per_workgroup = 8, threads_per_row = 32, vector_bytes = 3, tokens_per_pass = 1, activations = f32, tiles = rows> {
      plan.linear %h, @w16 -> %y : !plan.rows<16, f32>, !plan.rows<16, f32>
    }
    plan.logits %y, @emb -> %l : !plan.rows<16, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @n16 : tensor<16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @n8 : tensor<8xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @k16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @h16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f16>
  fm.param @w12 : tensor<12x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 8, kv_heads = 2, head_dim = 8 : f32
  plan.program @decode max_tokens = 1, arena_bytes = 65536 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 1024 : !plan.rows<1, i32>
    %h = plan.buffer offset = 2048 : !plan.rows<16, f32>
    %x = plan.buffer offset = 4096 : !plan.rows<16, f32>
    %y = plan.buffer offset = 6144 : !plan.rows<16, f32>
    %z = plan.buffer offset = 8192 : !plan.rows<16, f32>
    %u = plan.buffer offset = 10240 : !plan.rows<16, f32>
    %w = plan.buffer offset = 12288 : !plan.rows<12, f32>
    %a = plan.buffer offset = 14336 : !plan.rows<16, f32>
    %l = plan.buffer offset = 16384 : !plan.rows<8, f32>
    plan.embedding @emb[%t] -> %h : !plan.rows<1, i32>, !plan.rows<16, f32>
    // expected-error @+1 {{tokens_per_pass must be in [1, 8], got 9}}
    plan.dispatch #plan.matvec<workgroup_size = 256, rows_per_workgroup = 8, threads_per_row = 32, vector_bytes = 16, tokens_per_pass = 9, activations = f32, tiles = rows> {
      plan.linear %h, @w16 -> %y : !plan.rows<16, f32>, !plan.rows<16, f32>
    }
    plan.logits %y, @emb -> %l : !plan.rows<16, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @n16 : tensor<16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @n8 : tensor<8xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @k16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @h16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f16>
  fm.param @w12 : tensor<12x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 8, kv_heads = 2, head_dim = 8 : f32
  plan.program @decode max_tokens = 1, arena_bytes = 65536 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 1024 : !plan.rows<1, i32>
    %h = plan.buffer offset = 2048 : !plan.rows<16, f32>
    %x = plan.buffer offset = 4096 : !plan.rows<16, f32>
    %y = plan.buffer offset = 6144 : !plan.rows<16, f32>
    %z = plan.buffer offset = 8192 : !plan.rows<16, f32>
    %u = plan.buffer offset = 10240 : !plan.rows<16, f32>
    %w = plan.buffer offset = 12288 : !plan.rows<12, f32>
    %a = plan.buffer offset = 14336 : !plan.rows<16, f32>
    %l = plan.buffer offset = 16384 : !plan.rows<8, f32>
    plan.embedding @emb[%t] -> %h : !plan.rows<1, i32>, !plan.rows<16, f32>
    // expected-error @+1 {{workgroup_size must be a power of two in [32, 1024], got 16}}
    plan.dispatch #plan.rowwise<workgroup_size = 16> {
      plan.add %h, %h -> %y : !plan.rows<16, f32>, !plan.rows<16, f32>, !plan.rows<16, f32>
    }
    plan.logits %y, @emb -> %l : !plan.rows<16, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @n16 : tensor<16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @n8 : tensor<8xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @k16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @h16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f16>
  fm.param @w12 : tensor<12x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 8, kv_heads = 2, head_dim = 8 : f32
  plan.program @decode max_tokens = 1, arena_bytes = 65536 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 1024 : !plan.rows<1, i32>
    %h = plan.buffer offset = 2048 : !plan.rows<16, f32>
    %x = plan.buffer offset = 4096 : !plan.rows<16, f32>
    %y = plan.buffer offset = 6144 : !plan.rows<16, f32>
    %z = plan.buffer offset = 8192 : !plan.rows<16, f32>
    %u = plan.buffer offset = 10240 : !plan.rows<16, f32>
    %w = plan.buffer offset = 12288 : !plan.rows<12, f32>
    %a = plan.buffer offset = 14336 : !plan.rows<16, f32>
    %l = plan.buffer offset = 16384 : !plan.rows<8, f32>
    plan.embedding @emb[%t] -> %h : !plan.rows<1, i32>, !plan.rows<16, f32>
    // expected-error @+1 {{splits must be in [1, 256], got 0}}
    plan.dispatch #plan.decode_attention<splits = 0> {
      plan.attention global %h at %p reads @c -> %y heads = 2, kv_heads = 2, head_dim = 8 scale = 0.5 : !plan.rows<16, f32>, !plan.rows<1, i32>, !plan.rows<16, f32>
    }
    plan.logits %y, @emb -> %l : !plan.rows<16, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @n16 : tensor<16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @n8 : tensor<8xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @k16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @h16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f16>
  fm.param @w12 : tensor<12x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 8, kv_heads = 2, head_dim = 8 : f32
  plan.program @decode max_tokens = 1, arena_bytes = 65536 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 1024 : !plan.rows<1, i32>
    %h = plan.buffer offset = 2048 : !plan.rows<16, f32>
    %x = plan.buffer offset = 4096 : !plan.rows<16, f32>
    %y = plan.buffer offset = 6144 : !plan.rows<16, f32>
    %z = plan.buffer offset = 8192 : !plan.rows<16, f32>
    %u = plan.buffer offset = 10240 : !plan.rows<16, f32>
    %w = plan.buffer offset = 12288 : !plan.rows<12, f32>
    %a = plan.buffer offset = 14336 : !plan.rows<16, f32>
    %l = plan.buffer offset = 16384 : !plan.rows<8, f32>
    plan.embedding @emb[%t] -> %h : !plan.rows<1, i32>, !plan.rows<16, f32>
    // expected-error @+1 {{'plan.dispatch' op holds no kernel}}
    plan.dispatch #plan.library {
    }
    plan.add %h, %h -> %y : !plan.rows<16, f32>, !plan.rows<16, f32>, !plan.rows<16, f32>
    plan.logits %y, @emb -> %l : !plan.rows<16, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @n16 : tensor<16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @n8 : tensor<8xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @k16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @h16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f16>
  fm.param @w12 : tensor<12x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 8, kv_heads = 2, head_dim = 8 : f32
  plan.program @decode max_tokens = 1, arena_bytes = 65536 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 1024 : !plan.rows<1, i32>
    %h = plan.buffer offset = 2048 : !plan.rows<16, f32>
    %x = plan.buffer offset = 4096 : !plan.rows<16, f32>
    %y = plan.buffer offset = 6144 : !plan.rows<16, f32>
    %z = plan.buffer offset = 8192 : !plan.rows<16, f32>
    %u = plan.buffer offset = 10240 : !plan.rows<16, f32>
    %w = plan.buffer offset = 12288 : !plan.rows<12, f32>
    %a = plan.buffer offset = 14336 : !plan.rows<16, f32>
    %l = plan.buffer offset = 16384 : !plan.rows<8, f32>
    plan.embedding @emb[%t] -> %h : !plan.rows<1, i32>, !plan.rows<16, f32>
    // expected-error @+1 {{with #plan.library holds one kernel, not 2}}
    plan.dispatch #plan.library {
      plan.add %h, %h -> %x : !plan.rows<16, f32>, !plan.rows<16, f32>, !plan.rows<16, f32>
      plan.add %x, %h -> %y : !plan.rows<16, f32>, !plan.rows<16, f32>, !plan.rows<16, f32>
    }
    plan.logits %y, @emb -> %l : !plan.rows<16, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @n16 : tensor<16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @n8 : tensor<8xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @k16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @h16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f16>
  fm.param @w12 : tensor<12x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 8, kv_heads = 2, head_dim = 8 : f32
  plan.program @decode max_tokens = 1, arena_bytes = 65536 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 1024 : !plan.rows<1, i32>
    %h = plan.buffer offset = 2048 : !plan.rows<16, f32>
    %x = plan.buffer offset = 4096 : !plan.rows<16, f32>
    %y = plan.buffer offset = 6144 : !plan.rows<16, f32>
    %z = plan.buffer offset = 8192 : !plan.rows<16, f32>
    %u = plan.buffer offset = 10240 : !plan.rows<16, f32>
    %w = plan.buffer offset = 12288 : !plan.rows<12, f32>
    %a = plan.buffer offset = 14336 : !plan.rows<16, f32>
    %l = plan.buffer offset = 16384 : !plan.rows<8, f32>
    plan.embedding @emb[%t] -> %h : !plan.rows<1, i32>, !plan.rows<16, f32>
    // expected-error @+1 {{with #plan.library holds a kernel the GPU library has, not 'plan.linear' (products are #plan.matvec, norms, RoPE and elementwise kernels #plan.rowwise)}}
    plan.dispatch #plan.library {
      plan.linear %h, @w16 -> %y : !plan.rows<16, f32>, !plan.rows<16, f32>
    }
    plan.logits %y, @emb -> %l : !plan.rows<16, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @n16 : tensor<16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @n8 : tensor<8xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @k16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @h16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f16>
  fm.param @w12 : tensor<12x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 8, kv_heads = 2, head_dim = 8 : f32
  plan.program @decode max_tokens = 1, arena_bytes = 65536 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 1024 : !plan.rows<1, i32>
    %h = plan.buffer offset = 2048 : !plan.rows<16, f32>
    %x = plan.buffer offset = 4096 : !plan.rows<16, f32>
    %y = plan.buffer offset = 6144 : !plan.rows<16, f32>
    %z = plan.buffer offset = 8192 : !plan.rows<16, f32>
    %u = plan.buffer offset = 10240 : !plan.rows<16, f32>
    %w = plan.buffer offset = 12288 : !plan.rows<12, f32>
    %a = plan.buffer offset = 14336 : !plan.rows<16, f32>
    %l = plan.buffer offset = 16384 : !plan.rows<8, f32>
    plan.embedding @emb[%t] -> %h : !plan.rows<1, i32>, !plan.rows<16, f32>
    // expected-error @+1 {{with #plan.rowwise holds a norm, RoPE or an elementwise kernel, not 'plan.linear'}}
    plan.dispatch #plan.rowwise<workgroup_size = 256> {
      plan.linear %h, @w16 -> %y : !plan.rows<16, f32>, !plan.rows<16, f32>
    }
    plan.logits %y, @emb -> %l : !plan.rows<16, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @n16 : tensor<16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @n8 : tensor<8xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @k16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @h16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f16>
  fm.param @w12 : tensor<12x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 8, kv_heads = 2, head_dim = 8 : f32
  plan.program @decode max_tokens = 1, arena_bytes = 65536 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 1024 : !plan.rows<1, i32>
    %h = plan.buffer offset = 2048 : !plan.rows<16, f32>
    %x = plan.buffer offset = 4096 : !plan.rows<16, f32>
    %y = plan.buffer offset = 6144 : !plan.rows<16, f32>
    %z = plan.buffer offset = 8192 : !plan.rows<16, f32>
    %u = plan.buffer offset = 10240 : !plan.rows<16, f32>
    %w = plan.buffer offset = 12288 : !plan.rows<12, f32>
    %a = plan.buffer offset = 14336 : !plan.rows<16, f32>
    %l = plan.buffer offset = 16384 : !plan.rows<8, f32>
    plan.embedding @emb[%t] -> %h : !plan.rows<1, i32>, !plan.rows<16, f32>
    // expected-error @+1 {{with #plan.decode_attention holds an attention that only reads its cache}}
    plan.dispatch #plan.decode_attention<splits = 2> {
      plan.attention global %h, %h, %h at %p reads @c writes @c -> %y heads = 2, kv_heads = 2, head_dim = 8 scale = 0.5 : !plan.rows<16, f32>, !plan.rows<16, f32>, !plan.rows<16, f32>, !plan.rows<1, i32>, !plan.rows<16, f32>
    }
    plan.logits %y, @emb -> %l : !plan.rows<16, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @n16 : tensor<16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @n8 : tensor<8xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @k16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @h16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f16>
  fm.param @w12 : tensor<12x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 8, kv_heads = 2, head_dim = 8 : f32
  plan.program @decode max_tokens = 4, arena_bytes = 65536 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 1024 : !plan.rows<1, i32>
    %h = plan.buffer offset = 2048 : !plan.rows<16, f32>
    %x = plan.buffer offset = 4096 : !plan.rows<16, f32>
    %y = plan.buffer offset = 6144 : !plan.rows<16, f32>
    %z = plan.buffer offset = 8192 : !plan.rows<16, f32>
    %u = plan.buffer offset = 10240 : !plan.rows<16, f32>
    %w = plan.buffer offset = 12288 : !plan.rows<12, f32>
    %a = plan.buffer offset = 14336 : !plan.rows<16, f32>
    %l = plan.buffer offset = 16384 : !plan.rows<8, f32>
    plan.embedding @emb[%t] -> %h : !plan.rows<1, i32>, !plan.rows<16, f32>
    // expected-error @+1 {{with #plan.decode_attention runs in a one-token program, not one of 4}}
    plan.dispatch #plan.decode_attention<splits = 2> {
      plan.attention global %h at %p reads @c -> %y heads = 2, kv_heads = 2, head_dim = 8 scale = 0.5 : !plan.rows<16, f32>, !plan.rows<1, i32>, !plan.rows<16, f32>
    }
    plan.logits %y, @emb -> %l : !plan.rows<16, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @n16 : tensor<16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @n8 : tensor<8xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @k16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @h16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f16>
  fm.param @w12 : tensor<12x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 8, kv_heads = 2, head_dim = 8 : f32
  plan.program @decode max_tokens = 1, arena_bytes = 65536 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 1024 : !plan.rows<1, i32>
    %h = plan.buffer offset = 2048 : !plan.rows<16, f32>
    %x = plan.buffer offset = 4096 : !plan.rows<16, f32>
    %y = plan.buffer offset = 6144 : !plan.rows<16, f32>
    %z = plan.buffer offset = 8192 : !plan.rows<16, f32>
    %u = plan.buffer offset = 10240 : !plan.rows<16, f32>
    %w = plan.buffer offset = 12288 : !plan.rows<12, f32>
    %a = plan.buffer offset = 14336 : !plan.rows<16, f32>
    %l = plan.buffer offset = 16384 : !plan.rows<8, f32>
    plan.embedding @emb[%t] -> %h : !plan.rows<1, i32>, !plan.rows<16, f32>
    // expected-error @+1 {{is not a matvec region: it holds no plan.linear or plan.logits}}
    plan.dispatch #plan.matvec<workgroup_size = 256, rows_per_workgroup = 8, threads_per_row = 32, vector_bytes = 16, tokens_per_pass = 1, activations = f32, tiles = rows> {
      plan.add %h, %h -> %y : !plan.rows<16, f32>, !plan.rows<16, f32>, !plan.rows<16, f32>
    }
    plan.logits %y, @emb -> %l : !plan.rows<16, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @n16 : tensor<16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @n8 : tensor<8xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @k16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @h16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f16>
  fm.param @w12 : tensor<12x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 8, kv_heads = 2, head_dim = 8 : f32
  plan.program @decode max_tokens = 1, arena_bytes = 65536 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 1024 : !plan.rows<1, i32>
    %h = plan.buffer offset = 2048 : !plan.rows<16, f32>
    %x = plan.buffer offset = 4096 : !plan.rows<16, f32>
    %y = plan.buffer offset = 6144 : !plan.rows<16, f32>
    %z = plan.buffer offset = 8192 : !plan.rows<16, f32>
    %u = plan.buffer offset = 10240 : !plan.rows<16, f32>
    %w = plan.buffer offset = 12288 : !plan.rows<12, f32>
    %a = plan.buffer offset = 14336 : !plan.rows<16, f32>
    %l = plan.buffer offset = 16384 : !plan.rows<8, f32>
    plan.embedding @emb[%t] -> %h : !plan.rows<1, i32>, !plan.rows<16, f32>
    // expected-error @+1 {{is not a matvec region: its products read different inputs}}
    plan.dispatch #plan.matvec<workgroup_size = 256, rows_per_workgroup = 8, threads_per_row = 32, vector_bytes = 16, tokens_per_pass = 1, activations = f32, tiles = rows> {
      plan.linear %h, @w16 -> %y : !plan.rows<16, f32>, !plan.rows<16, f32>
      plan.linear %a, @k16 -> %z : !plan.rows<16, f32>, !plan.rows<16, f32>
    }
    plan.logits %y, @emb -> %l : !plan.rows<16, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @n16 : tensor<16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @n8 : tensor<8xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @k16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @h16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f16>
  fm.param @w12 : tensor<12x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 8, kv_heads = 2, head_dim = 8 : f32
  plan.program @decode max_tokens = 1, arena_bytes = 65536 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 1024 : !plan.rows<1, i32>
    %h = plan.buffer offset = 2048 : !plan.rows<16, f32>
    %x = plan.buffer offset = 4096 : !plan.rows<16, f32>
    %y = plan.buffer offset = 6144 : !plan.rows<16, f32>
    %z = plan.buffer offset = 8192 : !plan.rows<16, f32>
    %u = plan.buffer offset = 10240 : !plan.rows<16, f32>
    %w = plan.buffer offset = 12288 : !plan.rows<12, f32>
    %a = plan.buffer offset = 14336 : !plan.rows<16, f32>
    %l = plan.buffer offset = 16384 : !plan.rows<8, f32>
    plan.embedding @emb[%t] -> %h : !plan.rows<1, i32>, !plan.rows<16, f32>
    // expected-error @+1 {{is not a matvec region: the products' input is computed by 'plan.activation', which is no prologue (a norm of whole rows)}}
    plan.dispatch #plan.matvec<workgroup_size = 256, rows_per_workgroup = 8, threads_per_row = 32, vector_bytes = 16, tokens_per_pass = 1, activations = f32, tiles = rows> {
      plan.activation relu %h -> %x : !plan.rows<16, f32>, !plan.rows<16, f32>
      plan.linear %x, @w16 -> %y : !plan.rows<16, f32>, !plan.rows<16, f32>
    }
    plan.logits %y, @emb -> %l : !plan.rows<16, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @n16 : tensor<16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @n8 : tensor<8xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @k16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @h16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f16>
  fm.param @w12 : tensor<12x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 8, kv_heads = 2, head_dim = 8 : f32
  plan.program @decode max_tokens = 1, arena_bytes = 65536 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 1024 : !plan.rows<1, i32>
    %h = plan.buffer offset = 2048 : !plan.rows<16, f32>
    %x = plan.buffer offset = 4096 : !plan.rows<16, f32>
    %y = plan.buffer offset = 6144 : !plan.rows<16, f32>
    %z = plan.buffer offset = 8192 : !plan.rows<16, f32>
    %u = plan.buffer offset = 10240 : !plan.rows<16, f32>
    %w = plan.buffer offset = 12288 : !plan.rows<12, f32>
    %a = plan.buffer offset = 14336 : !plan.rows<16, f32>
    %l = plan.buffer offset = 16384 : !plan.rows<8, f32>
    plan.embedding @emb[%t] -> %h : !plan.rows<1, i32>, !plan.rows<16, f32>
    // expected-error @+1 {{is not a matvec region: the prologue norm must come first}}
    plan.dispatch #plan.matvec<workgroup_size = 256, rows_per_workgroup = 8, threads_per_row = 32, vector_bytes = 16, tokens_per_pass = 1, activations = f32, tiles = rows> {
      plan.linear %x, @w16 -> %y : !plan.rows<16, f32>, !plan.rows<16, f32>
      plan.rms_norm %h, @n16 -> %x eps = 1.0e-05 group_size = 16 : !plan.rows<16, f32>, !plan.rows<16, f32>
    }
    plan.logits %y, @emb -> %l : !plan.rows<16, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @n16 : tensor<16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @n8 : tensor<8xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @k16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @h16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f16>
  fm.param @w12 : tensor<12x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 8, kv_heads = 2, head_dim = 8 : f32
  plan.program @decode max_tokens = 1, arena_bytes = 65536 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 1024 : !plan.rows<1, i32>
    %h = plan.buffer offset = 2048 : !plan.rows<16, f32>
    %x = plan.buffer offset = 4096 : !plan.rows<16, f32>
    %y = plan.buffer offset = 6144 : !plan.rows<16, f32>
    %z = plan.buffer offset = 8192 : !plan.rows<16, f32>
    %u = plan.buffer offset = 10240 : !plan.rows<16, f32>
    %w = plan.buffer offset = 12288 : !plan.rows<12, f32>
    %a = plan.buffer offset = 14336 : !plan.rows<16, f32>
    %l = plan.buffer offset = 16384 : !plan.rows<8, f32>
    plan.embedding @emb[%t] -> %h : !plan.rows<1, i32>, !plan.rows<16, f32>
    // expected-error @+1 {{is not a matvec region: the prologue's output is read by a kernel that is not one of the products}}
    plan.dispatch #plan.matvec<workgroup_size = 256, rows_per_workgroup = 8, threads_per_row = 32, vector_bytes = 16, tokens_per_pass = 1, activations = f32, tiles = rows> {
      plan.rms_norm %h, @n16 -> %x eps = 1.0e-05 group_size = 16 : !plan.rows<16, f32>, !plan.rows<16, f32>
      plan.linear %x, @w16 -> %y : !plan.rows<16, f32>, !plan.rows<16, f32>
    }
    plan.add %x, %y -> %z : !plan.rows<16, f32>, !plan.rows<16, f32>, !plan.rows<16, f32>
    plan.logits %z, @emb -> %l : !plan.rows<16, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @n16 : tensor<16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @n8 : tensor<8xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @k16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @h16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f16>
  fm.param @w12 : tensor<12x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 8, kv_heads = 2, head_dim = 8 : f32
  plan.program @decode max_tokens = 1, arena_bytes = 65536 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 1024 : !plan.rows<1, i32>
    %h = plan.buffer offset = 2048 : !plan.rows<16, f32>
    %x = plan.buffer offset = 4096 : !plan.rows<16, f32>
    %y = plan.buffer offset = 6144 : !plan.rows<16, f32>
    %z = plan.buffer offset = 8192 : !plan.rows<16, f32>
    %u = plan.buffer offset = 10240 : !plan.rows<16, f32>
    %w = plan.buffer offset = 12288 : !plan.rows<12, f32>
    %a = plan.buffer offset = 14336 : !plan.rows<16, f32>
    %l = plan.buffer offset = 16384 : !plan.rows<8, f32>
    plan.embedding @emb[%t] -> %h : !plan.rows<1, i32>, !plan.rows<16, f32>
    // expected-error @+1 {{is not a matvec region: 'plan.mul' does not fit the epilogue of a product}}
    plan.dispatch #plan.matvec<workgroup_size = 256, rows_per_workgroup = 8, threads_per_row = 32, vector_bytes = 16, tokens_per_pass = 1, activations = f32, tiles = rows> {
      plan.linear %h, @w16 -> %x : !plan.rows<16, f32>, !plan.rows<16, f32>
      plan.mul %x, %h -> %y : !plan.rows<16, f32>, !plan.rows<16, f32>, !plan.rows<16, f32>
    }
    plan.logits %y, @emb -> %l : !plan.rows<16, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @n16 : tensor<16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @n8 : tensor<8xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @k16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @h16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f16>
  fm.param @w12 : tensor<12x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 8, kv_heads = 2, head_dim = 8 : f32
  plan.program @decode max_tokens = 1, arena_bytes = 65536 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 1024 : !plan.rows<1, i32>
    %h = plan.buffer offset = 2048 : !plan.rows<16, f32>
    %x = plan.buffer offset = 4096 : !plan.rows<16, f32>
    %y = plan.buffer offset = 6144 : !plan.rows<16, f32>
    %z = plan.buffer offset = 8192 : !plan.rows<16, f32>
    %u = plan.buffer offset = 10240 : !plan.rows<16, f32>
    %w = plan.buffer offset = 12288 : !plan.rows<12, f32>
    %a = plan.buffer offset = 14336 : !plan.rows<16, f32>
    %l = plan.buffer offset = 16384 : !plan.rows<8, f32>
    plan.embedding @emb[%t] -> %h : !plan.rows<1, i32>, !plan.rows<16, f32>
    // expected-error @+1 {{is not a matvec region: a plan.glu must combine two products of the dispatch, gate then up, each read only by it}}
    plan.dispatch #plan.matvec<workgroup_size = 256, rows_per_workgroup = 8, threads_per_row = 32, vector_bytes = 16, tokens_per_pass = 1, activations = f32, tiles = rows> {
      plan.linear %h, @w16 -> %x : !plan.rows<16, f32>, !plan.rows<16, f32>
      plan.glu silu %x, %h -> %y : !plan.rows<16, f32>, !plan.rows<16, f32>, !plan.rows<16, f32>
    }
    plan.logits %y, @emb -> %l : !plan.rows<16, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @n16 : tensor<16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @n8 : tensor<8xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @k16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @h16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f16>
  fm.param @w12 : tensor<12x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 8, kv_heads = 2, head_dim = 8 : f32
  plan.program @decode max_tokens = 1, arena_bytes = 65536 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 1024 : !plan.rows<1, i32>
    %h = plan.buffer offset = 2048 : !plan.rows<16, f32>
    %x = plan.buffer offset = 4096 : !plan.rows<16, f32>
    %y = plan.buffer offset = 6144 : !plan.rows<16, f32>
    %z = plan.buffer offset = 8192 : !plan.rows<16, f32>
    %u = plan.buffer offset = 10240 : !plan.rows<16, f32>
    %w = plan.buffer offset = 12288 : !plan.rows<12, f32>
    %a = plan.buffer offset = 14336 : !plan.rows<16, f32>
    %l = plan.buffer offset = 16384 : !plan.rows<8, f32>
    plan.embedding @emb[%t] -> %h : !plan.rows<1, i32>, !plan.rows<16, f32>
    // expected-error @+1 {{is not a matvec region: a residual add must add another buffer}}
    plan.dispatch #plan.matvec<workgroup_size = 256, rows_per_workgroup = 8, threads_per_row = 32, vector_bytes = 16, tokens_per_pass = 1, activations = f32, tiles = rows> {
      plan.linear %h, @w16 -> %x : !plan.rows<16, f32>, !plan.rows<16, f32>
      plan.add %x, %x -> %y : !plan.rows<16, f32>, !plan.rows<16, f32>, !plan.rows<16, f32>
    }
    plan.logits %y, @emb -> %l : !plan.rows<16, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @n16 : tensor<16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @n8 : tensor<8xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @k16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @h16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f16>
  fm.param @w12 : tensor<12x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 8, kv_heads = 2, head_dim = 8 : f32
  plan.program @decode max_tokens = 1, arena_bytes = 65536 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 1024 : !plan.rows<1, i32>
    %h = plan.buffer offset = 2048 : !plan.rows<16, f32>
    %x = plan.buffer offset = 4096 : !plan.rows<16, f32>
    %y = plan.buffer offset = 6144 : !plan.rows<16, f32>
    %z = plan.buffer offset = 8192 : !plan.rows<16, f32>
    %u = plan.buffer offset = 10240 : !plan.rows<16, f32>
    %w = plan.buffer offset = 12288 : !plan.rows<12, f32>
    %a = plan.buffer offset = 14336 : !plan.rows<16, f32>
    %l = plan.buffer offset = 16384 : !plan.rows<8, f32>
    plan.embedding @emb[%t] -> %h : !plan.rows<1, i32>, !plan.rows<16, f32>
    // expected-error @+1 {{is not a matvec region: an epilogue norm must be per head (group_size smaller than the rows)}}
    plan.dispatch #plan.matvec<workgroup_size = 256, rows_per_workgroup = 8, threads_per_row = 32, vector_bytes = 16, tokens_per_pass = 1, activations = f32, tiles = rows> {
      plan.linear %h, @w16 -> %x : !plan.rows<16, f32>, !plan.rows<16, f32>
      plan.rms_norm %x, @n16 -> %y eps = 1.0e-05 group_size = 16 : !plan.rows<16, f32>, !plan.rows<16, f32>
    }
    plan.logits %y, @emb -> %l : !plan.rows<16, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @n16 : tensor<16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @n8 : tensor<8xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @k16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @h16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f16>
  fm.param @w12 : tensor<12x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 8, kv_heads = 2, head_dim = 8 : f32
  plan.program @decode max_tokens = 1, arena_bytes = 65536 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 1024 : !plan.rows<1, i32>
    %h = plan.buffer offset = 2048 : !plan.rows<16, f32>
    %x = plan.buffer offset = 4096 : !plan.rows<16, f32>
    %y = plan.buffer offset = 6144 : !plan.rows<16, f32>
    %z = plan.buffer offset = 8192 : !plan.rows<16, f32>
    %u = plan.buffer offset = 10240 : !plan.rows<16, f32>
    %w = plan.buffer offset = 12288 : !plan.rows<12, f32>
    %a = plan.buffer offset = 14336 : !plan.rows<16, f32>
    %l = plan.buffer offset = 16384 : !plan.rows<8, f32>
    plan.embedding @emb[%t] -> %h : !plan.rows<1, i32>, !plan.rows<16, f32>
    // expected-error @+1 {{is not a matvec region: qk-norm and RoPE disagree on the head size}}
    plan.dispatch #plan.matvec<workgroup_size = 256, rows_per_workgroup = 8, threads_per_row = 32, vector_bytes = 16, tokens_per_pass = 1, activations = f32, tiles = heads> {
      plan.linear %h, @w16 -> %x : !plan.rows<16, f32>, !plan.rows<16, f32>
      plan.rms_norm %x, @n8 -> %z eps = 1.0e-05 group_size = 8 : !plan.rows<16, f32>, !plan.rows<16, f32>
      plan.rope interleaved %z at %p -> %y head_dim = 16 rotary_dim = 16 theta = 1.0e+04 : !plan.rows<16, f32>, !plan.rows<1, i32>, !plan.rows<16, f32>
    }
    plan.logits %y, @emb -> %l : !plan.rows<16, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @n16 : tensor<16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @n8 : tensor<8xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @k16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @h16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f16>
  fm.param @w12 : tensor<12x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 8, kv_heads = 2, head_dim = 8 : f32
  plan.program @decode max_tokens = 1, arena_bytes = 65536 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 1024 : !plan.rows<1, i32>
    %h = plan.buffer offset = 2048 : !plan.rows<16, f32>
    %x = plan.buffer offset = 4096 : !plan.rows<16, f32>
    %y = plan.buffer offset = 6144 : !plan.rows<16, f32>
    %z = plan.buffer offset = 8192 : !plan.rows<16, f32>
    %u = plan.buffer offset = 10240 : !plan.rows<16, f32>
    %w = plan.buffer offset = 12288 : !plan.rows<12, f32>
    %a = plan.buffer offset = 14336 : !plan.rows<16, f32>
    %l = plan.buffer offset = 16384 : !plan.rows<8, f32>
    plan.embedding @emb[%t] -> %h : !plan.rows<1, i32>, !plan.rows<16, f32>
    // expected-error @+1 {{is not a matvec region: a plan.kv_append needs both its keys and its values from products of the dispatch}}
    plan.dispatch #plan.matvec<workgroup_size = 256, rows_per_workgroup = 8, threads_per_row = 32, vector_bytes = 16, tokens_per_pass = 1, activations = f32, tiles = heads> {
      plan.linear %h, @w16 -> %x : !plan.rows<16, f32>, !plan.rows<16, f32>
      plan.kv_append %x, %h at %p -> @c : !plan.rows<16, f32>, !plan.rows<16, f32>, !plan.rows<1, i32>
    }
    plan.add %h, %h -> %y : !plan.rows<16, f32>, !plan.rows<16, f32>, !plan.rows<16, f32>
    plan.logits %y, @emb -> %l : !plan.rows<16, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @n16 : tensor<16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @n8 : tensor<8xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @k16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @h16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f16>
  fm.param @w12 : tensor<12x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 8, kv_heads = 2, head_dim = 8 : f32
  plan.program @decode max_tokens = 1, arena_bytes = 65536 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 1024 : !plan.rows<1, i32>
    %h = plan.buffer offset = 2048 : !plan.rows<16, f32>
    %x = plan.buffer offset = 4096 : !plan.rows<16, f32>
    %y = plan.buffer offset = 6144 : !plan.rows<16, f32>
    %z = plan.buffer offset = 8192 : !plan.rows<16, f32>
    %u = plan.buffer offset = 10240 : !plan.rows<16, f32>
    %w = plan.buffer offset = 12288 : !plan.rows<12, f32>
    %a = plan.buffer offset = 14336 : !plan.rows<16, f32>
    %l = plan.buffer offset = 16384 : !plan.rows<8, f32>
    plan.embedding @emb[%t] -> %h : !plan.rows<1, i32>, !plan.rows<16, f32>
    // expected-error @+1 {{is not a matvec region: 'plan.rope' is neither prologue, product nor epilogue}}
    plan.dispatch #plan.matvec<workgroup_size = 256, rows_per_workgroup = 8, threads_per_row = 32, vector_bytes = 16, tokens_per_pass = 1, activations = f32, tiles = heads> {
      plan.linear %h, @w16 -> %x : !plan.rows<16, f32>, !plan.rows<16, f32>
      plan.rope interleaved %x at %p -> %z head_dim = 8 rotary_dim = 8 theta = 1.0e+04 : !plan.rows<16, f32>, !plan.rows<1, i32>, !plan.rows<16, f32>
    }
    plan.add %x, %z -> %y : !plan.rows<16, f32>, !plan.rows<16, f32>, !plan.rows<16, f32>
    plan.logits %y, @emb -> %l : !plan.rows<16, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @n16 : tensor<16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @n8 : tensor<8xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @k16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @h16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f16>
  fm.param @w12 : tensor<12x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 8, kv_heads = 2, head_dim = 8 : f32
  plan.program @decode max_tokens = 1, arena_bytes = 65536 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 1024 : !plan.rows<1, i32>
    %h = plan.buffer offset = 2048 : !plan.rows<16, f32>
    %x = plan.buffer offset = 4096 : !plan.rows<16, f32>
    %y = plan.buffer offset = 6144 : !plan.rows<16, f32>
    %z = plan.buffer offset = 8192 : !plan.rows<16, f32>
    %u = plan.buffer offset = 10240 : !plan.rows<16, f32>
    %w = plan.buffer offset = 12288 : !plan.rows<12, f32>
    %a = plan.buffer offset = 14336 : !plan.rows<16, f32>
    %l = plan.buffer offset = 16384 : !plan.rows<8, f32>
    plan.embedding @emb[%t] -> %h : !plan.rows<1, i32>, !plan.rows<16, f32>
    // expected-error @+1 {{is not a matvec region: weights @w16 and @h16 are stored differently}}
    plan.dispatch #plan.matvec<workgroup_size = 256, rows_per_workgroup = 8, threads_per_row = 32, vector_bytes = 16, tokens_per_pass = 1, activations = f32, tiles = rows> {
      plan.linear %h, @w16 -> %x : !plan.rows<16, f32>, !plan.rows<16, f32>
      plan.linear %h, @h16 -> %z : !plan.rows<16, f32>, !plan.rows<16, f32>
      plan.add %x, %z -> %y : !plan.rows<16, f32>, !plan.rows<16, f32>, !plan.rows<16, f32>
    }
    plan.logits %y, @emb -> %l : !plan.rows<16, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @n16 : tensor<16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @n8 : tensor<8xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @k16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @h16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f16>
  fm.param @w12 : tensor<12x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 8, kv_heads = 2, head_dim = 8 : f32
  plan.program @decode max_tokens = 1, arena_bytes = 65536 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 1024 : !plan.rows<1, i32>
    %h = plan.buffer offset = 2048 : !plan.rows<16, f32>
    %x = plan.buffer offset = 4096 : !plan.rows<16, f32>
    %y = plan.buffer offset = 6144 : !plan.rows<16, f32>
    %z = plan.buffer offset = 8192 : !plan.rows<16, f32>
    %u = plan.buffer offset = 10240 : !plan.rows<16, f32>
    %w = plan.buffer offset = 12288 : !plan.rows<12, f32>
    %a = plan.buffer offset = 14336 : !plan.rows<16, f32>
    %l = plan.buffer offset = 16384 : !plan.rows<8, f32>
    plan.embedding @emb[%t] -> %h : !plan.rows<1, i32>, !plan.rows<16, f32>
    // expected-error @+1 {{has tiles = heads but no per-head epilogue, which needs tiles = rows}}
    plan.dispatch #plan.matvec<workgroup_size = 256, rows_per_workgroup = 8, threads_per_row = 32, vector_bytes = 16, tokens_per_pass = 1, activations = f32, tiles = heads> {
      plan.linear %h, @w16 -> %y : !plan.rows<16, f32>, !plan.rows<16, f32>
    }
    plan.logits %y, @emb -> %l : !plan.rows<16, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @n16 : tensor<16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @n8 : tensor<8xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @k16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @h16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f16>
  fm.param @w12 : tensor<12x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 8, kv_heads = 2, head_dim = 8 : f32
  plan.program @decode max_tokens = 1, arena_bytes = 65536 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 1024 : !plan.rows<1, i32>
    %h = plan.buffer offset = 2048 : !plan.rows<16, f32>
    %x = plan.buffer offset = 4096 : !plan.rows<16, f32>
    %y = plan.buffer offset = 6144 : !plan.rows<16, f32>
    %z = plan.buffer offset = 8192 : !plan.rows<16, f32>
    %u = plan.buffer offset = 10240 : !plan.rows<16, f32>
    %w = plan.buffer offset = 12288 : !plan.rows<12, f32>
    %a = plan.buffer offset = 14336 : !plan.rows<16, f32>
    %l = plan.buffer offset = 16384 : !plan.rows<8, f32>
    plan.embedding @emb[%t] -> %h : !plan.rows<1, i32>, !plan.rows<16, f32>
    // expected-error @+1 {{has tiles = rows but per-head epilogues, which need tiles = heads}}
    plan.dispatch #plan.matvec<workgroup_size = 256, rows_per_workgroup = 8, threads_per_row = 32, vector_bytes = 16, tokens_per_pass = 1, activations = f32, tiles = rows> {
      plan.linear %h, @w16 -> %x : !plan.rows<16, f32>, !plan.rows<16, f32>
      plan.rope interleaved %x at %p -> %y head_dim = 8 rotary_dim = 8 theta = 1.0e+04 : !plan.rows<16, f32>, !plan.rows<1, i32>, !plan.rows<16, f32>
    }
    plan.logits %y, @emb -> %l : !plan.rows<16, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @n16 : tensor<16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @n8 : tensor<8xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @k16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @h16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f16>
  fm.param @w12 : tensor<12x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 8, kv_heads = 2, head_dim = 8 : f32
  plan.program @decode max_tokens = 1, arena_bytes = 65536 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 1024 : !plan.rows<1, i32>
    %h = plan.buffer offset = 2048 : !plan.rows<16, f32>
    %x = plan.buffer offset = 4096 : !plan.rows<16, f32>
    %y = plan.buffer offset = 6144 : !plan.rows<16, f32>
    %z = plan.buffer offset = 8192 : !plan.rows<16, f32>
    %u = plan.buffer offset = 10240 : !plan.rows<16, f32>
    %w = plan.buffer offset = 12288 : !plan.rows<12, f32>
    %a = plan.buffer offset = 14336 : !plan.rows<16, f32>
    %l = plan.buffer offset = 16384 : !plan.rows<8, f32>
    plan.embedding @emb[%t] -> %h : !plan.rows<1, i32>, !plan.rows<16, f32>
    // expected-error @+1 {{tiles heads of 8 rows, but rows_per_workgroup is 16}}
    plan.dispatch #plan.matvec<workgroup_size = 256, rows_per_workgroup = 16, threads_per_row = 32, vector_bytes = 16, tokens_per_pass = 1, activations = f32, tiles = heads> {
      plan.linear %h, @w16 -> %x : !plan.rows<16, f32>, !plan.rows<16, f32>
      plan.rope interleaved %x at %p -> %y head_dim = 8 rotary_dim = 8 theta = 1.0e+04 : !plan.rows<16, f32>, !plan.rows<1, i32>, !plan.rows<16, f32>
    }
    plan.logits %y, @emb -> %l : !plan.rows<16, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @n16 : tensor<16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @n8 : tensor<8xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @k16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @h16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f16>
  fm.param @w12 : tensor<12x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 8, kv_heads = 2, head_dim = 8 : f32
  plan.program @decode max_tokens = 1, arena_bytes = 65536 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 1024 : !plan.rows<1, i32>
    %h = plan.buffer offset = 2048 : !plan.rows<16, f32>
    %x = plan.buffer offset = 4096 : !plan.rows<16, f32>
    %y = plan.buffer offset = 6144 : !plan.rows<16, f32>
    %z = plan.buffer offset = 8192 : !plan.rows<16, f32>
    %u = plan.buffer offset = 10240 : !plan.rows<16, f32>
    %w = plan.buffer offset = 12288 : !plan.rows<12, f32>
    %a = plan.buffer offset = 14336 : !plan.rows<16, f32>
    %l = plan.buffer offset = 16384 : !plan.rows<8, f32>
    plan.embedding @emb[%t] -> %h : !plan.rows<1, i32>, !plan.rows<16, f32>
    // expected-error @+1 {{fuses a product of 12 rows, not a multiple of rows_per_workgroup 8}}
    plan.dispatch #plan.matvec<workgroup_size = 256, rows_per_workgroup = 8, threads_per_row = 32, vector_bytes = 16, tokens_per_pass = 1, activations = f32, tiles = rows> {
      plan.linear %h, @w16 -> %y : !plan.rows<16, f32>, !plan.rows<16, f32>
      plan.linear %h, @w12 -> %w : !plan.rows<16, f32>, !plan.rows<12, f32>
    }
    plan.add %y, %y -> %z : !plan.rows<16, f32>, !plan.rows<16, f32>, !plan.rows<16, f32>
    plan.logits %z, @emb -> %l : !plan.rows<16, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @n16 : tensor<16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @n8 : tensor<8xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @k16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @h16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f16>
  fm.param @w12 : tensor<12x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 8, kv_heads = 2, head_dim = 8 : f32
  plan.program @decode max_tokens = 1, arena_bytes = 65536 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 1024 : !plan.rows<1, i32>
    %h = plan.buffer offset = 2048 : !plan.rows<16, f32>
    %x = plan.buffer offset = 4096 : !plan.rows<16, f32>
    %y = plan.buffer offset = 6144 : !plan.rows<16, f32>
    %z = plan.buffer offset = 8192 : !plan.rows<16, f32>
    %u = plan.buffer offset = 10240 : !plan.rows<16, f32>
    %w = plan.buffer offset = 12288 : !plan.rows<12, f32>
    %a = plan.buffer offset = 14336 : !plan.rows<16, f32>
    %l = plan.buffer offset = 16384 : !plan.rows<8, f32>
    plan.embedding @emb[%t] -> %h : !plan.rows<1, i32>, !plan.rows<16, f32>
    // expected-error @+1 {{rounds activations to i8, but weight @w16 is not quantized}}
    plan.dispatch #plan.matvec<workgroup_size = 256, rows_per_workgroup = 8, threads_per_row = 32, vector_bytes = 16, tokens_per_pass = 1, activations = i8, tiles = rows> {
      plan.linear %h, @w16 -> %y : !plan.rows<16, f32>, !plan.rows<16, f32>
    }
    plan.logits %y, @emb -> %l : !plan.rows<16, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @n16 : tensor<16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @n8 : tensor<8xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @k16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @h16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f16>
  fm.param @w12 : tensor<12x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 8, kv_heads = 2, head_dim = 8 : f32
  plan.program @decode max_tokens = 1, arena_bytes = 65536 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 1024 : !plan.rows<1, i32>
    %h = plan.buffer offset = 2048 : !plan.rows<16, f32>
    %x = plan.buffer offset = 4096 : !plan.rows<16, f32>
    %y = plan.buffer offset = 6144 : !plan.rows<16, f32>
    %z = plan.buffer offset = 8192 : !plan.rows<16, f32>
    %u = plan.buffer offset = 10240 : !plan.rows<16, f32>
    %w = plan.buffer offset = 12288 : !plan.rows<12, f32>
    %a = plan.buffer offset = 14336 : !plan.rows<16, f32>
    %l = plan.buffer offset = 16384 : !plan.rows<8, f32>
    plan.embedding @emb[%t] -> %h : !plan.rows<1, i32>, !plan.rows<16, f32>
    // expected-error @+1 {{cache @nope does not name an fm.kv_cache}}
    plan.kv_append %h, %h at %p -> @nope : !plan.rows<16, f32>, !plan.rows<16, f32>, !plan.rows<1, i32>
    plan.add %h, %h -> %y : !plan.rows<16, f32>, !plan.rows<16, f32>, !plan.rows<16, f32>
    plan.logits %y, @emb -> %l : !plan.rows<16, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @n16 : tensor<16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @n8 : tensor<8xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @k16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @h16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f16>
  fm.param @w12 : tensor<12x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 8, kv_heads = 2, head_dim = 8 : f32
  plan.program @decode max_tokens = 1, arena_bytes = 65536 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 1024 : !plan.rows<1, i32>
    %h = plan.buffer offset = 2048 : !plan.rows<16, f32>
    %x = plan.buffer offset = 4096 : !plan.rows<16, f32>
    %y = plan.buffer offset = 6144 : !plan.rows<16, f32>
    %z = plan.buffer offset = 8192 : !plan.rows<16, f32>
    %u = plan.buffer offset = 10240 : !plan.rows<16, f32>
    %w = plan.buffer offset = 12288 : !plan.rows<12, f32>
    %a = plan.buffer offset = 14336 : !plan.rows<16, f32>
    %l = plan.buffer offset = 16384 : !plan.rows<8, f32>
    plan.embedding @emb[%t] -> %h : !plan.rows<1, i32>, !plan.rows<16, f32>
    plan.linear %h, @w12 -> %w : !plan.rows<16, f32>, !plan.rows<12, f32>
    // expected-error @+1 {{k and v have width 12, but cache @c holds 2 heads of 8}}
    plan.kv_append %w, %w at %p -> @c : !plan.rows<12, f32>, !plan.rows<12, f32>, !plan.rows<1, i32>
    plan.add %h, %h -> %y : !plan.rows<16, f32>, !plan.rows<16, f32>, !plan.rows<16, f32>
    plan.logits %y, @emb -> %l : !plan.rows<16, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @n16 : tensor<16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @n8 : tensor<8xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @k16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @h16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f16>
  fm.param @w12 : tensor<12x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 8, kv_heads = 2, head_dim = 8 : f32
  plan.program @decode max_tokens = 1, arena_bytes = 65536 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 1024 : !plan.rows<1, i32>
    %h = plan.buffer offset = 2048 : !plan.rows<16, f32>
    %x = plan.buffer offset = 4096 : !plan.rows<16, f32>
    %y = plan.buffer offset = 6144 : !plan.rows<16, f32>
    %z = plan.buffer offset = 8192 : !plan.rows<16, f32>
    %u = plan.buffer offset = 10240 : !plan.rows<16, f32>
    %w = plan.buffer offset = 12288 : !plan.rows<12, f32>
    %a = plan.buffer offset = 14336 : !plan.rows<16, f32>
    %l = plan.buffer offset = 16384 : !plan.rows<8, f32>
    plan.embedding @emb[%t] -> %h : !plan.rows<1, i32>, !plan.rows<16, f32>
    // expected-error @+1 {{'plan.kv_append' op k '!plan.rows<16, f32>' and v '!plan.rows<12, f32>' must have the same type}}
    plan.kv_append %h, %w at %p -> @c : !plan.rows<16, f32>, !plan.rows<12, f32>, !plan.rows<1, i32>
    plan.add %h, %h -> %y : !plan.rows<16, f32>, !plan.rows<16, f32>, !plan.rows<16, f32>
    plan.logits %y, @emb -> %l : !plan.rows<16, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

// A dispatch is one step of the liveness: %x and %y share bytes, which
// kernel by kernel would be fine (%x is dead once the linear read it), but
// not when both kernels run as one launch.
module {
  fm.param @emb : tensor<8x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @n16 : tensor<16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w16 : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  plan.program @decode max_tokens = 1, arena_bytes = 65536 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 1024 : !plan.rows<1, i32>
    %h = plan.buffer offset = 2048 : !plan.rows<16, f32>
    %x = plan.buffer offset = 4096 : !plan.rows<16, f32>
    // expected-error @+1 {{bytes [4096, 4160) overlap those of another buffer [4096, 4160) while both are live (kernels 1 to 1)}}
    %y = plan.buffer offset = 4096 : !plan.rows<16, f32>
    %l = plan.buffer offset = 16384 : !plan.rows<8, f32>
    plan.embedding @emb[%t] -> %h : !plan.rows<1, i32>, !plan.rows<16, f32>
    plan.dispatch #plan.matvec<workgroup_size = 256, rows_per_workgroup = 8, threads_per_row = 32, vector_bytes = 16, tokens_per_pass = 1, activations = f32, tiles = rows> {
      plan.rms_norm %h, @n16 -> %x eps = 1.0e-05 group_size = 16 : !plan.rows<16, f32>, !plan.rows<16, f32>
      plan.linear %x, @w16 -> %y : !plan.rows<16, f32>, !plan.rows<16, f32>
    }
    plan.logits %y, @emb -> %l : !plan.rows<16, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}
