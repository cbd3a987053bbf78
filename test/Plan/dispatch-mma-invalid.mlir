// RUN: fmc-opt %s --split-input-file --verify-diagnostics

// The verifier's messages for products = mma (#plan.matvec on matrix
// units): its configuration, then the weights it can read.

module {
  fm.param @emb : tensor<8x256xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w : tensor<256x256xf32, #fm.quant<bits = 2, grid = balanced, group_size = 64, scale_type = f16, layout = row_major>> from #fm.external<"w.bin", offset = 0, dtype = packed>
  plan.program @prefill max_tokens = 64, arena_bytes = 1048576 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 1024 : !plan.rows<1, i32>
    %h = plan.buffer offset = 4096 : !plan.rows<256, f32>
    %y = plan.buffer offset = 131072 : !plan.rows<256, f32>
    %l = plan.buffer offset = 262144 : !plan.rows<8, f32>
    plan.embedding @emb[%t] -> %h : !plan.rows<1, i32>, !plan.rows<256, f32>
    // expected-error @+1 {{has products = mma over packed codes (weight @w), which multiply int8 activations; activations must be i8}}
    plan.dispatch #plan.matvec<workgroup_size = 256, rows_per_workgroup = 64, threads_per_row = 32, vector_bytes = 16, tokens_per_pass = 32, activations = f32, tiles = rows, products = mma> {
      plan.linear %h, @w -> %y : !plan.rows<256, f32>, !plan.rows<256, f32>
    }
    plan.logits %y, @emb -> %l : !plan.rows<256, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x256xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w : tensor<256x256xf32, #fm.quant<bits = 2, grid = balanced, group_size = 64, scale_type = f16, layout = row_major>> from #fm.external<"w.bin", offset = 0, dtype = packed>
  plan.program @prefill max_tokens = 64, arena_bytes = 1048576 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 1024 : !plan.rows<1, i32>
    %h = plan.buffer offset = 4096 : !plan.rows<256, f32>
    %y = plan.buffer offset = 131072 : !plan.rows<256, f32>
    %l = plan.buffer offset = 262144 : !plan.rows<8, f32>
    plan.embedding @emb[%t] -> %h : !plan.rows<1, i32>, !plan.rows<256, f32>
    // expected-error @+1 {{products = mma need tokens_per_pass of 16, 32 or 64 (whole 16-token tiles), got 24}}
    plan.dispatch #plan.matvec<workgroup_size = 256, rows_per_workgroup = 64, threads_per_row = 32, vector_bytes = 16, tokens_per_pass = 24, activations = i8, tiles = rows, products = mma> {
      plan.linear %h, @w -> %y : !plan.rows<256, f32>, !plan.rows<256, f32>
    }
    plan.logits %y, @emb -> %l : !plan.rows<256, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x256xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w : tensor<256x256xf32, #fm.quant<bits = 2, grid = balanced, group_size = 64, scale_type = f16, layout = row_major>> from #fm.external<"w.bin", offset = 0, dtype = packed>
  plan.program @prefill max_tokens = 64, arena_bytes = 1048576 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 1024 : !plan.rows<1, i32>
    %h = plan.buffer offset = 4096 : !plan.rows<256, f32>
    %y = plan.buffer offset = 131072 : !plan.rows<256, f32>
    %l = plan.buffer offset = 262144 : !plan.rows<8, f32>
    plan.embedding @emb[%t] -> %h : !plan.rows<1, i32>, !plan.rows<256, f32>
    // expected-error @+1 {{products = mma need rows_per_workgroup a multiple of 8 (whole 8-row tiles), got 4}}
    plan.dispatch #plan.matvec<workgroup_size = 256, rows_per_workgroup = 4, threads_per_row = 64, vector_bytes = 16, tokens_per_pass = 32, activations = i8, tiles = rows, products = mma> {
      plan.linear %h, @w -> %y : !plan.rows<256, f32>, !plan.rows<256, f32>
    }
    plan.logits %y, @emb -> %l : !plan.rows<256, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x192xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w : tensor<192x192xf32, #fm.quant<bits = 2, grid = balanced, group_size = 64, scale_type = f16, layout = row_major>> from #fm.external<"w.bin", offset = 0, dtype = packed>
  plan.program @prefill max_tokens = 64, arena_bytes = 1048576 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 1024 : !plan.rows<1, i32>
    %h = plan.buffer offset = 4096 : !plan.rows<192, f32>
    %y = plan.buffer offset = 131072 : !plan.rows<192, f32>
    %l = plan.buffer offset = 262144 : !plan.rows<8, f32>
    plan.embedding @emb[%t] -> %h : !plan.rows<1, i32>, !plan.rows<192, f32>
    // expected-error @+1 {{has products = mma, but K (192) is not whole blocks of 128 features (weight @w)}}
    plan.dispatch #plan.matvec<workgroup_size = 256, rows_per_workgroup = 64, threads_per_row = 32, vector_bytes = 16, tokens_per_pass = 32, activations = i8, tiles = rows, products = mma> {
      plan.linear %h, @w -> %y : !plan.rows<192, f32>, !plan.rows<192, f32>
    }
    plan.logits %y, @emb -> %l : !plan.rows<192, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x256xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w : tensor<256x256xf32, #fm.quant<bits = 2, grid = balanced, group_size = 16, scale_type = f16, layout = row_major>> from #fm.external<"w.bin", offset = 0, dtype = packed>
  plan.program @prefill max_tokens = 64, arena_bytes = 1048576 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 1024 : !plan.rows<1, i32>
    %h = plan.buffer offset = 4096 : !plan.rows<256, f32>
    %y = plan.buffer offset = 131072 : !plan.rows<256, f32>
    %l = plan.buffer offset = 262144 : !plan.rows<8, f32>
    plan.embedding @emb[%t] -> %h : !plan.rows<1, i32>, !plan.rows<256, f32>
    // expected-error @+1 {{has products = mma, but its scale groups of 16 features do not split into runs of 32 inside blocks of 128 (weight @w)}}
    plan.dispatch #plan.matvec<workgroup_size = 256, rows_per_workgroup = 64, threads_per_row = 32, vector_bytes = 16, tokens_per_pass = 32, activations = i8, tiles = rows, products = mma> {
      plan.linear %h, @w -> %y : !plan.rows<256, f32>, !plan.rows<256, f32>
    }
    plan.logits %y, @emb -> %l : !plan.rows<256, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x256xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w : tensor<256x256xf32, #fm.quant<bits = 4, grid = balanced, group_size = 96, scale_type = f16, layout = row_major>> from #fm.external<"w.bin", offset = 0, dtype = packed>
  plan.program @prefill max_tokens = 64, arena_bytes = 1048576 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 1024 : !plan.rows<1, i32>
    %h = plan.buffer offset = 4096 : !plan.rows<256, f32>
    %y = plan.buffer offset = 131072 : !plan.rows<256, f32>
    %l = plan.buffer offset = 262144 : !plan.rows<8, f32>
    plan.embedding @emb[%t] -> %h : !plan.rows<1, i32>, !plan.rows<256, f32>
    // expected-error @+1 {{has products = mma, but its scale groups of 96 features do not split into runs of 32 inside blocks of 128 (weight @w)}}
    plan.dispatch #plan.matvec<workgroup_size = 256, rows_per_workgroup = 64, threads_per_row = 32, vector_bytes = 16, tokens_per_pass = 32, activations = i8, tiles = rows, products = mma> {
      plan.linear %h, @w -> %y : !plan.rows<256, f32>, !plan.rows<256, f32>
    }
    plan.logits %y, @emb -> %l : !plan.rows<256, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x256xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w : tensor<256x256xf32, #fm.quant<bits = 2, grid = balanced, group_size = 64, scale_type = f16, layout = row_major>> from #fm.external<"w.bin", offset = 0, dtype = packed>
  plan.program @prefill max_tokens = 64, arena_bytes = 1048576 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 1024 : !plan.rows<1, i32>
    %h = plan.buffer offset = 4096 : !plan.rows<256, f32>
    %y = plan.buffer offset = 131072 : !plan.rows<256, f32>
    %l = plan.buffer offset = 262144 : !plan.rows<8, f32>
    plan.embedding @emb[%t] -> %h : !plan.rows<1, i32>, !plan.rows<256, f32>
    // expected-error @+1 {{has products = mma over 128 rows and 32 tokens a pass, which need 41600 bytes of workgroup memory; GPUs guarantee 32768 (fewer tokens per pass)}}
    plan.dispatch #plan.matvec<workgroup_size = 256, rows_per_workgroup = 128, threads_per_row = 32, vector_bytes = 16, tokens_per_pass = 32, activations = i8, tiles = rows, products = mma> {
      plan.linear %h, @w -> %y : !plan.rows<256, f32>, !plan.rows<256, f32>
    }
    plan.logits %y, @emb -> %l : !plan.rows<256, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x256xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w : tensor<256x256xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  plan.program @prefill max_tokens = 64, arena_bytes = 1048576 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 1024 : !plan.rows<1, i32>
    %h = plan.buffer offset = 4096 : !plan.rows<256, f32>
    %y = plan.buffer offset = 131072 : !plan.rows<256, f32>
    %l = plan.buffer offset = 262144 : !plan.rows<8, f32>
    plan.embedding @emb[%t] -> %h : !plan.rows<1, i32>, !plan.rows<256, f32>
    // expected-error @+1 {{has products = mma, but its weight is neither f16, bf16 nor 2- or 4-bit codes (weight @w)}}
    plan.dispatch #plan.matvec<workgroup_size = 256, rows_per_workgroup = 64, threads_per_row = 32, vector_bytes = 16, tokens_per_pass = 32, activations = f32, tiles = rows, products = mma> {
      plan.linear %h, @w -> %y : !plan.rows<256, f32>, !plan.rows<256, f32>
    }
    plan.logits %y, @emb -> %l : !plan.rows<256, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

// -----

module {
  fm.param @emb : tensor<8x96xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w : tensor<96x96xf32> from #fm.external<"w.bin", offset = 0, dtype = f16>
  plan.program @prefill max_tokens = 64, arena_bytes = 1048576 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 1024 : !plan.rows<1, i32>
    %h = plan.buffer offset = 4096 : !plan.rows<96, f32>
    %y = plan.buffer offset = 131072 : !plan.rows<96, f32>
    %l = plan.buffer offset = 262144 : !plan.rows<8, f32>
    plan.embedding @emb[%t] -> %h : !plan.rows<1, i32>, !plan.rows<96, f32>
    // expected-error @+1 {{has products = mma, but K (96) is not whole tiles of 64 features (weight @w)}}
    plan.dispatch #plan.matvec<workgroup_size = 256, rows_per_workgroup = 64, threads_per_row = 32, vector_bytes = 16, tokens_per_pass = 32, activations = f32, tiles = rows, products = mma> {
      plan.linear %h, @w -> %y : !plan.rows<96, f32>, !plan.rows<96, f32>
    }
    plan.logits %y, @emb -> %l : !plan.rows<96, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}

