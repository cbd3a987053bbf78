// RUN: fmc-opt %s --split-input-file --verify-diagnostics

// plan.last_row's verifier: what may follow it.

module {
  fm.param @emb : tensor<8x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 4, kv_heads = 1, head_dim = 2 : f32
  plan.program @prefill max_tokens = 4, arena_bytes = 4096 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 64 : !plan.rows<1, i32>
    %z = plan.buffer offset = 128 : !plan.rows<4, f32>
    %r = plan.buffer offset = 256 : !plan.rows<4, f32>
    %rp = plan.buffer offset = 384 : !plan.rows<1, i32>
    %k = plan.buffer offset = 448 : !plan.rows<2, f32>
    %a = plan.buffer offset = 512 : !plan.rows<4, f32>
    %l = plan.buffer offset = 1024 : !plan.rows<8, f32>
    plan.embedding @emb[%t] -> %z : !plan.rows<1, i32>, !plan.rows<4, f32>
    plan.last_row %z, %p -> %r, %rp : !plan.rows<4, f32>, !plan.rows<1, i32>, !plan.rows<4, f32>, !plan.rows<1, i32>
    // expected-error @+1 {{'plan.attention' op writes KV cache @c after plan.last_row, which would cache the last position only}}
    plan.attention global %r, %k, %k at %rp reads @c writes @c -> %a heads = 2, kv_heads = 1, head_dim = 2 scale = 1.0 : !plan.rows<4, f32>, !plan.rows<2, f32>, !plan.rows<2, f32>, !plan.rows<1, i32>, !plan.rows<4, f32>
    plan.logits %a, @emb -> %l : !plan.rows<4, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  plan.program @prefill max_tokens = 4, arena_bytes = 4096 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 64 : !plan.rows<1, i32>
    %z = plan.buffer offset = 128 : !plan.rows<4, f32>
    %r = plan.buffer offset = 256 : !plan.rows<4, f32>
    %rp = plan.buffer offset = 384 : !plan.rows<1, i32>
    %s = plan.buffer offset = 512 : !plan.rows<4, f32>
    %l = plan.buffer offset = 1024 : !plan.rows<8, f32>
    plan.embedding @emb[%t] -> %z : !plan.rows<1, i32>, !plan.rows<4, f32>
    plan.last_row %z, %p -> %r, %rp : !plan.rows<4, f32>, !plan.rows<1, i32>, !plan.rows<4, f32>, !plan.rows<1, i32>
    // expected-error @+1 {{'plan.add' op reads a buffer of every row of the run after plan.last_row kept only the last}}
    plan.add %r, %z -> %s : !plan.rows<4, f32>, !plan.rows<4, f32>, !plan.rows<4, f32>
    plan.logits %s, @emb -> %l : !plan.rows<4, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  plan.program @prefill max_tokens = 4, arena_bytes = 4096 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 64 : !plan.rows<1, i32>
    %z = plan.buffer offset = 128 : !plan.rows<4, f32>
    %r = plan.buffer offset = 256 : !plan.rows<4, f32>
    %rp = plan.buffer offset = 384 : !plan.rows<1, i32>
    %r2 = plan.buffer offset = 512 : !plan.rows<4, f32>
    %rp2 = plan.buffer offset = 640 : !plan.rows<1, i32>
    %l = plan.buffer offset = 1024 : !plan.rows<8, f32>
    plan.embedding @emb[%t] -> %z : !plan.rows<1, i32>, !plan.rows<4, f32>
    plan.last_row %z, %p -> %r, %rp : !plan.rows<4, f32>, !plan.rows<1, i32>, !plan.rows<4, f32>, !plan.rows<1, i32>
    // expected-error @+1 {{'plan.last_row' op follows another plan.last_row; a program keeps its last row once}}
    plan.last_row %r, %rp -> %r2, %rp2 : !plan.rows<4, f32>, !plan.rows<1, i32>, !plan.rows<4, f32>, !plan.rows<1, i32>
    plan.logits %r2, @emb -> %l : !plan.rows<4, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  plan.program @prefill max_tokens = 4, arena_bytes = 4096 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 64 : !plan.rows<1, i32>
    %z = plan.buffer offset = 128 : !plan.rows<4, f32>
    %r = plan.buffer offset = 256 : !plan.rows<2, f32>
    %rp = plan.buffer offset = 384 : !plan.rows<1, i32>
    %l = plan.buffer offset = 1024 : !plan.rows<8, f32>
    plan.embedding @emb[%t] -> %z : !plan.rows<1, i32>, !plan.rows<4, f32>
    // expected-error @+1 {{'plan.last_row' op input '!plan.rows<4, f32>' and output '!plan.rows<2, f32>' must have the same type}}
    plan.last_row %z, %p -> %r, %rp : !plan.rows<4, f32>, !plan.rows<1, i32>, !plan.rows<2, f32>, !plan.rows<1, i32>
    plan.logits %z, @emb -> %l : !plan.rows<4, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}
