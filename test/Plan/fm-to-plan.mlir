// RUN: fmc-opt %s --split-input-file --fm-to-plan="prefill-tokens=8" --verify-diagnostics | FileCheck %s

// A residual block: one kernel per fm op, both programs, buffers reused by
// liveness (the norm's output dies at the linear, so the add's output may
// take its place), and the function erased.

// CHECK-LABEL: module
// The ring cache keeps exactly its window: its writer attends to the run's
// own keys in flight (a ring that other layers read is enlarged; see
// last-row.mlir).
// CHECK: fm.kv_cache @c ring capacity = 3, kv_heads = 1, head_dim = 4 : f32
// CHECK: plan.program @prefill max_tokens = 8, arena_bytes = [[PA:[0-9]+]] {
// CHECK:   %[[T:.*]] = plan.buffer offset = {{[0-9]+}} {name = "tokens"} : <1, i32>
// CHECK:   %[[E:.*]] = plan.buffer offset = {{[0-9]+}} {name = "embedding"} : <8, f32>
// CHECK:   plan.embedding @emb[%[[T]]] -> %[[E]]
// CHECK:   plan.rms_norm %[[E]], @norm -> %{{.*}} eps = 1.000000e-05 group_size = 8
// CHECK:   plan.linear
// CHECK:   plan.rope interleaved {{.*}} head_dim = 4 rotary_dim = 4
// CHECK:   plan.attention local {{.*}} reads @c writes @c -> %{{.*}} heads = 2, kv_heads = 1, head_dim = 4 scale = 5.000000e-01 {window = 3 : i64}
// CHECK:   plan.add
// CHECK:   plan.logits
// CHECK:   plan.io tokens(%[[T]]) positions(%{{.*}}) logits(%{{.*}})
// CHECK: plan.program @decode max_tokens = 1, arena_bytes = {{[0-9]+}} {
// CHECK-NOT: func.func

module {
  fm.param @emb : tensor<16x8xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @norm : tensor<8xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @wq : tensor<8x8xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @wk : tensor<4x8xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c ring capacity = 3, kv_heads = 1, head_dim = 4 : f32
  func.func @forward(%tokens: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x16xf32> {
    %h = fm.embedding @emb[%tokens] : tensor<?xi32> -> tensor<?x8xf32>
    %n = fm.rms_norm %h, @norm eps = 1.0e-05 : tensor<?x8xf32>
    %q = fm.linear %n, @wq : tensor<?x8xf32> -> tensor<?x8xf32>
    %k = fm.linear %n, @wk : tensor<?x8xf32> -> tensor<?x4xf32>
    %qr = fm.rope interleaved %q at %pos head_dim = 4 theta = 1.0e+04 : tensor<?x8xf32>, tensor<?xi32>
    %kr = fm.rope interleaved %k at %pos head_dim = 4 theta = 1.0e+04 : tensor<?x4xf32>, tensor<?xi32>
    %a = fm.attention local %qr, %kr, %k at %pos reads @c writes @c heads = 2, kv_heads = 1, head_dim = 4 {window = 3 : i64}
        : (tensor<?x8xf32>, tensor<?x4xf32>, tensor<?x4xf32>, tensor<?xi32>) -> tensor<?x8xf32>
    %r = fm.add %h, %a : tensor<?x8xf32>
    %l = fm.logits %r, @emb : tensor<?x8xf32> -> tensor<?x16xf32>
    return %l : tensor<?x16xf32>
  }
}

// -----

// Ops without a kernel family are rejected where they are.

module {
  fm.param @emb : tensor<4x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @router : tensor<2x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @gate_up : tensor<2x8x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @down : tensor<2x16x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  func.func @forward(%tokens: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x4xf32> {
    %h = fm.embedding @emb[%tokens] : tensor<?xi32> -> tensor<?x16xf32>
    // expected-error @+1 {{'fm.moe' op has no kernel family in the plan yet}}
    %m = fm.moe softmax %h router @router gate_up @gate_up down @down top_k = 1 activation = silu : tensor<?x16xf32>
    %l = fm.logits %m, @emb : tensor<?x16xf32> -> tensor<?x4xf32>
    return %l : tensor<?x4xf32>
  }
}

// -----

module {
  // expected-error @+1 {{must take (tokens: tensor<?xi32>, positions: tensor<?xi32>) and return the logits, got '(tensor<?xi32>) -> tensor<?xi32>'}}
  func.func @forward(%tokens: tensor<?xi32>) -> tensor<?xi32> {
    return %tokens : tensor<?xi32>
  }
}

// -----

// expected-error @+1 {{fm-to-plan expects one model function, found 0}}
module {
}
