// RUN: fmc-opt %s --split-input-file --fm-to-plan="prefill-tokens=64" --plan-form-dispatches | FileCheck %s
// RUN: fmc-opt %s --split-input-file --fm-to-plan="prefill-tokens=64" --plan-form-dispatches --plan-form-dispatches | FileCheck %s

// Prefill of packed weights on matrix units (products = mma): a 2-bit
// layer at hidden 256. q, k and v tile heads of 64 rows in passes of 32
// tokens, o-proj too, gate and up as a pair of 32 rows each (workgroup
// memory stages both weights' codes); the down projection reads
// K = 320, not whole int8 blocks, and keeps the teams' reductions; decode
// keeps them everywhere (one token); the logits are f32.
// CHECK-LABEL: plan.program @prefill
// CHECK:      plan.dispatch #plan.matvec<workgroup_size = 256, rows_per_workgroup = 64, threads_per_row = 32, vector_bytes = 16, tokens_per_pass = 32, activations = i8, tiles = heads, products = mma> {
// CHECK-NEXT:   plan.rms_norm
// CHECK-NEXT:   plan.linear %{{.*}}, @wq
// CHECK:      plan.dispatch #plan.matvec<workgroup_size = 256, rows_per_workgroup = 64, threads_per_row = 32, vector_bytes = 16, tokens_per_pass = 32, activations = i8, tiles = rows, products = mma> {
// CHECK-NEXT:   plan.linear %{{.*}}, @wo
// CHECK:      plan.dispatch #plan.matvec<workgroup_size = 256, rows_per_workgroup = 32, threads_per_row = 32, vector_bytes = 16, tokens_per_pass = 32, activations = i8, tiles = rows, products = mma> {
// CHECK-NEXT:   plan.rms_norm
// CHECK-NEXT:   plan.linear %{{.*}}, @wg
// CHECK-NEXT:   plan.linear %{{.*}}, @wu
// CHECK-NEXT:   plan.glu
// CHECK:      plan.dispatch #plan.matvec<workgroup_size = 256, rows_per_workgroup = 8, threads_per_row = 32, vector_bytes = 16, tokens_per_pass = 4, activations = i8, tiles = rows> {
// CHECK-NEXT:   plan.linear %{{.*}}, @wd
// CHECK:      plan.dispatch #plan.matvec<{{.*}}tokens_per_pass = 4, activations = f32, tiles = rows> {
// CHECK-NEXT:   plan.rms_norm
// CHECK-NEXT:   plan.logits
// CHECK-LABEL: plan.program @decode
// CHECK-NOT:  products = mma
// CHECK:      plan.io

