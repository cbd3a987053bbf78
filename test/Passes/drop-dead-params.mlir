// RUN: fmc-opt %s --split-input-file --fm-drop-dead-params | FileCheck %s
// RUN: fmc-opt %s --split-input-file --fm-drop-dead-params --fm-drop-dead-params | FileCheck %s
// RUN: fmc-opt %s --split-input-file --fm-drop-dead-params=keep-caches | FileCheck %s --check-prefix=KEEP

// Positive: the K/V projections and cache of a layer that now reads another
// layer's cache (what KV-cache sharing leaves behind) are removed.
// CHECK-LABEL: module
// CHECK-DAG: fm.param @wq
// CHECK-DAG: fm.param @wk0
// CHECK-NOT: fm.param @wk1
// CHECK-NOT: fm.param @wv1
// CHECK-DAG: fm.kv_cache @c0
// CHECK-NOT: fm.kv_cache @c1
// KEEP-LABEL: module
// KEEP-NOT: fm.param @wk1
// KEEP: fm.kv_cache @c1
fm.param @wq : tensor<32x32xf32> from <"m", offset = 0, dtype = f32>
fm.param @wk0 : tensor<16x32xf32> from <"m", offset = 0, dtype = f32>
fm.param @wk1 : tensor<16x32xf32> from <"m", offset = 0, dtype = f32>
fm.param @wv1 : tensor<16x32xf32> from <"m", offset = 0, dtype = f32>
fm.param @unused : tensor<16x32xf32> from <"m", offset = 0, dtype = f32>
fm.kv_cache @c0 linear capacity = 16, kv_heads = 2, head_dim = 8 : f32
fm.kv_cache @c1 linear capacity = 16, kv_heads = 2, head_dim = 8 : f32
func.func @f(%x: tensor<?x32xf32>, %p: tensor<?xi32>) -> tensor<?x32xf32> {
  %q = fm.linear %x, @wq : tensor<?x32xf32> -> tensor<?x32xf32>
  %k = fm.linear %x, @wk0 : tensor<?x32xf32> -> tensor<?x16xf32>
  %a = fm.attention global %q, %k, %k at %p reads @c0 writes @c0 heads = 4, kv_heads = 2, head_dim = 8
      : (tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x32xf32>
  %b = fm.attention global %a at %p reads @c0 heads = 4, kv_heads = 2, head_dim = 8
      : (tensor<?x32xf32>, tensor<?xi32>) -> tensor<?x32xf32>
  return %b : tensor<?x32xf32>
}

// -----

// Negative: everything referenced stays, including parameters and caches
// named only inside parallel tracks and by a fused MoE's optional operands.
// CHECK-LABEL: module
// CHECK: fm.param @r
// CHECK: fm.param @gu
// CHECK: fm.param @d
// CHECK: fm.param @sgu
// CHECK: fm.param @sd
// CHECK: fm.kv_cache @t0
// KEEP-LABEL: module
fm.param @r : tensor<4x32xf32> from <"m", offset = 0, dtype = f32>
fm.param @gu : tensor<4x16x32xf32> from <"m", offset = 0, dtype = f32>
fm.param @d : tensor<4x32x8xf32> from <"m", offset = 0, dtype = f32>
fm.param @sgu : tensor<16x32xf32> from <"m", offset = 0, dtype = f32>
fm.param @sd : tensor<32x8xf32> from <"m", offset = 0, dtype = f32>
fm.kv_cache @t0 linear capacity = 16, kv_heads = 4, head_dim = 8 : f32
func.func @f(%h: tensor<?x32xf32>, %p: tensor<?xi32>) -> tensor<?x32xf32> {
  %y = fm.parallel_tracks mean depth = 1 %h : tensor<?x32xf32> {
  ^bb0(%x: tensor<?x32xf32>):
    %a = fm.attention global %x, %x, %x at %p reads @t0 writes @t0 heads = 4, kv_heads = 4, head_dim = 8
        : (tensor<?x32xf32>, tensor<?x32xf32>, tensor<?x32xf32>, tensor<?xi32>) -> tensor<?x32xf32>
    %m = fm.moe softmax %a router @r gate_up @gu down @d top_k = 2 activation = silu shared(@sgu, @sd) : tensor<?x32xf32>
    fm.yield %m : tensor<?x32xf32>
  }
  return %y : tensor<?x32xf32>
}

// -----

// A live stack keeps its parts (they supply its bytes); a dead stack goes,
// and so do the parts only it named.
// CHECK-LABEL: module
// CHECK-DAG: fm.param @g0
// CHECK-DAG: fm.param @u0
// CHECK-DAG: fm.param @gu
// CHECK-NOT: fm.param @g1
// CHECK-NOT: fm.param @dead_stack
// KEEP-LABEL: module
fm.param @g0 : tensor<2x8xf32> from <"m", offset = 0, dtype = f32>
fm.param @u0 : tensor<2x8xf32> from <"m", offset = 64, dtype = f32>
fm.param @g1 : tensor<2x8xf32> from <"m", offset = 128, dtype = f32>
fm.param @gu : tensor<4x8xf32> stacks [@g0, @u0]
fm.param @dead_stack : tensor<2x8xf32> stacks [@g1]
func.func @f(%x: tensor<?x8xf32>) -> tensor<?x4xf32> {
  %y = fm.linear %x, @gu : tensor<?x8xf32> -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}
