// RUN: fmc-opt %s --fm-interleave-attention="pattern=LLLG window=16 global-rope=none" | FileCheck %s
// Idempotent.
// RUN: fmc-opt %s --fm-interleave-attention="pattern=LLLG window=16 global-rope=none" > %t.once.mlir
// RUN: fmc-opt %t.once.mlir --fm-interleave-attention="pattern=LLLG window=16 global-rope=none" > %t.twice.mlir
// RUN: diff %t.once.mlir %t.twice.mlir
// Keeping RoPE on global layers, and a window as long as the context.
// RUN: fmc-opt %s --fm-interleave-attention="pattern=LG window=64" | FileCheck %s --check-prefix=ROPE

// Three local layers with ring caches of the window, then a global NoPE
// layer with a cache over the whole context (fm.context_length).
// CHECK-LABEL: module attributes {fm.context_length = 64 : i64}
// CHECK: fm.kv_cache @c0 ring capacity = 16
// CHECK: fm.kv_cache @c1 ring capacity = 16
// CHECK: fm.kv_cache @c2 ring capacity = 16
// CHECK: fm.kv_cache @c3 linear capacity = 64
// CHECK: fm.kv_cache @c4 ring capacity = 16
// CHECK-LABEL: func.func @forward
// CHECK: fm.rope
// CHECK: fm.attention local %{{.*}} reads @c0 writes @c0 {{.*}} {window = 16 : i64}
// CHECK: fm.attention local %{{.*}} reads @c1 writes @c1 {{.*}} {window = 16 : i64}
// CHECK: fm.attention local %{{.*}} reads @c2 writes @c2 {{.*}} {window = 16 : i64}
// CHECK-NOT: fm.rope
// CHECK: fm.attention global %[[Q3:[^,]*]], %[[K3:[^,]*]], %{{.*}} at %{{.*}} reads @c3 writes @c3 heads = 4, kv_heads = 2, head_dim = 8 :
// CHECK: fm.rope
// CHECK: fm.attention local %{{.*}} reads @c4 writes @c4 {{.*}} {window = 16 : i64}

// ROPE-LABEL: module
// ROPE: fm.kv_cache @c0 linear capacity = 64
// ROPE: fm.kv_cache @c1 linear capacity = 64
// ROPE-LABEL: func.func @forward
// ROPE: fm.attention local {{.*}} reads @c0 writes @c0 {{.*}} {window = 64 : i64}
// ROPE: fm.attention global {{.*}} reads @c1 writes @c1 heads = 4, kv_heads = 2, head_dim = 8 :
// ROPE: fm.attention local {{.*}} reads @c2 writes @c2
// ROPE: fm.rope
// ROPE: fm.rope
// ROPE: fm.attention global {{.*}} reads @c3 writes @c3

module attributes {fm.context_length = 64 : i64} {
  fm.kv_cache @c0 linear capacity = 64, kv_heads = 2, head_dim = 8 : f32
  fm.kv_cache @c1 linear capacity = 64, kv_heads = 2, head_dim = 8 : f32
  fm.kv_cache @c2 linear capacity = 64, kv_heads = 2, head_dim = 8 : f32
  fm.kv_cache @c3 linear capacity = 64, kv_heads = 2, head_dim = 8 : f32
  fm.kv_cache @c4 linear capacity = 64, kv_heads = 2, head_dim = 8 : f32
  func.func @forward(%h0: tensor<?x32xf32>, %k: tensor<?x16xf32>, %p: tensor<?xi32>) -> tensor<?x32xf32> {
    %kr = fm.rope rotate_half %k at %p head_dim = 8 theta = 1.0e+04 : tensor<?x16xf32>, tensor<?xi32>
    %q0 = fm.rope rotate_half %h0 at %p head_dim = 8 theta = 1.0e+04 : tensor<?x32xf32>, tensor<?xi32>
    %h1 = fm.attention global %q0, %kr, %k at %p reads @c0 writes @c0 heads = 4, kv_heads = 2, head_dim = 8 : (tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x32xf32>
    %h2 = fm.attention global %h1, %kr, %k at %p reads @c1 writes @c1 heads = 4, kv_heads = 2, head_dim = 8 : (tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x32xf32>
    %h3 = fm.attention global %h2, %kr, %k at %p reads @c2 writes @c2 heads = 4, kv_heads = 2, head_dim = 8 : (tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x32xf32>
    %q3 = fm.rope rotate_half %h3 at %p head_dim = 8 theta = 1.0e+04 : tensor<?x32xf32>, tensor<?xi32>
    %k3 = fm.rope rotate_half %k at %p head_dim = 8 theta = 1.0e+04 : tensor<?x16xf32>, tensor<?xi32>
    %h4 = fm.attention global %q3, %k3, %k at %p reads @c3 writes @c3 heads = 4, kv_heads = 2, head_dim = 8 : (tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x32xf32>
    %q4 = fm.rope rotate_half %h4 at %p head_dim = 8 theta = 1.0e+04 : tensor<?x32xf32>, tensor<?xi32>
    %h5 = fm.attention global %q4, %kr, %k at %p reads @c4 writes @c4 heads = 4, kv_heads = 2, head_dim = 8 : (tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x32xf32>
    return %h5 : tensor<?x32xf32>
  }
}