module {
  fm.param @emb : tensor<32x256xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @attn_norm : tensor<256xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @ffn_norm : tensor<256xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @final_norm : tensor<256xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @wq : tensor<256x256xf32, #fm.quant<bits = 2, grid = balanced, group_size = 64, scale_type = f16, layout = row_major>> from #fm.external<"w.bin", offset = 0, dtype = packed>
  fm.param @wk : tensor<128x256xf32, #fm.quant<bits = 2, grid = balanced, group_size = 64, scale_type = f16, layout = row_major>> from #fm.external<"w.bin", offset = 0, dtype = packed>
  fm.param @wv : tensor<128x256xf32, #fm.quant<bits = 2, grid = balanced, group_size = 64, scale_type = f16, layout = row_major>> from #fm.external<"w.bin", offset = 0, dtype = packed>
  fm.param @wo : tensor<256x256xf32, #fm.quant<bits = 2, grid = balanced, group_size = 64, scale_type = f16, layout = row_major>> from #fm.external<"w.bin", offset = 0, dtype = packed>
  fm.param @wg : tensor<320x256xf32, #fm.quant<bits = 4, grid = affine, group_size = 32, scale_type = bf16, layout = row_major>> from #fm.external<"w.bin", offset = 0, dtype = packed>
  fm.param @wu : tensor<320x256xf32, #fm.quant<bits = 4, grid = affine, group_size = 32, scale_type = bf16, layout = row_major>> from #fm.external<"w.bin", offset = 0, dtype = packed>
  fm.param @wd : tensor<256x320xf32, #fm.quant<bits = 2, grid = balanced, group_size = 64, scale_type = f16, layout = row_major>> from #fm.external<"w.bin", offset = 0, dtype = packed>
  fm.kv_cache @cache linear capacity = 600, kv_heads = 2, head_dim = 64 : f32
  func.func @forward(%tokens: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x32xf32> {
    %h = fm.embedding @emb[%tokens] : tensor<?xi32> -> tensor<?x256xf32>
    %x = fm.rms_norm %h, @attn_norm eps = 1.0e-05 : tensor<?x256xf32>
    %q = fm.linear %x, @wq : tensor<?x256xf32> -> tensor<?x256xf32>
    %k = fm.linear %x, @wk : tensor<?x256xf32> -> tensor<?x128xf32>
    %v = fm.linear %x, @wv : tensor<?x256xf32> -> tensor<?x128xf32>
    %qr = fm.rope rotate_half %q at %pos head_dim = 64 theta = 1.0e+04 : tensor<?x256xf32>, tensor<?xi32>
    %kr = fm.rope rotate_half %k at %pos head_dim = 64 theta = 1.0e+04 : tensor<?x128xf32>, tensor<?xi32>
    %a = fm.attention global %qr, %kr, %v at %pos reads @cache writes @cache heads = 4, kv_heads = 2, head_dim = 64
        : (tensor<?x256xf32>, tensor<?x128xf32>, tensor<?x128xf32>, tensor<?xi32>) -> tensor<?x256xf32>
    %o = fm.linear %a, @wo : tensor<?x256xf32> -> tensor<?x256xf32>
    %h1 = fm.add %h, %o : tensor<?x256xf32>
    %f = fm.rms_norm %h1, @ffn_norm eps = 1.0e-05 : tensor<?x256xf32>
    %g = fm.linear %f, @wg : tensor<?x256xf32> -> tensor<?x320xf32>
    %u = fm.linear %f, @wu : tensor<?x256xf32> -> tensor<?x320xf32>
    %gu = fm.glu silu %g, %u : tensor<?x320xf32>
    %d = fm.linear %gu, @wd : tensor<?x320xf32> -> tensor<?x256xf32>
    %h2 = fm.add %h1, %d : tensor<?x256xf32>
    %n = fm.rms_norm %h2, @final_norm eps = 1.0e-05 : tensor<?x256xf32>
    %l = fm.logits %n, @emb : tensor<?x256xf32> -> tensor<?x32xf32>
    return %l : tensor<?x32xf32>
  }
}

// -----

// Negative: scale groups of 16 features (shorter than one 32-feature step)
// and groups of 96 (runs that cross an int8 block) keep the reductions.
// CHECK-LABEL: plan.program @prefill
// CHECK-NOT:  products = mma
// CHECK-LABEL: plan.program @decode

module {
  fm.param @emb : tensor<32x256xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w16 : tensor<256x256xf32, #fm.quant<bits = 2, grid = balanced, group_size = 16, scale_type = f16, layout = row_major>> from #fm.external<"w.bin", offset = 0, dtype = packed>
  fm.param @w96 : tensor<256x256xf32, #fm.quant<bits = 4, grid = balanced, group_size = 96, scale_type = f16, layout = row_major>> from #fm.external<"w.bin", offset = 0, dtype = packed>
  func.func @forward(%tokens: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x32xf32> {
    %h = fm.embedding @emb[%tokens] : tensor<?xi32> -> tensor<?x256xf32>
    %a = fm.linear %h, @w16 : tensor<?x256xf32> -> tensor<?x256xf32>
    %b = fm.linear %a, @w96 : tensor<?x256xf32> -> tensor<?x256xf32>
    %l = fm.logits %b, @emb : tensor<?x256xf32> -> tensor<?x32xf32>
    return %l : tensor<?x32xf32>
  }
}

// -----

// f16 and bf16 weights take products = mma too, with f32 activations (split
// into two 16-bit parts while staged); f32 weights and a K that is not whole
// 64-feature tiles keep the reductions.
// CHECK-LABEL: plan.program @prefill
// CHECK:      plan.dispatch #plan.matvec<workgroup_size = 256, rows_per_workgroup = 64, threads_per_row = 32, vector_bytes = 16, tokens_per_pass = 32, activations = f32, tiles = rows, products = mma> {
// CHECK-NEXT:   plan.linear %{{.*}}, @h16
// CHECK:      plan.dispatch #plan.matvec<workgroup_size = 256, rows_per_workgroup = 32, threads_per_row = 32, vector_bytes = 16, tokens_per_pass = 32, activations = f32, tiles = rows, products = mma> {
// CHECK-NEXT:   plan.linear %{{.*}}, @g16
// CHECK-NEXT:   plan.linear %{{.*}}, @u16
// CHECK-NEXT:   plan.glu
// CHECK:      plan.dispatch #plan.matvec<workgroup_size = 256, rows_per_workgroup = 8, {{.*}}tokens_per_pass = 4, activations = f32, tiles = rows> {
// CHECK-NEXT:   plan.linear %{{.*}}, @d16
// CHECK:      plan.dispatch #plan.matvec<workgroup_size = 256, rows_per_workgroup = 8, {{.*}}tokens_per_pass = 4, activations = f32, tiles = rows> {
// CHECK-NEXT:   plan.linear %{{.*}}, @f32
// CHECK-LABEL: plan.program @decode
// CHECK-NOT:  products = mma
// CHECK:      plan.io

module {
  fm.param @emb : tensor<32x256xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @h16 : tensor<256x256xf32> from #fm.external<"w.bin", offset = 0, dtype = f16>
  fm.param @g16 : tensor<96x256xf32> from #fm.external<"w.bin", offset = 0, dtype = bf16>
  fm.param @u16 : tensor<96x256xf32> from #fm.external<"w.bin", offset = 0, dtype = bf16>
  fm.param @d16 : tensor<256x96xf32> from #fm.external<"w.bin", offset = 0, dtype = f16>
  fm.param @f32 : tensor<256x256xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  func.func @forward(%tokens: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x32xf32> {
    %h = fm.embedding @emb[%tokens] : tensor<?xi32> -> tensor<?x256xf32>
    %a = fm.linear %h, @h16 : tensor<?x256xf32> -> tensor<?x256xf32>
    %g = fm.linear %a, @g16 : tensor<?x256xf32> -> tensor<?x96xf32>
    %u = fm.linear %a, @u16 : tensor<?x256xf32> -> tensor<?x96xf32>
    %gu = fm.glu silu %g, %u : tensor<?x96xf32>
    %d = fm.linear %gu, @d16 : tensor<?x96xf32> -> tensor<?x256xf32>
    %f = fm.linear %d, @f32 : tensor<?x256xf32> -> tensor<?x256xf32>
    %l = fm.logits %f, @emb : tensor<?x256xf32> -> tensor<?x32xf32>
    return %l : tensor<?x32xf32>
  }
}
