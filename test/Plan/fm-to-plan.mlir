// RUN: fmc-opt %s --split-input-file --allow-unregistered-dialect --fm-to-plan="prefill-tokens=8" --verify-diagnostics | FileCheck %s

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
// In a one-token run the ring's writer appends first (the slot it overwrites
// holds a position outside the window), so the append is a kernel of its
// own and the attention a reader.
// CHECK: plan.program @decode max_tokens = 1, arena_bytes = {{[0-9]+}} {
// CHECK:   plan.kv_append %[[K:[^,]*]], %[[V:[^ ]*]] at %[[P:[^ ]*]] -> @c :
// CHECK-NEXT: plan.attention local %{{[^,]*}} at %[[P]] reads @c -> %{{.*}} heads = 2
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

// A fused MoE is one plan.moe kernel with its specialization and shared
// expert.
// CHECK-LABEL: module
// CHECK: plan.program @prefill
// CHECK: plan.moe softmax %{{.*}} -> %{{.*}} router @router gate_up @gate_up down @down top_k = 1 activation = silu shared(@sgu, @sd) shared_gate @sg {norm_topk_prob = true} : !plan.rows<16, f32>, !plan.rows<16, f32>
// CHECK: plan.program @decode
// CHECK: plan.moe softmax

module {
  fm.param @emb : tensor<4x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @router : tensor<2x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @gate_up : tensor<2x8x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @down : tensor<2x16x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sgu : tensor<6x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sd : tensor<16x3xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @sg : tensor<1x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  func.func @forward(%tokens: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x4xf32> {
    %h = fm.embedding @emb[%tokens] : tensor<?xi32> -> tensor<?x16xf32>
    %m = fm.moe softmax %h router @router gate_up @gate_up down @down top_k = 1 activation = silu shared(@sgu, @sd) shared_gate @sg {norm_topk_prob = true} : tensor<?x16xf32>
    %l = fm.logits %m, @emb : tensor<?x16xf32> -> tensor<?x4xf32>
    return %l : tensor<?x4xf32>
  }
}

// -----

// Parallel tracks: each track's kernels in turn over its own buffers and
// cache, then one track_combine of the tracks' outputs.
// CHECK-LABEL: module
// CHECK: plan.program @prefill
// CHECK: %[[H:.*]] = plan.buffer {{.*}}name = "embedding"
// A linear cache's writer appends, then reads.
// CHECK: plan.kv_append %[[H]], %[[H]] at %{{.*}} -> @c0
// CHECK-NEXT: plan.attention global %[[H]] at {{.*}} reads @c0 -> %[[A0:[^ ]*]]
// CHECK: plan.kv_append %[[H]], %[[H]] at %{{.*}} -> @c1
// CHECK: plan.attention global %[[H]] at {{.*}} reads @c1 -> %[[A1:[^ ]*]]
// CHECK: plan.track_combine mean [%[[A0]], %[[A1]]] -> %{{.*}} : !plan.rows<16, f32>, !plan.rows<16, f32>, !plan.rows<16, f32>

module {
  fm.param @emb : tensor<4x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c0 linear capacity = 8, kv_heads = 2, head_dim = 8 : f32
  fm.kv_cache @c1 linear capacity = 8, kv_heads = 2, head_dim = 8 : f32
  func.func @forward(%tokens: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x4xf32> {
    %h = fm.embedding @emb[%tokens] : tensor<?xi32> -> tensor<?x16xf32>
    %t = fm.parallel_tracks mean depth = 1 %h : tensor<?x16xf32> {
    ^bb0(%x: tensor<?x16xf32>):
      %a = fm.attention global %x, %x, %x at %pos reads @c0 writes @c0 heads = 2, kv_heads = 2, head_dim = 8
          : (tensor<?x16xf32>, tensor<?x16xf32>, tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
      fm.yield %a : tensor<?x16xf32>
    }, {
    ^bb0(%x: tensor<?x16xf32>):
      %a = fm.attention global %x, %x, %x at %pos reads @c1 writes @c1 heads = 2, kv_heads = 2, head_dim = 8
          : (tensor<?x16xf32>, tensor<?x16xf32>, tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
      fm.yield %a : tensor<?x16xf32>
    }
    %l = fm.logits %t, @emb : tensor<?x16xf32> -> tensor<?x4xf32>
    return %l : tensor<?x4xf32>
  }
}

// -----

// Tracks with identical layers run layer by layer, each layer's projections
// one grouped_linear over the tracks' weights stacked [tracks, out, in]
// (declared once for both programs); tracks that differ (here in a linear's
// width) run track by track.
// CHECK-LABEL: module
// CHECK: fm.param @t1.w : tensor<16x16xf32>
// CHECK-NEXT: fm.param @t0.w.tracks : tensor<2x16x16xf32> stacks [@t0.w, @t1.w]
// CHECK-NOT: fm.param @t0.w.tracks
// CHECK: plan.program @prefill
// CHECK: plan.grouped_linear [%[[H:.*]], %[[H]]] -> [%[[Y0:.*]], %[[Y1:.*]]] weight @t0.w.tracks
// CHECK-NEXT: plan.buffer
// CHECK-NEXT: plan.kv_append %[[Y0]], %[[Y0]] at {{.*}} -> @c0
// CHECK-NEXT: plan.attention global %[[Y0]] at {{.*}} reads @c0
// CHECK: plan.attention global %[[Y1]] at {{.*}} reads @c1
// CHECK: plan.track_combine sum
// CHECK: plan.linear %{{.*}}, @t0.w
// CHECK: plan.linear %{{.*}}, @u1
// CHECK: plan.track_combine sum
// CHECK: plan.program @decode
// CHECK: plan.grouped_linear {{.*}} weight @t0.w.tracks

module {
  fm.param @emb : tensor<4x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @t0.w : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @t1.w : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @u1 : tensor<8x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @v1 : tensor<16x8xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c0 linear capacity = 8, kv_heads = 2, head_dim = 8 : f32
  fm.kv_cache @c1 linear capacity = 8, kv_heads = 2, head_dim = 8 : f32
  fm.kv_cache @c2 linear capacity = 8, kv_heads = 2, head_dim = 8 : f32
  fm.kv_cache @c3 linear capacity = 8, kv_heads = 2, head_dim = 8 : f32
  func.func @forward(%tokens: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x4xf32> {
    %h = fm.embedding @emb[%tokens] : tensor<?xi32> -> tensor<?x16xf32>
    %t = fm.parallel_tracks sum depth = 1 %h : tensor<?x16xf32> {
    ^bb0(%x: tensor<?x16xf32>):
      %y = fm.linear %x, @t0.w : tensor<?x16xf32> -> tensor<?x16xf32>
      %a = fm.attention global %y, %y, %y at %pos reads @c0 writes @c0 heads = 2, kv_heads = 2, head_dim = 8
          : (tensor<?x16xf32>, tensor<?x16xf32>, tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
      fm.yield %a : tensor<?x16xf32>
    }, {
    ^bb0(%x: tensor<?x16xf32>):
      %y = fm.linear %x, @t1.w : tensor<?x16xf32> -> tensor<?x16xf32>
      %a = fm.attention global %y, %y, %y at %pos reads @c1 writes @c1 heads = 2, kv_heads = 2, head_dim = 8
          : (tensor<?x16xf32>, tensor<?x16xf32>, tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
      fm.yield %a : tensor<?x16xf32>
    }
    %t2 = fm.parallel_tracks sum depth = 1 %t : tensor<?x16xf32> {
    ^bb0(%x: tensor<?x16xf32>):
      %y = fm.linear %x, @t0.w : tensor<?x16xf32> -> tensor<?x16xf32>
      %a = fm.attention global %y, %y, %y at %pos reads @c2 writes @c2 heads = 2, kv_heads = 2, head_dim = 8
          : (tensor<?x16xf32>, tensor<?x16xf32>, tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
      fm.yield %a : tensor<?x16xf32>
    }, {
    ^bb0(%x: tensor<?x16xf32>):
      %u = fm.linear %x, @u1 : tensor<?x16xf32> -> tensor<?x8xf32>
      %y = fm.linear %u, @v1 : tensor<?x8xf32> -> tensor<?x16xf32>
      %a = fm.attention global %y, %y, %y at %pos reads @c3 writes @c3 heads = 2, kv_heads = 2, head_dim = 8
          : (tensor<?x16xf32>, tensor<?x16xf32>, tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
      fm.yield %a : tensor<?x16xf32>
    }
    %l = fm.logits %t2, @emb : tensor<?x16xf32> -> tensor<?x4xf32>
    return %l : tensor<?x4xf32>
  }
}

// -----

// Ops without a kernel family are rejected where they are.

module {
  fm.param @emb : tensor<4x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  func.func @forward(%tokens: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x4xf32> {
    %h = fm.embedding @emb[%tokens] : tensor<?xi32> -> tensor<?x16xf32>
    // expected-error @+1 {{'test.op' op has no kernel family in the plan yet}}
    %x = "test.op"(%h) : (tensor<?x16xf32>) -> tensor<?x16xf32>
    %l = fm.logits %x, @emb : tensor<?x16xf32> -> tensor<?x4xf32>
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

// Issue 14: positions must be the program's (argument 1, which the runtime
// bounds by the context): here the embedding reads the positions and the
// attention the token ids, which the fm verifier cannot tell apart.
module {
  fm.param @emb : tensor<4x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c0 linear capacity = 8, kv_heads = 2, head_dim = 8 : f32
  func.func @forward(%tokens: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x4xf32> {
    %h = fm.embedding @emb[%pos] : tensor<?xi32> -> tensor<?x16xf32>
    // expected-error @+1 {{reads its positions from a value other than the program's positions argument (argument 1 of @forward)}}
    %a = fm.attention global %h, %h, %h at %tokens reads @c0 writes @c0 heads = 2, kv_heads = 2, head_dim = 8
        : (tensor<?x16xf32>, tensor<?x16xf32>, tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
    %l = fm.logits %a, @emb : tensor<?x16xf32> -> tensor<?x4xf32>
    return %l : tensor<?x4xf32>
  }
}

// -----

// expected-error @+1 {{fm-to-plan expects one model function, found 0}}
module {
}
