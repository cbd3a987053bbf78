// RUN: fmc-opt %s --split-input-file --verify-diagnostics

// Every plan.moe, plan.track_combine, plan.all_reduce and plan.grouped_linear
// verifier message, one case per
// split. Each program is complete (%z, the token embeddings, feed its logits
// %l) so only the case's own error shows.

// -----

module {
  fm.param @emb : tensor<8x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @r : tensor<2x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @r5 : tensor<2x5xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @gu : tensor<2x4x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @gu3 : tensor<2x3x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @d : tensor<2x4x2xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @d3 : tensor<2x4x3xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sgu : tensor<6x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sgu5 : tensor<5x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sd : tensor<4x3xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sg : tensor<1x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sg2 : tensor<2x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @g2 : tensor<2x4x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  plan.program @decode max_tokens = 1, arena_bytes = 4096 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 64 : !plan.rows<1, i32>
    %l = plan.buffer offset = 128 : !plan.rows<8, f32>
    %z = plan.buffer offset = 1024 : !plan.rows<4, f32>
    plan.embedding @emb[%t] -> %z : !plan.rows<1, i32>, !plan.rows<4, f32>
    %y = plan.buffer offset = 384 : !plan.rows<4, f32>
    // expected-error @+1 {{top_k must be positive, got 0}}
    plan.moe softmax %z -> %y router @r gate_up @gu down @d top_k = 0 activation = silu : !plan.rows<4, f32>, !plan.rows<4, f32>
    plan.logits %z, @emb -> %l : !plan.rows<4, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @r : tensor<2x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @r5 : tensor<2x5xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @gu : tensor<2x4x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @gu3 : tensor<2x3x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @d : tensor<2x4x2xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @d3 : tensor<2x4x3xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sgu : tensor<6x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sgu5 : tensor<5x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sd : tensor<4x3xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sg : tensor<1x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sg2 : tensor<2x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @g2 : tensor<2x4x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  plan.program @decode max_tokens = 1, arena_bytes = 4096 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 64 : !plan.rows<1, i32>
    %l = plan.buffer offset = 128 : !plan.rows<8, f32>
    %z = plan.buffer offset = 1024 : !plan.rows<4, f32>
    plan.embedding @emb[%t] -> %z : !plan.rows<1, i32>, !plan.rows<4, f32>
    %y = plan.buffer offset = 384 : !plan.rows<4, f32>
    %h = plan.buffer offset = 512 : !plan.rows<2, f32>
    // expected-error @+1 {{input '!plan.rows<4, f32>' and output '!plan.rows<2, f32>' must be the same float rows}}
    plan.moe softmax %z -> %h router @r gate_up @gu down @d top_k = 1 activation = silu : !plan.rows<4, f32>, !plan.rows<2, f32>
    plan.logits %z, @emb -> %l : !plan.rows<4, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @r : tensor<2x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @r5 : tensor<2x5xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @gu : tensor<2x4x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @gu3 : tensor<2x3x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @d : tensor<2x4x2xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @d3 : tensor<2x4x3xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sgu : tensor<6x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sgu5 : tensor<5x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sd : tensor<4x3xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sg : tensor<1x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sg2 : tensor<2x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @g2 : tensor<2x4x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  plan.program @decode max_tokens = 1, arena_bytes = 4096 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 64 : !plan.rows<1, i32>
    %l = plan.buffer offset = 128 : !plan.rows<8, f32>
    %z = plan.buffer offset = 1024 : !plan.rows<4, f32>
    plan.embedding @emb[%t] -> %z : !plan.rows<1, i32>, !plan.rows<4, f32>
    %y = plan.buffer offset = 384 : !plan.rows<4, f32>
    // expected-error @+1 {{shared_gate is given without a shared expert}}
    plan.moe softmax %z -> %y router @r gate_up @gu down @d top_k = 1 activation = silu shared_gate @sg : !plan.rows<4, f32>, !plan.rows<4, f32>
    plan.logits %z, @emb -> %l : !plan.rows<4, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @r : tensor<2x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @r5 : tensor<2x5xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @gu : tensor<2x4x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @gu3 : tensor<2x3x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @d : tensor<2x4x2xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @d3 : tensor<2x4x3xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sgu : tensor<6x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sgu5 : tensor<5x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sd : tensor<4x3xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sg : tensor<1x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sg2 : tensor<2x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @g2 : tensor<2x4x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  plan.program @decode max_tokens = 1, arena_bytes = 4096 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 64 : !plan.rows<1, i32>
    %l = plan.buffer offset = 128 : !plan.rows<8, f32>
    %z = plan.buffer offset = 1024 : !plan.rows<4, f32>
    plan.embedding @emb[%t] -> %z : !plan.rows<1, i32>, !plan.rows<4, f32>
    %y = plan.buffer offset = 384 : !plan.rows<4, f32>
    // expected-error @+1 {{router @r5 has shape [2, 5], expected [-1, 4] (-1: any)}}
    plan.moe softmax %z -> %y router @r5 gate_up @gu down @d top_k = 1 activation = silu : !plan.rows<4, f32>, !plan.rows<4, f32>
    plan.logits %z, @emb -> %l : !plan.rows<4, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @r : tensor<2x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @r5 : tensor<2x5xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @gu : tensor<2x4x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @gu3 : tensor<2x3x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @d : tensor<2x4x2xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @d3 : tensor<2x4x3xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sgu : tensor<6x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sgu5 : tensor<5x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sd : tensor<4x3xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sg : tensor<1x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sg2 : tensor<2x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @g2 : tensor<2x4x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  plan.program @decode max_tokens = 1, arena_bytes = 4096 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 64 : !plan.rows<1, i32>
    %l = plan.buffer offset = 128 : !plan.rows<8, f32>
    %z = plan.buffer offset = 1024 : !plan.rows<4, f32>
    plan.embedding @emb[%t] -> %z : !plan.rows<1, i32>, !plan.rows<4, f32>
    %y = plan.buffer offset = 384 : !plan.rows<4, f32>
    // expected-error @+1 {{router @nope does not name an fm.param}}
    plan.moe softmax %z -> %y router @nope gate_up @gu down @d top_k = 1 activation = silu : !plan.rows<4, f32>, !plan.rows<4, f32>
    plan.logits %z, @emb -> %l : !plan.rows<4, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @r : tensor<2x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @r5 : tensor<2x5xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @gu : tensor<2x4x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @gu3 : tensor<2x3x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @d : tensor<2x4x2xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @d3 : tensor<2x4x3xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sgu : tensor<6x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sgu5 : tensor<5x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sd : tensor<4x3xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sg : tensor<1x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sg2 : tensor<2x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @g2 : tensor<2x4x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  plan.program @decode max_tokens = 1, arena_bytes = 4096 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 64 : !plan.rows<1, i32>
    %l = plan.buffer offset = 128 : !plan.rows<8, f32>
    %z = plan.buffer offset = 1024 : !plan.rows<4, f32>
    plan.embedding @emb[%t] -> %z : !plan.rows<1, i32>, !plan.rows<4, f32>
    %y = plan.buffer offset = 384 : !plan.rows<4, f32>
    // expected-error @+1 {{top_k 3 exceeds the 2 experts}}
    plan.moe softmax %z -> %y router @r gate_up @gu down @d top_k = 3 activation = silu : !plan.rows<4, f32>, !plan.rows<4, f32>
    plan.logits %z, @emb -> %l : !plan.rows<4, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @r : tensor<2x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @r5 : tensor<2x5xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @gu : tensor<2x4x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @gu3 : tensor<2x3x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @d : tensor<2x4x2xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @d3 : tensor<2x4x3xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sgu : tensor<6x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sgu5 : tensor<5x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sd : tensor<4x3xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sg : tensor<1x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sg2 : tensor<2x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @g2 : tensor<2x4x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  plan.program @decode max_tokens = 1, arena_bytes = 4096 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 64 : !plan.rows<1, i32>
    %l = plan.buffer offset = 128 : !plan.rows<8, f32>
    %z = plan.buffer offset = 1024 : !plan.rows<4, f32>
    plan.embedding @emb[%t] -> %z : !plan.rows<1, i32>, !plan.rows<4, f32>
    %y = plan.buffer offset = 384 : !plan.rows<4, f32>
    // expected-error @+1 {{gate_up @gu3 has 3 rows per expert; gate and up need an even count}}
    plan.moe softmax %z -> %y router @r gate_up @gu3 down @d top_k = 1 activation = silu : !plan.rows<4, f32>, !plan.rows<4, f32>
    plan.logits %z, @emb -> %l : !plan.rows<4, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @r : tensor<2x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @r5 : tensor<2x5xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @gu : tensor<2x4x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @gu3 : tensor<2x3x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @d : tensor<2x4x2xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @d3 : tensor<2x4x3xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sgu : tensor<6x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sgu5 : tensor<5x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sd : tensor<4x3xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sg : tensor<1x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sg2 : tensor<2x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @g2 : tensor<2x4x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  plan.program @decode max_tokens = 1, arena_bytes = 4096 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 64 : !plan.rows<1, i32>
    %l = plan.buffer offset = 128 : !plan.rows<8, f32>
    %z = plan.buffer offset = 1024 : !plan.rows<4, f32>
    plan.embedding @emb[%t] -> %z : !plan.rows<1, i32>, !plan.rows<4, f32>
    %y = plan.buffer offset = 384 : !plan.rows<4, f32>
    // expected-error @+1 {{down @d3 has shape [2, 4, 3], expected [2, 4, 2] (-1: any)}}
    plan.moe softmax %z -> %y router @r gate_up @gu down @d3 top_k = 1 activation = silu : !plan.rows<4, f32>, !plan.rows<4, f32>
    plan.logits %z, @emb -> %l : !plan.rows<4, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @r : tensor<2x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @r5 : tensor<2x5xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @gu : tensor<2x4x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @gu3 : tensor<2x3x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @d : tensor<2x4x2xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @d3 : tensor<2x4x3xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sgu : tensor<6x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sgu5 : tensor<5x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sd : tensor<4x3xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sg : tensor<1x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sg2 : tensor<2x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @g2 : tensor<2x4x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  plan.program @decode max_tokens = 1, arena_bytes = 4096 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 64 : !plan.rows<1, i32>
    %l = plan.buffer offset = 128 : !plan.rows<8, f32>
    %z = plan.buffer offset = 1024 : !plan.rows<4, f32>
    plan.embedding @emb[%t] -> %z : !plan.rows<1, i32>, !plan.rows<4, f32>
    %y = plan.buffer offset = 384 : !plan.rows<4, f32>
    // expected-error @+1 {{shared_gate_up @sgu5 has 5 rows; gate and up need an even count}}
    plan.moe softmax %z -> %y router @r gate_up @gu down @d top_k = 1 activation = silu shared(@sgu5, @sd) : !plan.rows<4, f32>, !plan.rows<4, f32>
    plan.logits %z, @emb -> %l : !plan.rows<4, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @r : tensor<2x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @r5 : tensor<2x5xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @gu : tensor<2x4x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @gu3 : tensor<2x3x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @d : tensor<2x4x2xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @d3 : tensor<2x4x3xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sgu : tensor<6x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sgu5 : tensor<5x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sd : tensor<4x3xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sg : tensor<1x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sg2 : tensor<2x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @g2 : tensor<2x4x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  plan.program @decode max_tokens = 1, arena_bytes = 4096 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 64 : !plan.rows<1, i32>
    %l = plan.buffer offset = 128 : !plan.rows<8, f32>
    %z = plan.buffer offset = 1024 : !plan.rows<4, f32>
    plan.embedding @emb[%t] -> %z : !plan.rows<1, i32>, !plan.rows<4, f32>
    %y = plan.buffer offset = 384 : !plan.rows<4, f32>
    // expected-error @+1 {{shared_down @d has shape [2, 4, 2], expected [4, 3] (-1: any)}}
    plan.moe softmax %z -> %y router @r gate_up @gu down @d top_k = 1 activation = silu shared(@sgu, @d) : !plan.rows<4, f32>, !plan.rows<4, f32>
    plan.logits %z, @emb -> %l : !plan.rows<4, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @r : tensor<2x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @r5 : tensor<2x5xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @gu : tensor<2x4x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @gu3 : tensor<2x3x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @d : tensor<2x4x2xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @d3 : tensor<2x4x3xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sgu : tensor<6x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sgu5 : tensor<5x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sd : tensor<4x3xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sg : tensor<1x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sg2 : tensor<2x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @g2 : tensor<2x4x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  plan.program @decode max_tokens = 1, arena_bytes = 4096 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 64 : !plan.rows<1, i32>
    %l = plan.buffer offset = 128 : !plan.rows<8, f32>
    %z = plan.buffer offset = 1024 : !plan.rows<4, f32>
    plan.embedding @emb[%t] -> %z : !plan.rows<1, i32>, !plan.rows<4, f32>
    %y = plan.buffer offset = 384 : !plan.rows<4, f32>
    // expected-error @+1 {{shared_gate @sg2 has shape [2, 4], expected [1, 4] (-1: any)}}
    plan.moe softmax %z -> %y router @r gate_up @gu down @d top_k = 1 activation = silu shared(@sgu, @sd) shared_gate @sg2 : !plan.rows<4, f32>, !plan.rows<4, f32>
    plan.logits %z, @emb -> %l : !plan.rows<4, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @r : tensor<2x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @r5 : tensor<2x5xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @gu : tensor<2x4x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @gu3 : tensor<2x3x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @d : tensor<2x4x2xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @d3 : tensor<2x4x3xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sgu : tensor<6x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sgu5 : tensor<5x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sd : tensor<4x3xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sg : tensor<1x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sg2 : tensor<2x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @g2 : tensor<2x4x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  plan.program @decode max_tokens = 1, arena_bytes = 4096 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 64 : !plan.rows<1, i32>
    %l = plan.buffer offset = 128 : !plan.rows<8, f32>
    %z = plan.buffer offset = 1024 : !plan.rows<4, f32>
    plan.embedding @emb[%t] -> %z : !plan.rows<1, i32>, !plan.rows<4, f32>
    %y = plan.buffer offset = 384 : !plan.rows<4, f32>
    %h = plan.buffer offset = 512 : !plan.rows<2, f32>
    // expected-error @+1 {{track 1 has type '!plan.rows<2, f32>', expected '!plan.rows<4, f32>'}}
    plan.track_combine mean [%z, %h] -> %y : !plan.rows<4, f32>, !plan.rows<2, f32>, !plan.rows<4, f32>
    plan.logits %z, @emb -> %l : !plan.rows<4, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @r : tensor<2x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @r5 : tensor<2x5xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @gu : tensor<2x4x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @gu3 : tensor<2x3x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @d : tensor<2x4x2xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @d3 : tensor<2x4x3xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sgu : tensor<6x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sgu5 : tensor<5x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sd : tensor<4x3xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sg : tensor<1x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sg2 : tensor<2x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @g2 : tensor<2x4x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  plan.program @decode max_tokens = 1, arena_bytes = 4096 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 64 : !plan.rows<1, i32>
    %l = plan.buffer offset = 128 : !plan.rows<8, f32>
    %z = plan.buffer offset = 1024 : !plan.rows<4, f32>
    plan.embedding @emb[%t] -> %z : !plan.rows<1, i32>, !plan.rows<4, f32>
    %y = plan.buffer offset = 384 : !plan.rows<4, f32>
    // expected-error @+1 {{needs at least one track}}
    plan.track_combine sum [] -> %y : !plan.rows<4, f32>
    plan.logits %z, @emb -> %l : !plan.rows<4, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}
