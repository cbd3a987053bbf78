// RUN: fmc-opt %s --split-input-file --fm-to-plan="prefill-tokens=4" --plan-form-dispatches | FileCheck %s
// RUN: fmc-opt %s --split-input-file --fm-to-plan="prefill-tokens=4" --plan-form-dispatches="fuse=false" | FileCheck %s --check-prefix=ALONE
// RUN: fmc-opt %s --split-input-file --fm-to-plan="prefill-tokens=4" --plan-form-dispatches --plan-form-dispatches | FileCheck %s

// A Llama layer with qk-norm: five dispatches per layer in decode.
//  - the input norm, q, k and v as one matvec tiled by heads (head_dim 16),
//    with per-head qk-norm, RoPE and the KV append as epilogues;
//  - split-KV attention, a reader (the append was split off);
//  - o-proj with the residual add;
//  - the FFN norm, gate and up as one matvec with the GLU;
//  - down with the residual add;
// and the final norm in the logits' prologue. Running the pass twice changes
// nothing.
// CHECK-LABEL: plan.program @decode
// CHECK:      plan.dispatch #plan.library {
// CHECK-NEXT:   plan.embedding
// CHECK-NEXT: }
// CHECK:      plan.dispatch #plan.matvec<workgroup_size = 256, rows_per_workgroup = 16, threads_per_row = 32, vector_bytes = 16, tokens_per_pass = 1, activations = f32, tiles = heads> {
// CHECK-NEXT:   plan.rms_norm %{{.*}}, @attn_norm
// CHECK-NEXT:   plan.linear %[[X:[^,]*]], @wq -> %[[Q:[^ ]*]]
// CHECK-NEXT:   plan.linear %[[X]], @wk -> %[[K:[^ ]*]]
// CHECK-NEXT:   plan.linear %[[X]], @wv -> %[[V:[^ ]*]]
// CHECK-NEXT:   plan.rms_norm %[[Q]], @qnorm -> %[[QN:[^ ]*]] {{.*}} group_size = 16
// CHECK-NEXT:   plan.rms_norm %[[K]], @knorm -> %[[KN:[^ ]*]] {{.*}} group_size = 16
// CHECK-NEXT:   plan.rope rotate_half %[[QN]] at %{{.*}} -> %[[QR:[^ ]*]]
// CHECK-NEXT:   plan.rope rotate_half %[[KN]] at %{{.*}} -> %[[KR:[^ ]*]]
// CHECK-NEXT:   plan.kv_append %[[KR]], %[[V]] at %{{.*}} -> @cache
// CHECK-NEXT: }
// CHECK:      plan.dispatch #plan.decode_attention<splits = 19> {
// CHECK-NEXT:   plan.attention global %[[QR]] at %{{.*}} reads @cache -> %[[A:[^ ]*]]
// CHECK-NEXT: }
// CHECK:      plan.dispatch #plan.matvec<{{.*}}rows_per_workgroup = 8, {{.*}}tiles = rows> {
// CHECK-NEXT:   plan.linear %[[A]], @wo -> %[[O:[^ ]*]]
// CHECK-NEXT:   plan.add %{{.*}}, %[[O]] -> %[[H1:[^ ]*]]
// CHECK-NEXT: }
// CHECK:      plan.dispatch #plan.matvec<{{.*}}tiles = rows> {
// CHECK-NEXT:   plan.rms_norm %[[H1]], @ffn_norm -> %[[F:[^ ]*]]
// CHECK-NEXT:   plan.linear %[[F]], @wg -> %[[G:[^ ]*]]
// CHECK-NEXT:   plan.linear %[[F]], @wu -> %[[U:[^ ]*]]
// CHECK-NEXT:   plan.glu silu %[[G]], %[[U]] -> %[[GU:[^ ]*]]
// CHECK-NEXT: }
// CHECK:      plan.dispatch #plan.matvec<{{.*}}tiles = rows> {
// CHECK-NEXT:   plan.linear %[[GU]], @wd -> %[[D:[^ ]*]]
// CHECK-NEXT:   plan.add %[[H1]], %[[D]] -> %[[H2:[^ ]*]]
// CHECK-NEXT: }
// CHECK:      plan.dispatch #plan.matvec<{{.*}}tiles = rows> {
// CHECK-NEXT:   plan.rms_norm %[[H2]], @final_norm
// CHECK-NEXT:   plan.logits
// CHECK-NEXT: }
// CHECK-NEXT: plan.io

