// RUN: fmc-opt %s --split-input-file --fm-to-plan="prefill-tokens=8" | FileCheck %s
// RUN: fmc-opt %s --split-input-file --fm-to-plan="prefill-tokens=8 prefill-last-position=false" | FileCheck %s --check-prefix=ALL

// KV sharing: layer 1 reads layer 0's cache and writes none, so @prefill
// keeps the last row after layer 0's residual add (the one value live there)
// and layer 1, the final norm and the logits run on one position. @decode
// (one token anyway) has no last_row.

// CHECK-LABEL: plan.program @prefill
// CHECK:   plan.kv_append {{.*}} -> @c0
// CHECK:   plan.attention global {{.*}} reads @c0 ->
// CHECK:   %[[R:.*]] = plan.buffer {{.*}}name = "add"
// CHECK:   plan.add {{.*}} -> %[[R]]
// CHECK:   %[[ROW:.*]] = plan.buffer {{.*}}name = "last_row"
// CHECK:   %[[POS:.*]] = plan.buffer {{.*}}name = "last_position"
// CHECK:   plan.last_row %[[R]], %{{.*}} -> %[[ROW]], %[[POS]]
// CHECK:   plan.rms_norm %[[ROW]]
// CHECK:   plan.rope {{.*}} at %[[POS]]
// CHECK:   plan.attention global {{.*}} at %[[POS]] reads @c0 ->
// CHECK-NOT: writes
// CHECK:   plan.add %[[ROW]]
// CHECK:   plan.logits
// CHECK:   plan.io
// CHECK-LABEL: plan.program @decode
// CHECK-NOT: plan.last_row
// CHECK:   plan.io

// ALL-NOT: plan.last_row

module {
  fm.param @emb : tensor<16x8xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @norm : tensor<8xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @wq : tensor<8x8xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @wk : tensor<4x8xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @wo : tensor<8x8xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c0 linear capacity = 16, kv_heads = 1, head_dim = 4 : f32
  func.func @forward(%tokens: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x16xf32> {
    %h = fm.embedding @emb[%tokens] : tensor<?xi32> -> tensor<?x8xf32>
    %n = fm.rms_norm %h, @norm eps = 1.0e-05 : tensor<?x8xf32>
    %q = fm.linear %n, @wq : tensor<?x8xf32> -> tensor<?x8xf32>
    %k = fm.linear %n, @wk : tensor<?x8xf32> -> tensor<?x4xf32>
    %qr = fm.rope interleaved %q at %pos head_dim = 4 theta = 1.0e+04 : tensor<?x8xf32>, tensor<?xi32>
    %kr = fm.rope interleaved %k at %pos head_dim = 4 theta = 1.0e+04 : tensor<?x4xf32>, tensor<?xi32>
    %a = fm.attention global %qr, %kr, %k at %pos reads @c0 writes @c0 heads = 2, kv_heads = 1, head_dim = 4
        : (tensor<?x8xf32>, tensor<?x4xf32>, tensor<?x4xf32>, tensor<?xi32>) -> tensor<?x8xf32>
    %o = fm.linear %a, @wo : tensor<?x8xf32> -> tensor<?x8xf32>
    %h1 = fm.add %h, %o : tensor<?x8xf32>
    %n1 = fm.rms_norm %h1, @norm eps = 1.0e-05 : tensor<?x8xf32>
    %q1 = fm.linear %n1, @wq : tensor<?x8xf32> -> tensor<?x8xf32>
    %qr1 = fm.rope interleaved %q1 at %pos head_dim = 4 theta = 1.0e+04 : tensor<?x8xf32>, tensor<?xi32>
    %a1 = fm.attention global %qr1 at %pos reads @c0 heads = 2, kv_heads = 1, head_dim = 4
        : (tensor<?x8xf32>, tensor<?xi32>) -> tensor<?x8xf32>
    %h2 = fm.add %h1, %a1 : tensor<?x8xf32>
    %l = fm.logits %h2, @emb : tensor<?x8xf32> -> tensor<?x16xf32>
    return %l : tensor<?x16xf32>
  }
}

// -----

// Without sharing there is no layer to save: no last_row, the prefill
// computes every position's logits.

// CHECK-LABEL: plan.program @prefill
// CHECK-NOT: plan.last_row
// CHECK: plan.program @decode

module {
  fm.param @emb : tensor<16x8xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @wq : tensor<8x8xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @wk : tensor<4x8xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c0 linear capacity = 16, kv_heads = 1, head_dim = 4 : f32
  func.func @forward(%tokens: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x16xf32> {
    %h = fm.embedding @emb[%tokens] : tensor<?xi32> -> tensor<?x8xf32>
    %q = fm.linear %h, @wq : tensor<?x8xf32> -> tensor<?x8xf32>
    %k = fm.linear %h, @wk : tensor<?x8xf32> -> tensor<?x4xf32>
    %a = fm.attention global %q, %k, %k at %pos reads @c0 writes @c0 heads = 2, kv_heads = 1, head_dim = 4
        : (tensor<?x8xf32>, tensor<?x4xf32>, tensor<?x4xf32>, tensor<?xi32>) -> tensor<?x8xf32>
    %h1 = fm.add %h, %a : tensor<?x8xf32>
    %l = fm.logits %h1, @emb : tensor<?x8xf32> -> tensor<?x16xf32>
    return %l : tensor<?x16xf32>
  }
}

// -----

// A ring cache that a later layer only reads (KV sharing of local layers):
// the reader sees it after the writer appended a whole run, so it holds the
// window behind the run's first query plus the run: 3 + 8 - 1 positions.

// CHECK-LABEL: module
// CHECK: fm.kv_cache @r ring capacity = 10, kv_heads = 1, head_dim = 4 : f32
// CHECK-LABEL: plan.program @prefill
// CHECK: plan.last_row
// CHECK: plan.attention local {{.*}} reads @r ->

module {
  fm.param @emb : tensor<16x8xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @wq : tensor<8x8xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @wk : tensor<4x8xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @r ring capacity = 3, kv_heads = 1, head_dim = 4 : f32
  func.func @forward(%tokens: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x16xf32> {
    %h = fm.embedding @emb[%tokens] : tensor<?xi32> -> tensor<?x8xf32>
    %q = fm.linear %h, @wq : tensor<?x8xf32> -> tensor<?x8xf32>
    %k = fm.linear %h, @wk : tensor<?x8xf32> -> tensor<?x4xf32>
    %a = fm.attention local %q, %k, %k at %pos reads @r writes @r heads = 2, kv_heads = 1, head_dim = 4 {window = 3 : i64}
        : (tensor<?x8xf32>, tensor<?x4xf32>, tensor<?x4xf32>, tensor<?xi32>) -> tensor<?x8xf32>
    %h1 = fm.add %h, %a : tensor<?x8xf32>
    %q1 = fm.linear %h1, @wq : tensor<?x8xf32> -> tensor<?x8xf32>
    %a1 = fm.attention local %q1 at %pos reads @r heads = 2, kv_heads = 1, head_dim = 4 {window = 3 : i64}
        : (tensor<?x8xf32>, tensor<?xi32>) -> tensor<?x8xf32>
    %h2 = fm.add %h1, %a1 : tensor<?x8xf32>
    %l = fm.logits %h2, @emb : tensor<?x8xf32> -> tensor<?x16xf32>
    return %l : tensor<?x16xf32>
  }
}