// -----

module {
  fm.param @emb : tensor<8x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @r : tensor<2x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @r5 : tensor<2x5xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @gu : tensor<2x4x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @gu3 : tensor<2x3x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @d : tensor<2x4x2xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @d3 : tensor<2x4x3xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sgu : tensor<6x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sgu5 : tensor<5x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sd : tensor<4x3xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sg : tensor<1x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sg2 : tensor<2x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @g2 : tensor<2x4x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  plan.program @decode max_tokens = 1, arena_bytes = 4096 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 64 : !plan.rows<1, i32>
    %l = plan.buffer offset = 128 : !plan.rows<8, f32>
    %z = plan.buffer offset = 1024 : !plan.rows<4, f32>
    plan.embedding @emb[%t] -> %z : !plan.rows<1, i32>, !plan.rows<4, f32>
    %y = plan.buffer offset = 384 : !plan.rows<4, f32>
    // expected-error @+1 {{needs one output per input and at least one group, got 2 inputs and 1 outputs}}
    plan.grouped_linear [%z, %z] -> [%y] weight @g2 : !plan.rows<4, f32>, !plan.rows<4, f32>, !plan.rows<4, f32>
    plan.logits %z, @emb -> %l : !plan.rows<4, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @r : tensor<2x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @r5 : tensor<2x5xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @gu : tensor<2x4x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @gu3 : tensor<2x3x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @d : tensor<2x4x2xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @d3 : tensor<2x4x3xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sgu : tensor<6x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sgu5 : tensor<5x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sd : tensor<4x3xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sg : tensor<1x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sg2 : tensor<2x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @g2 : tensor<2x4x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  plan.program @decode max_tokens = 1, arena_bytes = 4096 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 64 : !plan.rows<1, i32>
    %l = plan.buffer offset = 128 : !plan.rows<8, f32>
    %z = plan.buffer offset = 1024 : !plan.rows<4, f32>
    plan.embedding @emb[%t] -> %z : !plan.rows<1, i32>, !plan.rows<4, f32>
    %y = plan.buffer offset = 384 : !plan.rows<4, f32>
    %h = plan.buffer offset = 512 : !plan.rows<2, f32>
    %y2 = plan.buffer offset = 640 : !plan.rows<4, f32>
    // expected-error @+1 {{group 1 has type '!plan.rows<2, f32>'; every group's input must be the same float rows}}
    plan.grouped_linear [%z, %h] -> [%y, %y2] weight @g2 : !plan.rows<4, f32>, !plan.rows<2, f32>, !plan.rows<4, f32>, !plan.rows<4, f32>
    plan.logits %z, @emb -> %l : !plan.rows<4, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @r : tensor<2x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @r5 : tensor<2x5xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @gu : tensor<2x4x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @gu3 : tensor<2x3x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @d : tensor<2x4x2xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @d3 : tensor<2x4x3xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sgu : tensor<6x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sgu5 : tensor<5x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sd : tensor<4x3xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sg : tensor<1x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sg2 : tensor<2x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @g2 : tensor<2x4x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  plan.program @decode max_tokens = 1, arena_bytes = 4096 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 64 : !plan.rows<1, i32>
    %l = plan.buffer offset = 128 : !plan.rows<8, f32>
    %z = plan.buffer offset = 1024 : !plan.rows<4, f32>
    plan.embedding @emb[%t] -> %z : !plan.rows<1, i32>, !plan.rows<4, f32>
    %y = plan.buffer offset = 384 : !plan.rows<4, f32>
    %y2 = plan.buffer offset = 640 : !plan.rows<4, f32>
    %y3 = plan.buffer offset = 768 : !plan.rows<4, f32>
    // expected-error @+1 {{weight @g2 has shape [2, 4, 4], expected [3, 4, 4] (-1: any)}}
    plan.grouped_linear [%z, %z, %z] -> [%y, %y2, %y3] weight @g2 : !plan.rows<4, f32>, !plan.rows<4, f32>, !plan.rows<4, f32>, !plan.rows<4, f32>, !plan.rows<4, f32>, !plan.rows<4, f32>
    plan.logits %z, @emb -> %l : !plan.rows<4, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}