// Without fusion every kernel is its own dispatch.
// ALONE-LABEL: plan.program @decode
// ALONE-COUNT-21: plan.dispatch
// ALONE-NOT: plan.dispatch
// ALONE: plan.io

module {
  fm.param @emb : tensor<32x64xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @attn_norm : tensor<64xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @ffn_norm : tensor<64xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @final_norm : tensor<64xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @qnorm : tensor<16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @knorm : tensor<16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @wq : tensor<64x64xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @wk : tensor<32x64xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @wv : tensor<32x64xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @wo : tensor<64x64xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @wg : tensor<96x64xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @wu : tensor<96x64xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @wd : tensor<64x96xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @cache linear capacity = 600, kv_heads = 2, head_dim = 16 : f32
  func.func @forward(%tokens: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x32xf32> {
    %h = fm.embedding @emb[%tokens] : tensor<?xi32> -> tensor<?x64xf32>
    %x = fm.rms_norm %h, @attn_norm eps = 1.0e-05 : tensor<?x64xf32>
    %q = fm.linear %x, @wq : tensor<?x64xf32> -> tensor<?x64xf32>
    %k = fm.linear %x, @wk : tensor<?x64xf32> -> tensor<?x32xf32>
    %v = fm.linear %x, @wv : tensor<?x64xf32> -> tensor<?x32xf32>
    %qn = fm.rms_norm %q, @qnorm eps = 1.0e-06 {group_size = 16 : i64} : tensor<?x64xf32>
    %kn = fm.rms_norm %k, @knorm eps = 1.0e-06 {group_size = 16 : i64} : tensor<?x32xf32>
    %qr = fm.rope rotate_half %qn at %pos head_dim = 16 theta = 1.0e+04 : tensor<?x64xf32>, tensor<?xi32>
    %kr = fm.rope rotate_half %kn at %pos head_dim = 16 theta = 1.0e+04 : tensor<?x32xf32>, tensor<?xi32>
    %a = fm.attention global %qr, %kr, %v at %pos reads @cache writes @cache heads = 4, kv_heads = 2, head_dim = 16
        : (tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32>, tensor<?xi32>) -> tensor<?x64xf32>
    %o = fm.linear %a, @wo : tensor<?x64xf32> -> tensor<?x64xf32>
    %h1 = fm.add %h, %o : tensor<?x64xf32>
    %f = fm.rms_norm %h1, @ffn_norm eps = 1.0e-05 : tensor<?x64xf32>
    %g = fm.linear %f, @wg : tensor<?x64xf32> -> tensor<?x96xf32>
    %u = fm.linear %f, @wu : tensor<?x64xf32> -> tensor<?x96xf32>
    %gu = fm.glu silu %g, %u : tensor<?x96xf32>
    %d = fm.linear %gu, @wd : tensor<?x96xf32> -> tensor<?x64xf32>
    %h2 = fm.add %h1, %d : tensor<?x64xf32>
    %n = fm.rms_norm %h2, @final_norm eps = 1.0e-05 : tensor<?x64xf32>
    %l = fm.logits %n, @emb : tensor<?x64xf32> -> tensor<?x32xf32>
    return %l : tensor<?x32xf32>
  }
}

// -----

// What must not fuse:
//  - a norm whose output another kernel reads too stays a dispatch of its
//    own (a rowwise one), and so does that other reader;
//  - products stored differently (f16 and f32) are separate matvecs;
//  - an append whose values come from outside the dispatch stays apart
//    (#plan.library); its keys' RoPE still fuses with their product;
//  - the prefill's decode-only forms: a ring writer attends in flight, not
//    split, and its attention is a library kernel.
// CHECK-LABEL: plan.program @prefill
// CHECK:      plan.dispatch #plan.rowwise<workgroup_size = 256> {
// CHECK-NEXT:   plan.rms_norm %{{.*}}, @attn_norm -> %[[X:[^ ]*]]
// CHECK-NEXT: }
// CHECK:      plan.dispatch #plan.matvec<{{.*}}tokens_per_pass = 4, {{.*}}tiles = heads> {
// CHECK-NEXT:   plan.linear %[[X]], @wk -> %[[K:[^ ]*]]
// CHECK-NEXT:   plan.rope interleaved %[[K]]
// CHECK-NEXT: }
// CHECK:      plan.dispatch #plan.matvec<{{.*}}tiles = rows> {
// CHECK-NEXT:   plan.linear %[[X]], @wv16
// CHECK-NEXT: }
// CHECK:      plan.dispatch #plan.rowwise<workgroup_size = 256> {
// CHECK-NEXT:   plan.activation relu %[[X]]
// CHECK-NEXT: }
// CHECK:      plan.dispatch #plan.library {
// CHECK-NEXT:   plan.attention local %[[X]], %{{.*}}, %{{.*}} at %{{.*}} reads @ring writes @ring
// CHECK-NEXT: {{^ *}}}{{$}}
// CHECK-LABEL: plan.program @decode
// CHECK:      plan.dispatch #plan.library {
// CHECK-NEXT:   plan.embedding
// CHECK:      plan.dispatch #plan.library {
// CHECK-NEXT:   plan.kv_append
// CHECK-NEXT: }
// CHECK-NEXT: plan.dispatch #plan.decode_attention<splits = 1> {

module {
  fm.param @emb : tensor<32x32xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @attn_norm : tensor<32xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @wk : tensor<16x32xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @wv16 : tensor<16x32xf32> from #fm.external<"w.bin", offset = 0, dtype = f16>
  fm.kv_cache @ring ring capacity = 8, kv_heads = 2, head_dim = 8 : f32
  func.func @forward(%tokens: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x32xf32> {
    %h = fm.embedding @emb[%tokens] : tensor<?xi32> -> tensor<?x32xf32>
    %x = fm.rms_norm %h, @attn_norm eps = 1.0e-05 : tensor<?x32xf32>
    %k = fm.linear %x, @wk : tensor<?x32xf32> -> tensor<?x16xf32>
    %kr = fm.rope interleaved %k at %pos head_dim = 8 theta = 1.0e+04 : tensor<?x16xf32>, tensor<?xi32>
    %v = fm.linear %x, @wv16 : tensor<?x32xf32> -> tensor<?x16xf32>
    %r = fm.activation relu %x : tensor<?x32xf32>
    %a = fm.attention local %x, %kr, %v at %pos reads @ring writes @ring heads = 4, kv_heads = 2, head_dim = 8 {window = 8 : i64}
        : (tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x32xf32>
    %s = fm.add %a, %r : tensor<?x32xf32>
    %l = fm.logits %s, @emb : tensor<?x32xf32> -> tensor<?x32xf32>
    return %l : tensor<?x32xf32>
  }
}

// -----

// A product whose rows a kernel needs before a sibling's position cannot
// move there: the add reads q's RoPE before k is computed, so q (with its
// RoPE) and k (with its residual add) are separate matvecs.
// CHECK-LABEL: plan.program @decode
// CHECK:      plan.dispatch #plan.matvec<{{.*}}tiles = heads> {
// CHECK-NEXT:   plan.linear %{{.*}}, @wq
// CHECK-NEXT:   plan.rope
// CHECK-NEXT: }
// CHECK:      plan.dispatch #plan.rowwise
// CHECK-NEXT:   plan.add
// CHECK-NEXT: }
// CHECK:      plan.dispatch #plan.matvec<{{.*}}> {
// CHECK-NEXT:   plan.linear %{{.*}}, @wk
// CHECK-NEXT:   plan.add
// CHECK-NEXT: }

module {
  fm.param @emb : tensor<32x32xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @wq : tensor<32x32xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @wk : tensor<32x32xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  func.func @forward(%tokens: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x32xf32> {
    %h = fm.embedding @emb[%tokens] : tensor<?xi32> -> tensor<?x32xf32>
    %q = fm.linear %h, @wq : tensor<?x32xf32> -> tensor<?x32xf32>
    %qr = fm.rope interleaved %q at %pos head_dim = 8 theta = 1.0e+04 : tensor<?x32xf32>, tensor<?xi32>
    %s = fm.add %qr, %h : tensor<?x32xf32>
    %k = fm.linear %h, @wk : tensor<?x32xf32> -> tensor<?x32xf32>
    %t = fm.add %s, %k : tensor<?x32xf32>
    %l = fm.logits %t, @emb : tensor<?x32xf32> -> tensor<?x32xf32>
    return %l : tensor<?x32xf32>
  }
}
