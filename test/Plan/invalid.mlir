// RUN: fmc-opt %s --split-input-file --verify-diagnostics

// Every plan verifier message, one case per split. Each program is complete
// (%z, the token embeddings, feed its logits %l) so only the case's own error
// shows.

// expected-error @+1 {{buffer width must be positive, got 0}}
func.func private @f(!plan.rows<0, f32>)

// -----

// expected-error @+1 {{buffer element type must be f32, f16, bf16, i32 or i8, got 'f64'}}
func.func private @f(!plan.rows<4, f64>)

// -----

module {
  fm.param @emb : tensor<8x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w24 : tensor<2x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 4, kv_heads = 1, head_dim = 2 : f32
  fm.kv_cache @d linear capacity = 4, kv_heads = 2, head_dim = 2 : f32
  // expected-error @+1 {{max_tokens must be positive, got 0}}
  plan.program @decode max_tokens = 0, arena_bytes = 4096 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 64 : !plan.rows<1, i32>
    %l = plan.buffer offset = 128 : !plan.rows<8, f32>
    %z = plan.buffer offset = 1024 : !plan.rows<4, f32>
    plan.embedding @emb[%t] -> %z : !plan.rows<1, i32>, !plan.rows<4, f32>

    plan.logits %z, @emb -> %l : !plan.rows<4, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w24 : tensor<2x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 4, kv_heads = 1, head_dim = 2 : f32
  fm.kv_cache @d linear capacity = 4, kv_heads = 2, head_dim = 2 : f32
  plan.program @decode max_tokens = 1, arena_bytes = 4096 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 64 : !plan.rows<1, i32>
    %l = plan.buffer offset = 128 : !plan.rows<8, f32>
    %z = plan.buffer offset = 1024 : !plan.rows<4, f32>
    plan.embedding @emb[%t] -> %z : !plan.rows<1, i32>, !plan.rows<4, f32>
    %h = plan.buffer offset = 100 : !plan.rows<4, f32>  // expected-error {{offset 100 must be a non-negative multiple of 64}}
    plan.logits %z, @emb -> %l : !plan.rows<4, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w24 : tensor<2x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 4, kv_heads = 1, head_dim = 2 : f32
  fm.kv_cache @d linear capacity = 4, kv_heads = 2, head_dim = 2 : f32
  plan.program @decode max_tokens = 1, arena_bytes = 4096 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 64 : !plan.rows<1, i32>
    %l = plan.buffer offset = 128 : !plan.rows<8, f32>
    %z = plan.buffer offset = 1024 : !plan.rows<4, f32>
    plan.embedding @emb[%t] -> %z : !plan.rows<1, i32>, !plan.rows<4, f32>
    %h = plan.buffer offset = 4096 : !plan.rows<4, f32>  // expected-error {{spans [4096, 4160) at 1 tokens, beyond the arena of 4096 bytes}}
    plan.logits %z, @emb -> %l : !plan.rows<4, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w24 : tensor<2x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 4, kv_heads = 1, head_dim = 2 : f32
  fm.kv_cache @d linear capacity = 4, kv_heads = 2, head_dim = 2 : f32
  plan.program @decode max_tokens = 1, arena_bytes = 4096 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 64 : !plan.rows<1, i32>
    %l = plan.buffer offset = 128 : !plan.rows<8, f32>
    %z = plan.buffer offset = 1024 : !plan.rows<4, f32>
    plan.embedding @emb[%t] -> %z : !plan.rows<1, i32>, !plan.rows<4, f32>
    %h = plan.buffer offset = 192 : !plan.rows<4, f32>
    %n = plan.buffer offset = 192 : !plan.rows<4, f32>  // expected-error {{bytes [192, 256) overlap those of another buffer [192, 256) while both are live (kernels 2 to 3)}}
    plan.rms_norm %z -> %h eps = 1.0e-05 group_size = 4 : !plan.rows<4, f32>, !plan.rows<4, f32>
    plan.rms_norm %h -> %n eps = 1.0e-05 group_size = 4 : !plan.rows<4, f32>, !plan.rows<4, f32>
    plan.add %h, %n -> %z : !plan.rows<4, f32>, !plan.rows<4, f32>, !plan.rows<4, f32>
    plan.logits %z, @emb -> %l : !plan.rows<4, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w24 : tensor<2x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 4, kv_heads = 1, head_dim = 2 : f32
  fm.kv_cache @d linear capacity = 4, kv_heads = 2, head_dim = 2 : f32
  plan.program @decode max_tokens = 1, arena_bytes = 4096 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 64 : !plan.rows<1, i32>
    %l = plan.buffer offset = 128 : !plan.rows<8, f32>
    %z = plan.buffer offset = 1024 : !plan.rows<4, f32>
    plan.embedding @emb[%t] -> %z : !plan.rows<1, i32>, !plan.rows<4, f32>
    %h = plan.buffer offset = 192 : !plan.rows<4, f32>  // expected-error {{is read but no kernel writes it}}
    plan.add %h, %z -> %z : !plan.rows<4, f32>, !plan.rows<4, f32>, !plan.rows<4, f32>
    plan.logits %z, @emb -> %l : !plan.rows<4, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w24 : tensor<2x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 4, kv_heads = 1, head_dim = 2 : f32
  fm.kv_cache @d linear capacity = 4, kv_heads = 2, head_dim = 2 : f32
  plan.program @decode max_tokens = 1, arena_bytes = 4096 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 64 : !plan.rows<1, i32>
    %l = plan.buffer offset = 128 : !plan.rows<8, f32>
    %z = plan.buffer offset = 1024 : !plan.rows<4, f32>
    plan.embedding @emb[%t] -> %z : !plan.rows<1, i32>, !plan.rows<4, f32>
    plan.embedding @emb[%t] -> %p : !plan.rows<1, i32>, !plan.rows<1, i32>  // expected-error {{output must hold floats, got '!plan.rows<1, i32>'}}
    plan.logits %z, @emb -> %l : !plan.rows<4, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w24 : tensor<2x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 4, kv_heads = 1, head_dim = 2 : f32
  fm.kv_cache @d linear capacity = 4, kv_heads = 2, head_dim = 2 : f32
  plan.program @decode max_tokens = 1, arena_bytes = 4096 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 64 : !plan.rows<1, i32>
    %l = plan.buffer offset = 128 : !plan.rows<8, f32>
    %z = plan.buffer offset = 1024 : !plan.rows<4, f32>
    plan.embedding @emb[%t] -> %z : !plan.rows<1, i32>, !plan.rows<4, f32>
    plan.embedding @emb[%z] -> %z : !plan.rows<4, f32>, !plan.rows<4, f32>  // expected-error {{tokens must be !plan.rows<1, i32>, got '!plan.rows<4, f32>'}}
    plan.logits %z, @emb -> %l : !plan.rows<4, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w24 : tensor<2x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 4, kv_heads = 1, head_dim = 2 : f32
  fm.kv_cache @d linear capacity = 4, kv_heads = 2, head_dim = 2 : f32
  plan.program @decode max_tokens = 1, arena_bytes = 4096 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 64 : !plan.rows<1, i32>
    %l = plan.buffer offset = 128 : !plan.rows<8, f32>
    %z = plan.buffer offset = 1024 : !plan.rows<4, f32>
    plan.embedding @emb[%t] -> %z : !plan.rows<1, i32>, !plan.rows<4, f32>
    plan.rope interleaved %z at %p -> %z head_dim = 4 rotary_dim = 4 theta = 1.0e+04 : !plan.rows<4, f32>, !plan.rows<1, i32>, !plan.rows<4, f32>
    plan.embedding @emb[%t] -> %z : !plan.rows<1, i32>, !plan.rows<4, f32>
    plan.linear %z, @w24 -> %p : !plan.rows<4, f32>, !plan.rows<1, i32>  // expected-error {{output must hold floats, got '!plan.rows<1, i32>'}}
    plan.logits %z, @emb -> %l : !plan.rows<4, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w24 : tensor<2x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 4, kv_heads = 1, head_dim = 2 : f32
  fm.kv_cache @d linear capacity = 4, kv_heads = 2, head_dim = 2 : f32
  plan.program @decode max_tokens = 1, arena_bytes = 4096 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 64 : !plan.rows<1, i32>
    %l = plan.buffer offset = 128 : !plan.rows<8, f32>
    %z = plan.buffer offset = 1024 : !plan.rows<4, f32>
    plan.embedding @emb[%t] -> %z : !plan.rows<1, i32>, !plan.rows<4, f32>
    %h = plan.buffer offset = 192 : !plan.rows<4, f32>
    plan.add %z, %z -> %t : !plan.rows<4, f32>, !plan.rows<4, f32>, !plan.rows<1, i32>  // expected-error {{lhs '!plan.rows<4, f32>' and output '!plan.rows<1, i32>' must have the same type}}
    plan.logits %z, @emb -> %l : !plan.rows<4, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w24 : tensor<2x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 4, kv_heads = 1, head_dim = 2 : f32
  fm.kv_cache @d linear capacity = 4, kv_heads = 2, head_dim = 2 : f32
  plan.program @decode max_tokens = 1, arena_bytes = 4096 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 64 : !plan.rows<1, i32>
    %l = plan.buffer offset = 128 : !plan.rows<8, f32>
    %z = plan.buffer offset = 1024 : !plan.rows<4, f32>
    plan.embedding @emb[%t] -> %z : !plan.rows<1, i32>, !plan.rows<4, f32>
    %w = plan.buffer offset = 192 : !plan.rows<1, f32>
    plan.moe_route softmax %z -> %w, %t top_k = 1 : !plan.rows<4, f32>, !plan.rows<1, f32>, !plan.rows<1, i32>
    plan.logits %z, @emb -> %l : !plan.rows<4, f32>, !plan.rows<8, f32>
    // expected-error @+1 {{input buffer is overwritten by a kernel}}
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w24 : tensor<2x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 4, kv_heads = 1, head_dim = 2 : f32
  fm.kv_cache @d linear capacity = 4, kv_heads = 2, head_dim = 2 : f32
  plan.program @decode max_tokens = 1, arena_bytes = 4096 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 64 : !plan.rows<1, i32>
    %l = plan.buffer offset = 128 : !plan.rows<8, f32>
    %z = plan.buffer offset = 1024 : !plan.rows<4, f32>
    plan.embedding @emb[%t] -> %z : !plan.rows<1, i32>, !plan.rows<4, f32>
    %h = plan.buffer offset = 192 : !plan.rows<4, f32>
    plan.linear %z, @w24 -> %h : !plan.rows<4, f32>, !plan.rows<4, f32>  // expected-error {{weight @w24 has shape [2, 4], expected [4, 4]}}
    plan.logits %z, @emb -> %l : !plan.rows<4, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w24 : tensor<2x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 4, kv_heads = 1, head_dim = 2 : f32
  fm.kv_cache @d linear capacity = 4, kv_heads = 2, head_dim = 2 : f32
  plan.program @decode max_tokens = 1, arena_bytes = 4096 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 64 : !plan.rows<1, i32>
    %l = plan.buffer offset = 128 : !plan.rows<8, f32>
    %z = plan.buffer offset = 1024 : !plan.rows<4, f32>
    plan.embedding @emb[%t] -> %z : !plan.rows<1, i32>, !plan.rows<4, f32>
    %h = plan.buffer offset = 192 : !plan.rows<4, f32>
    plan.linear %z, @nothing -> %h : !plan.rows<4, f32>, !plan.rows<4, f32>  // expected-error {{weight @nothing does not name an fm.param}}
    plan.logits %z, @emb -> %l : !plan.rows<4, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w24 : tensor<2x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 4, kv_heads = 1, head_dim = 2 : f32
  fm.kv_cache @d linear capacity = 4, kv_heads = 2, head_dim = 2 : f32
  plan.program @decode max_tokens = 1, arena_bytes = 4096 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 64 : !plan.rows<1, i32>
    %l = plan.buffer offset = 128 : !plan.rows<8, f32>
    %z = plan.buffer offset = 1024 : !plan.rows<4, f32>
    plan.embedding @emb[%t] -> %z : !plan.rows<1, i32>, !plan.rows<4, f32>
    %g = plan.buffer offset = 192 : !plan.rows<2, f32>
    plan.embedding @emb[%t] -> %g : !plan.rows<1, i32>, !plan.rows<2, f32>  // expected-error {{table @emb has shape [8, 4], expected [vocab, 2]}}
    plan.logits %z, @emb -> %l : !plan.rows<4, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w24 : tensor<2x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 4, kv_heads = 1, head_dim = 2 : f32
  fm.kv_cache @d linear capacity = 4, kv_heads = 2, head_dim = 2 : f32
  plan.program @decode max_tokens = 1, arena_bytes = 4096 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 64 : !plan.rows<1, i32>
    %l = plan.buffer offset = 128 : !plan.rows<8, f32>
    %z = plan.buffer offset = 1024 : !plan.rows<4, f32>
    plan.embedding @emb[%t] -> %z : !plan.rows<1, i32>, !plan.rows<4, f32>
    %h = plan.buffer offset = 192 : !plan.rows<4, f32>
    plan.rms_norm %z, @w24 -> %h eps = 1.0e-05 group_size = 4 : !plan.rows<4, f32>, !plan.rows<4, f32>  // expected-error {{weight @w24 has shape [2, 4], expected [4]}}
    plan.logits %z, @emb -> %l : !plan.rows<4, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w24 : tensor<2x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 4, kv_heads = 1, head_dim = 2 : f32
  fm.kv_cache @d linear capacity = 4, kv_heads = 2, head_dim = 2 : f32
  plan.program @decode max_tokens = 1, arena_bytes = 4096 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 64 : !plan.rows<1, i32>
    %l = plan.buffer offset = 128 : !plan.rows<8, f32>
    %z = plan.buffer offset = 1024 : !plan.rows<4, f32>
    plan.embedding @emb[%t] -> %z : !plan.rows<1, i32>, !plan.rows<4, f32>
    %n = plan.buffer offset = 256 : !plan.rows<4, f32>
    plan.rms_norm %z -> %n eps = 1.0e-05 group_size = 3 : !plan.rows<4, f32>, !plan.rows<4, f32>  // expected-error {{group_size 3 must be positive and divide the width 4}}
    plan.logits %z, @emb -> %l : !plan.rows<4, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w24 : tensor<2x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 4, kv_heads = 1, head_dim = 2 : f32
  fm.kv_cache @d linear capacity = 4, kv_heads = 2, head_dim = 2 : f32
  plan.program @decode max_tokens = 1, arena_bytes = 4096 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 64 : !plan.rows<1, i32>
    %l = plan.buffer offset = 128 : !plan.rows<8, f32>
    %z = plan.buffer offset = 1024 : !plan.rows<4, f32>
    plan.embedding @emb[%t] -> %z : !plan.rows<1, i32>, !plan.rows<4, f32>
    %n = plan.buffer offset = 256 : !plan.rows<2, f32>
    plan.rms_norm %z -> %n eps = 1.0e-05 group_size = 4 : !plan.rows<4, f32>, !plan.rows<2, f32>  // expected-error {{input '!plan.rows<4, f32>' and output '!plan.rows<2, f32>' must have the same type}}
    plan.logits %z, @emb -> %l : !plan.rows<4, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w24 : tensor<2x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 4, kv_heads = 1, head_dim = 2 : f32
  fm.kv_cache @d linear capacity = 4, kv_heads = 2, head_dim = 2 : f32
  plan.program @decode max_tokens = 1, arena_bytes = 4096 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 64 : !plan.rows<1, i32>
    %l = plan.buffer offset = 128 : !plan.rows<8, f32>
    %z = plan.buffer offset = 1024 : !plan.rows<4, f32>
    plan.embedding @emb[%t] -> %z : !plan.rows<1, i32>, !plan.rows<4, f32>
    %n = plan.buffer offset = 256 : !plan.rows<4, f32>
    plan.rope interleaved %z at %p -> %n head_dim = 3 rotary_dim = 2 theta = 1.0e+04 : !plan.rows<4, f32>, !plan.rows<1, i32>, !plan.rows<4, f32>  // expected-error {{head_dim 3 must be positive, even and divide the width 4}}
    plan.logits %z, @emb -> %l : !plan.rows<4, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w24 : tensor<2x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 4, kv_heads = 1, head_dim = 2 : f32
  fm.kv_cache @d linear capacity = 4, kv_heads = 2, head_dim = 2 : f32
  plan.program @decode max_tokens = 1, arena_bytes = 4096 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 64 : !plan.rows<1, i32>
    %l = plan.buffer offset = 128 : !plan.rows<8, f32>
    %z = plan.buffer offset = 1024 : !plan.rows<4, f32>
    plan.embedding @emb[%t] -> %z : !plan.rows<1, i32>, !plan.rows<4, f32>
    %n = plan.buffer offset = 256 : !plan.rows<4, f32>
    plan.rope interleaved %z at %p -> %n head_dim = 4 rotary_dim = 6 theta = 1.0e+04 : !plan.rows<4, f32>, !plan.rows<1, i32>, !plan.rows<4, f32>  // expected-error {{rotary_dim 6 must be positive, even and at most head_dim 4}}
    plan.logits %z, @emb -> %l : !plan.rows<4, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w24 : tensor<2x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 4, kv_heads = 1, head_dim = 2 : f32
  fm.kv_cache @d linear capacity = 4, kv_heads = 2, head_dim = 2 : f32
  plan.program @decode max_tokens = 1, arena_bytes = 4096 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 64 : !plan.rows<1, i32>
    %l = plan.buffer offset = 128 : !plan.rows<8, f32>
    %z = plan.buffer offset = 1024 : !plan.rows<4, f32>
    plan.embedding @emb[%t] -> %z : !plan.rows<1, i32>, !plan.rows<4, f32>
    %n = plan.buffer offset = 256 : !plan.rows<4, f32>
    plan.rope interleaved %z at %p -> %n head_dim = 4 rotary_dim = 4 theta = 1.0e+04 {frequencies = array<f32: 1.0>} : !plan.rows<4, f32>, !plan.rows<1, i32>, !plan.rows<4, f32>  // expected-error {{frequencies has 1 entries, not rotary_dim / 2 = 2}}
    plan.logits %z, @emb -> %l : !plan.rows<4, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w24 : tensor<2x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 4, kv_heads = 1, head_dim = 2 : f32
  fm.kv_cache @d linear capacity = 4, kv_heads = 2, head_dim = 2 : f32
  plan.program @decode max_tokens = 1, arena_bytes = 4096 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 64 : !plan.rows<1, i32>
    %l = plan.buffer offset = 128 : !plan.rows<8, f32>
    %z = plan.buffer offset = 1024 : !plan.rows<4, f32>
    plan.embedding @emb[%t] -> %z : !plan.rows<1, i32>, !plan.rows<4, f32>
    %n = plan.buffer offset = 256 : !plan.rows<4, f32>
    plan.rope interleaved %z at %p -> %n head_dim = 4 rotary_dim = 4 theta = 1.0e+04 {frequencies = array<f32: 1.0, -2.0>} : !plan.rows<4, f32>, !plan.rows<1, i32>, !plan.rows<4, f32>  // expected-error {{frequencies[1] must be positive and finite, got -2}}
    plan.logits %z, @emb -> %l : !plan.rows<4, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w24 : tensor<2x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 4, kv_heads = 1, head_dim = 2 : f32
  fm.kv_cache @d linear capacity = 4, kv_heads = 2, head_dim = 2 : f32
  plan.program @decode max_tokens = 1, arena_bytes = 4096 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 64 : !plan.rows<1, i32>
    %l = plan.buffer offset = 128 : !plan.rows<8, f32>
    %z = plan.buffer offset = 1024 : !plan.rows<4, f32>
    plan.embedding @emb[%t] -> %z : !plan.rows<1, i32>, !plan.rows<4, f32>
    %n = plan.buffer offset = 256 : !plan.rows<4, f32>
    plan.rope interleaved %z at %p -> %n head_dim = 4 rotary_dim = 4 theta = 1.0e+04 {attention_factor = 0.0 : f64} : !plan.rows<4, f32>, !plan.rows<1, i32>, !plan.rows<4, f32>  // expected-error {{attention_factor must be positive, got 0}}
    plan.logits %z, @emb -> %l : !plan.rows<4, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w24 : tensor<2x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 4, kv_heads = 1, head_dim = 2 : f32
  fm.kv_cache @d linear capacity = 4, kv_heads = 2, head_dim = 2 : f32
  plan.program @decode max_tokens = 1, arena_bytes = 4096 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 64 : !plan.rows<1, i32>
    %l = plan.buffer offset = 128 : !plan.rows<8, f32>
    %z = plan.buffer offset = 1024 : !plan.rows<4, f32>
    plan.embedding @emb[%t] -> %z : !plan.rows<1, i32>, !plan.rows<4, f32>
    %n = plan.buffer offset = 256 : !plan.rows<4, f32>
    plan.rope interleaved %z at %z -> %n head_dim = 4 rotary_dim = 4 theta = 1.0e+04 : !plan.rows<4, f32>, !plan.rows<4, f32>, !plan.rows<4, f32>  // expected-error {{positions must be !plan.rows<1, i32>, got '!plan.rows<4, f32>'}}
    plan.logits %z, @emb -> %l : !plan.rows<4, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w24 : tensor<2x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 4, kv_heads = 1, head_dim = 2 : f32
  fm.kv_cache @d linear capacity = 4, kv_heads = 2, head_dim = 2 : f32
  plan.program @decode max_tokens = 1, arena_bytes = 4096 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 64 : !plan.rows<1, i32>
    %l = plan.buffer offset = 128 : !plan.rows<8, f32>
    %z = plan.buffer offset = 1024 : !plan.rows<4, f32>
    plan.embedding @emb[%t] -> %z : !plan.rows<1, i32>, !plan.rows<4, f32>
    %q = plan.buffer offset = 192 : !plan.rows<6, f32>
    %k = plan.buffer offset = 256 : !plan.rows<4, f32>
    %v = plan.buffer offset = 320 : !plan.rows<4, f32>
    %o = plan.buffer offset = 384 : !plan.rows<6, f32>
    plan.attention global %q, %k, %v at %p reads @c writes @c -> %o heads = 3, kv_heads = 2, head_dim = 2 scale = 0.5 : !plan.rows<6, f32>, !plan.rows<4, f32>, !plan.rows<4, f32>, !plan.rows<1, i32>, !plan.rows<6, f32>  // expected-error {{heads (3) must be a positive multiple of kv_heads (2) and head_dim (2) positive}}
    plan.logits %z, @emb -> %l : !plan.rows<4, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w24 : tensor<2x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 4, kv_heads = 1, head_dim = 2 : f32
  fm.kv_cache @d linear capacity = 4, kv_heads = 2, head_dim = 2 : f32
  plan.program @decode max_tokens = 1, arena_bytes = 4096 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 64 : !plan.rows<1, i32>
    %l = plan.buffer offset = 128 : !plan.rows<8, f32>
    %z = plan.buffer offset = 1024 : !plan.rows<4, f32>
    plan.embedding @emb[%t] -> %z : !plan.rows<1, i32>, !plan.rows<4, f32>
    %q = plan.buffer offset = 192 : !plan.rows<8, f32>
    %k = plan.buffer offset = 256 : !plan.rows<2, f32>
    %v = plan.buffer offset = 320 : !plan.rows<2, f32>
    %o = plan.buffer offset = 384 : !plan.rows<8, f32>
    plan.attention global %q, %k, %v at %p reads @c writes @c -> %o heads = 2, kv_heads = 1, head_dim = 2 scale = 0.5 : !plan.rows<8, f32>, !plan.rows<2, f32>, !plan.rows<2, f32>, !plan.rows<1, i32>, !plan.rows<8, f32>  // expected-error {{q has width 8, expected heads * head_dim = 4}}
    plan.logits %z, @emb -> %l : !plan.rows<4, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w24 : tensor<2x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 4, kv_heads = 1, head_dim = 2 : f32
  fm.kv_cache @d linear capacity = 4, kv_heads = 2, head_dim = 2 : f32
  plan.program @decode max_tokens = 1, arena_bytes = 4096 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 64 : !plan.rows<1, i32>
    %l = plan.buffer offset = 128 : !plan.rows<8, f32>
    %z = plan.buffer offset = 1024 : !plan.rows<4, f32>
    plan.embedding @emb[%t] -> %z : !plan.rows<1, i32>, !plan.rows<4, f32>
    %q = plan.buffer offset = 192 : !plan.rows<4, f32>
    %k = plan.buffer offset = 256 : !plan.rows<4, f32>
    %v = plan.buffer offset = 320 : !plan.rows<4, f32>
    %o = plan.buffer offset = 384 : !plan.rows<4, f32>
    plan.attention global %q, %k, %v at %p reads @c writes @c -> %o heads = 2, kv_heads = 1, head_dim = 2 scale = 0.5 : !plan.rows<4, f32>, !plan.rows<4, f32>, !plan.rows<4, f32>, !plan.rows<1, i32>, !plan.rows<4, f32>  // expected-error {{k and v must have width kv_heads * head_dim = 2, got 4}}
    plan.logits %z, @emb -> %l : !plan.rows<4, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w24 : tensor<2x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 4, kv_heads = 1, head_dim = 2 : f32
  fm.kv_cache @d linear capacity = 4, kv_heads = 2, head_dim = 2 : f32
  plan.program @decode max_tokens = 1, arena_bytes = 4096 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 64 : !plan.rows<1, i32>
    %l = plan.buffer offset = 128 : !plan.rows<8, f32>
    %z = plan.buffer offset = 1024 : !plan.rows<4, f32>
    plan.embedding @emb[%t] -> %z : !plan.rows<1, i32>, !plan.rows<4, f32>
    %q = plan.buffer offset = 192 : !plan.rows<4, f32>
    %k = plan.buffer offset = 256 : !plan.rows<2, f32>
    %v = plan.buffer offset = 320 : !plan.rows<2, f32>
    %o = plan.buffer offset = 384 : !plan.rows<4, f32>
    plan.attention global %q, %k, %v at %p reads @c writes @c -> %o heads = 2, kv_heads = 1, head_dim = 2 scale = 0.5 {window = 2 : i64} : !plan.rows<4, f32>, !plan.rows<2, f32>, !plan.rows<2, f32>, !plan.rows<1, i32>, !plan.rows<4, f32>  // expected-error {{global attention cannot have a window}}
    plan.logits %z, @emb -> %l : !plan.rows<4, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w24 : tensor<2x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 4, kv_heads = 1, head_dim = 2 : f32
  fm.kv_cache @d linear capacity = 4, kv_heads = 2, head_dim = 2 : f32
  plan.program @decode max_tokens = 1, arena_bytes = 4096 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 64 : !plan.rows<1, i32>
    %l = plan.buffer offset = 128 : !plan.rows<8, f32>
    %z = plan.buffer offset = 1024 : !plan.rows<4, f32>
    plan.embedding @emb[%t] -> %z : !plan.rows<1, i32>, !plan.rows<4, f32>
    %q = plan.buffer offset = 192 : !plan.rows<4, f32>
    %k = plan.buffer offset = 256 : !plan.rows<2, f32>
    %v = plan.buffer offset = 320 : !plan.rows<2, f32>
    %o = plan.buffer offset = 384 : !plan.rows<4, f32>
    plan.attention chunked %q, %k, %v at %p reads @c writes @c -> %o heads = 2, kv_heads = 1, head_dim = 2 scale = 0.5 : !plan.rows<4, f32>, !plan.rows<2, f32>, !plan.rows<2, f32>, !plan.rows<1, i32>, !plan.rows<4, f32>  // expected-error {{chunked attention needs a positive window}}
    plan.logits %z, @emb -> %l : !plan.rows<4, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w24 : tensor<2x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 4, kv_heads = 1, head_dim = 2 : f32
  fm.kv_cache @d linear capacity = 4, kv_heads = 2, head_dim = 2 : f32
  plan.program @decode max_tokens = 1, arena_bytes = 4096 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 64 : !plan.rows<1, i32>
    %l = plan.buffer offset = 128 : !plan.rows<8, f32>
    %z = plan.buffer offset = 1024 : !plan.rows<4, f32>
    plan.embedding @emb[%t] -> %z : !plan.rows<1, i32>, !plan.rows<4, f32>
    %q = plan.buffer offset = 192 : !plan.rows<4, f32>
    %k = plan.buffer offset = 256 : !plan.rows<2, f32>
    %v = plan.buffer offset = 320 : !plan.rows<2, f32>
    %o = plan.buffer offset = 384 : !plan.rows<4, f32>
    plan.attention global %q, %k, %v at %p reads @c writes @c -> %o heads = 2, kv_heads = 1, head_dim = 2 scale = 0.5 {softcap = -1.0 : f64} : !plan.rows<4, f32>, !plan.rows<2, f32>, !plan.rows<2, f32>, !plan.rows<1, i32>, !plan.rows<4, f32>  // expected-error {{softcap must be positive, got -1}}
    plan.logits %z, @emb -> %l : !plan.rows<4, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w24 : tensor<2x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 4, kv_heads = 1, head_dim = 2 : f32
  fm.kv_cache @d linear capacity = 4, kv_heads = 2, head_dim = 2 : f32
  plan.program @decode max_tokens = 1, arena_bytes = 4096 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 64 : !plan.rows<1, i32>
    %l = plan.buffer offset = 128 : !plan.rows<8, f32>
    %z = plan.buffer offset = 1024 : !plan.rows<4, f32>
    plan.embedding @emb[%t] -> %z : !plan.rows<1, i32>, !plan.rows<4, f32>
    %q = plan.buffer offset = 192 : !plan.rows<4, f32>
    %k = plan.buffer offset = 256 : !plan.rows<2, f32>
    %v = plan.buffer offset = 320 : !plan.rows<2, f32>
    %o = plan.buffer offset = 384 : !plan.rows<4, f32>
    plan.attention global %q, %k, %v at %p reads @c writes @d -> %o heads = 2, kv_heads = 1, head_dim = 2 scale = 0.5 : !plan.rows<4, f32>, !plan.rows<2, f32>, !plan.rows<2, f32>, !plan.rows<1, i32>, !plan.rows<4, f32>  // expected-error {{writes @d but reads @c; a writing attention reads its own cache}}
    plan.logits %z, @emb -> %l : !plan.rows<4, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w24 : tensor<2x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 4, kv_heads = 1, head_dim = 2 : f32
  fm.kv_cache @d linear capacity = 4, kv_heads = 2, head_dim = 2 : f32
  plan.program @decode max_tokens = 1, arena_bytes = 4096 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 64 : !plan.rows<1, i32>
    %l = plan.buffer offset = 128 : !plan.rows<8, f32>
    %z = plan.buffer offset = 1024 : !plan.rows<4, f32>
    plan.embedding @emb[%t] -> %z : !plan.rows<1, i32>, !plan.rows<4, f32>
    %q = plan.buffer offset = 192 : !plan.rows<4, f32>
    %k = plan.buffer offset = 256 : !plan.rows<2, f32>
    %o = plan.buffer offset = 384 : !plan.rows<4, f32>
    plan.attention global %q, %k, %k at %p reads @c -> %o heads = 2, kv_heads = 1, head_dim = 2 scale = 0.5 : !plan.rows<4, f32>, !plan.rows<2, f32>, !plan.rows<2, f32>, !plan.rows<1, i32>, !plan.rows<4, f32>  // expected-error {{k, v and writes must be given together}}
    plan.logits %z, @emb -> %l : !plan.rows<4, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w24 : tensor<2x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 4, kv_heads = 1, head_dim = 2 : f32
  fm.kv_cache @d linear capacity = 4, kv_heads = 2, head_dim = 2 : f32
  plan.program @decode max_tokens = 1, arena_bytes = 4096 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 64 : !plan.rows<1, i32>
    %l = plan.buffer offset = 128 : !plan.rows<8, f32>
    %z = plan.buffer offset = 1024 : !plan.rows<4, f32>
    plan.embedding @emb[%t] -> %z : !plan.rows<1, i32>, !plan.rows<4, f32>
    %o = plan.buffer offset = 384 : !plan.rows<4, f32>
    plan.attention global %z at %p reads @d -> %o heads = 2, kv_heads = 1, head_dim = 2 scale = 0.5 : !plan.rows<4, f32>, !plan.rows<1, i32>, !plan.rows<4, f32>  // expected-error {{reads @d holds 2 heads of 2, expected 1 heads of 2}}
    plan.logits %z, @emb -> %l : !plan.rows<4, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w24 : tensor<2x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 4, kv_heads = 1, head_dim = 2 : f32
  fm.kv_cache @d linear capacity = 4, kv_heads = 2, head_dim = 2 : f32
  plan.program @decode max_tokens = 1, arena_bytes = 4096 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 64 : !plan.rows<1, i32>
    %l = plan.buffer offset = 128 : !plan.rows<8, f32>
    %z = plan.buffer offset = 1024 : !plan.rows<4, f32>
    plan.embedding @emb[%t] -> %z : !plan.rows<1, i32>, !plan.rows<4, f32>
    %o = plan.buffer offset = 384 : !plan.rows<4, f32>
    plan.attention global %z at %p reads @emb -> %o heads = 2, kv_heads = 1, head_dim = 2 scale = 0.5 : !plan.rows<4, f32>, !plan.rows<1, i32>, !plan.rows<4, f32>  // expected-error {{reads @emb does not name an fm.kv_cache}}
    plan.logits %z, @emb -> %l : !plan.rows<4, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w24 : tensor<2x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 4, kv_heads = 1, head_dim = 2 : f32
  fm.kv_cache @d linear capacity = 4, kv_heads = 2, head_dim = 2 : f32
  plan.program @decode max_tokens = 1, arena_bytes = 4096 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 64 : !plan.rows<1, i32>
    %l = plan.buffer offset = 128 : !plan.rows<8, f32>
    %z = plan.buffer offset = 1024 : !plan.rows<4, f32>
    plan.embedding @emb[%t] -> %z : !plan.rows<1, i32>, !plan.rows<4, f32>
    %n = plan.buffer offset = 256 : !plan.rows<4, f32>
    %g = plan.buffer offset = 320 : !plan.rows<2, f32>
    plan.mul %z, %g -> %n : !plan.rows<4, f32>, !plan.rows<2, f32>, !plan.rows<4, f32>  // expected-error {{rhs '!plan.rows<2, f32>' must be '!plan.rows<4, f32>' or have width 1}}
    plan.logits %z, @emb -> %l : !plan.rows<4, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w24 : tensor<2x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 4, kv_heads = 1, head_dim = 2 : f32
  fm.kv_cache @d linear capacity = 4, kv_heads = 2, head_dim = 2 : f32
  plan.program @decode max_tokens = 1, arena_bytes = 4096 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 64 : !plan.rows<1, i32>
    %l = plan.buffer offset = 128 : !plan.rows<8, f32>
    %z = plan.buffer offset = 1024 : !plan.rows<4, f32>
    plan.embedding @emb[%t] -> %z : !plan.rows<1, i32>, !plan.rows<4, f32>
    %w = plan.buffer offset = 256 : !plan.rows<3, f32>
    %i = plan.buffer offset = 320 : !plan.rows<3, i32>
    plan.moe_route softmax %z -> %w, %i top_k = 5 : !plan.rows<4, f32>, !plan.rows<3, f32>, !plan.rows<3, i32>  // expected-error {{top_k 5 must be in [1, 4]}}
    plan.logits %z, @emb -> %l : !plan.rows<4, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w24 : tensor<2x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 4, kv_heads = 1, head_dim = 2 : f32
  fm.kv_cache @d linear capacity = 4, kv_heads = 2, head_dim = 2 : f32
  plan.program @decode max_tokens = 1, arena_bytes = 4096 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 64 : !plan.rows<1, i32>
    %l = plan.buffer offset = 128 : !plan.rows<8, f32>
    %z = plan.buffer offset = 1024 : !plan.rows<4, f32>
    plan.embedding @emb[%t] -> %z : !plan.rows<1, i32>, !plan.rows<4, f32>
    %w = plan.buffer offset = 256 : !plan.rows<1, f32>
    %i = plan.buffer offset = 320 : !plan.rows<1, f32>
    plan.moe_route softmax %z -> %w, %i top_k = 1 : !plan.rows<4, f32>, !plan.rows<1, f32>, !plan.rows<1, f32>  // expected-error {{indices must be !plan.rows<1, i32>, got '!plan.rows<1, f32>'}}
    plan.logits %z, @emb -> %l : !plan.rows<4, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w24 : tensor<2x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 4, kv_heads = 1, head_dim = 2 : f32
  fm.kv_cache @d linear capacity = 4, kv_heads = 2, head_dim = 2 : f32
  plan.program @decode max_tokens = 1, arena_bytes = 4096 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 64 : !plan.rows<1, i32>
    %l = plan.buffer offset = 128 : !plan.rows<8, f32>
    %z = plan.buffer offset = 1024 : !plan.rows<4, f32>
    plan.embedding @emb[%t] -> %z : !plan.rows<1, i32>, !plan.rows<4, f32>
    %w = plan.buffer offset = 192 : !plan.rows<2, f32>
    %i = plan.buffer offset = 256 : !plan.rows<2, i32>
    %y = plan.buffer offset = 384 : !plan.rows<4, f32>
    plan.moe_combine %w, %i [%z] -> %y : !plan.rows<2, f32>, !plan.rows<2, i32>, !plan.rows<4, f32>, !plan.rows<4, f32>  // expected-error {{selects 2 experts per token but has 1}}
    plan.logits %z, @emb -> %l : !plan.rows<4, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w24 : tensor<2x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 4, kv_heads = 1, head_dim = 2 : f32
  fm.kv_cache @d linear capacity = 4, kv_heads = 2, head_dim = 2 : f32
  plan.program @decode max_tokens = 1, arena_bytes = 4096 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 64 : !plan.rows<1, i32>
    %l = plan.buffer offset = 128 : !plan.rows<8, f32>
    %z = plan.buffer offset = 1024 : !plan.rows<4, f32>
    plan.embedding @emb[%t] -> %z : !plan.rows<1, i32>, !plan.rows<4, f32>
    %w = plan.buffer offset = 192 : !plan.rows<2, f32>
    %i = plan.buffer offset = 256 : !plan.rows<2, i32>
    %e = plan.buffer offset = 320 : !plan.rows<2, f32>
    %y = plan.buffer offset = 384 : !plan.rows<4, f32>
    plan.moe_combine %w, %i [%z, %e] -> %y : !plan.rows<2, f32>, !plan.rows<2, i32>, !plan.rows<4, f32>, !plan.rows<2, f32>, !plan.rows<4, f32>  // expected-error {{expert 1 has type '!plan.rows<2, f32>', expected '!plan.rows<4, f32>'}}
    plan.logits %z, @emb -> %l : !plan.rows<4, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w24 : tensor<2x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 4, kv_heads = 1, head_dim = 2 : f32
  fm.kv_cache @d linear capacity = 4, kv_heads = 2, head_dim = 2 : f32
  plan.program @decode max_tokens = 1, arena_bytes = 4096 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 64 : !plan.rows<1, i32>
    %l = plan.buffer offset = 128 : !plan.rows<8, f32>
    %z = plan.buffer offset = 1024 : !plan.rows<4, f32>
    plan.embedding @emb[%t] -> %z : !plan.rows<1, i32>, !plan.rows<4, f32>
    %h = plan.buffer offset = 192 : !plan.rows<2, f32>
    %m = plan.buffer offset = 512 : !plan.rows<8, f32>
    plan.linear %z, @w24 -> %h : !plan.rows<4, f32>, !plan.rows<2, f32>
    plan.logits %h, @emb -> %m : !plan.rows<2, f32>, !plan.rows<8, f32>  // expected-error {{weight @emb has shape [8, 4], expected [8, 2]}}
    plan.logits %z, @emb -> %l : !plan.rows<4, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w24 : tensor<2x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 4, kv_heads = 1, head_dim = 2 : f32
  fm.kv_cache @d linear capacity = 4, kv_heads = 2, head_dim = 2 : f32
  plan.program @decode max_tokens = 1, arena_bytes = 4096 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 64 : !plan.rows<1, i32>
    %l = plan.buffer offset = 128 : !plan.rows<8, f32>
    %z = plan.buffer offset = 1024 : !plan.rows<4, f32>
    plan.embedding @emb[%t] -> %z : !plan.rows<1, i32>, !plan.rows<4, f32>
    %m = plan.buffer offset = 512 : !plan.rows<8, f32>
    plan.logits %z, @emb -> %m {scale = 0.0 : f64} : !plan.rows<4, f32>, !plan.rows<8, f32>  // expected-error {{scale must be positive, got 0}}
    plan.logits %z, @emb -> %l : !plan.rows<4, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}