// -----

module {
  fm.param @emb : tensor<8x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  plan.program @decode max_tokens = 1, arena_bytes = 4096 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 64 : !plan.rows<1, i32>
    %l = plan.buffer offset = 128 : !plan.rows<8, f32>
    %z = plan.buffer offset = 1024 : !plan.rows<4, f32>
    plan.embedding @emb[%t] -> %z : !plan.rows<1, i32>, !plan.rows<4, f32>
    %y = plan.buffer offset = 384 : !plan.rows<4, f32>
    %h = plan.buffer offset = 512 : !plan.rows<2, f32>
    // expected-error @+1 {{needs at least 2 ranks, got 1}}
    plan.all_reduce [%z] -> [%y] ranks = 1 scale = 1.0 : !plan.rows<4, f32>, !plan.rows<4, f32>
    plan.logits %z, @emb -> %l : !plan.rows<4, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  plan.program @decode max_tokens = 1, arena_bytes = 4096 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 64 : !plan.rows<1, i32>
    %l = plan.buffer offset = 128 : !plan.rows<8, f32>
    %z = plan.buffer offset = 1024 : !plan.rows<4, f32>
    plan.embedding @emb[%t] -> %z : !plan.rows<1, i32>, !plan.rows<4, f32>
    %y = plan.buffer offset = 384 : !plan.rows<4, f32>
    %h = plan.buffer offset = 512 : !plan.rows<2, f32>
    // expected-error @+1 {{scale must be positive, got 0}}
    plan.all_reduce [%z] -> [%y] ranks = 2 scale = 0.0 : !plan.rows<4, f32>, !plan.rows<4, f32>
    plan.logits %z, @emb -> %l : !plan.rows<4, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  plan.program @decode max_tokens = 1, arena_bytes = 4096 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 64 : !plan.rows<1, i32>
    %l = plan.buffer offset = 128 : !plan.rows<8, f32>
    %z = plan.buffer offset = 1024 : !plan.rows<4, f32>
    plan.embedding @emb[%t] -> %z : !plan.rows<1, i32>, !plan.rows<4, f32>
    %y = plan.buffer offset = 384 : !plan.rows<4, f32>
    %h = plan.buffer offset = 512 : !plan.rows<2, f32>
    // expected-error @+1 {{input has type '!plan.rows<2, f32>', expected '!plan.rows<4, f32>'}}
    plan.all_reduce [%h] -> [%y] ranks = 2 scale = 0.5 : !plan.rows<2, f32>, !plan.rows<4, f32>
    plan.logits %z, @emb -> %l : !plan.rows<4, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  plan.program @decode max_tokens = 1, arena_bytes = 4096 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 64 : !plan.rows<1, i32>
    %l = plan.buffer offset = 128 : !plan.rows<8, f32>
    %z = plan.buffer offset = 1024 : !plan.rows<4, f32>
    plan.embedding @emb[%t] -> %z : !plan.rows<1, i32>, !plan.rows<4, f32>
    %y = plan.buffer offset = 384 : !plan.rows<4, f32>
    %h = plan.buffer offset = 512 : !plan.rows<2, f32>
    // expected-error @+1 {{outputs must hold f32 rows, got '!plan.rows<1, i32>'}}
    plan.all_reduce [%t] -> [%p] ranks = 2 scale = 0.5 : !plan.rows<1, i32>, !plan.rows<1, i32>
    plan.logits %z, @emb -> %l : !plan.rows<4, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  plan.program @decode max_tokens = 1, arena_bytes = 4096 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 64 : !plan.rows<1, i32>
    %l = plan.buffer offset = 128 : !plan.rows<8, f32>
    %z = plan.buffer offset = 1024 : !plan.rows<4, f32>
    plan.embedding @emb[%t] -> %z : !plan.rows<1, i32>, !plan.rows<4, f32>
    %y = plan.buffer offset = 384 : !plan.rows<4, f32>
    %h = plan.buffer offset = 512 : !plan.rows<4, f32>
    // expected-error @+1 {{needs one output per input and at least one buffer, got 2 inputs and 1 outputs}}
    plan.all_reduce [%z, %h] -> [%y] ranks = 2 scale = 1.0 : !plan.rows<4, f32>, !plan.rows<4, f32>, !plan.rows<4, f32>
    plan.logits %z, @emb -> %l : !plan.rows<4, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}
