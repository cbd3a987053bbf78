// fm-interleave-attention on a parallel-track model.
// RUN: fmc-opt %s --fm-interleave-attention="pattern=LG window=16" | FileCheck %s

// Parallel tracks: the pattern counts layers within each track, across the
// track's blocks (two blocks of depth 2: layers 0-1, then 2-3), so every
// track gets L G L G. The context comes from the longest linear cache.
// CHECK-LABEL: module
// CHECK: fm.kv_cache @b0t0l0 ring capacity = 16
// CHECK: fm.kv_cache @b0t0l1 linear capacity = 128
// CHECK: fm.kv_cache @b0t1l0 ring capacity = 16
// CHECK: fm.kv_cache @b0t1l1 linear capacity = 128
// CHECK: fm.kv_cache @b1t0l0 ring capacity = 16
// CHECK: fm.kv_cache @b1t0l1 linear capacity = 128
// CHECK-LABEL: func.func @tracks
// CHECK: fm.parallel_tracks
// CHECK: fm.attention local {{.*}} reads @b0t0l0
// CHECK: fm.attention global {{.*}} reads @b0t0l1
// CHECK: fm.attention local {{.*}} reads @b0t1l0
// CHECK: fm.attention global {{.*}} reads @b0t1l1
// CHECK: fm.parallel_tracks
// CHECK: fm.attention local {{.*}} reads @b1t0l0
// CHECK: fm.attention global {{.*}} reads @b1t0l1
// CHECK: fm.attention local {{.*}} reads @b0t1l0 heads = 4, kv_heads = 4, head_dim = 8 {window = 16 : i64}
// CHECK: fm.attention global {{.*}} reads @b0t1l1 heads = 4, kv_heads = 4, head_dim = 8 :
fm.kv_cache @b0t0l0 linear capacity = 128, kv_heads = 4, head_dim = 8 : f32
fm.kv_cache @b0t0l1 linear capacity = 128, kv_heads = 4, head_dim = 8 : f32
fm.kv_cache @b0t1l0 linear capacity = 128, kv_heads = 4, head_dim = 8 : f32
fm.kv_cache @b0t1l1 linear capacity = 128, kv_heads = 4, head_dim = 8 : f32
fm.kv_cache @b1t0l0 ring capacity = 8, kv_heads = 4, head_dim = 8 : f32
fm.kv_cache @b1t0l1 ring capacity = 8, kv_heads = 4, head_dim = 8 : f32
func.func @tracks(%h: tensor<?x32xf32>, %p: tensor<?xi32>) -> tensor<?x32xf32> {
  %y = fm.parallel_tracks mean depth = 2 %h : tensor<?x32xf32> {
  ^bb0(%x: tensor<?x32xf32>):
    %a = fm.attention global %x, %x, %x at %p reads @b0t0l0 writes @b0t0l0 heads = 4, kv_heads = 4, head_dim = 8 : (tensor<?x32xf32>, tensor<?x32xf32>, tensor<?x32xf32>, tensor<?xi32>) -> tensor<?x32xf32>
    %b = fm.attention global %a, %a, %a at %p reads @b0t0l1 writes @b0t0l1 heads = 4, kv_heads = 4, head_dim = 8 : (tensor<?x32xf32>, tensor<?x32xf32>, tensor<?x32xf32>, tensor<?xi32>) -> tensor<?x32xf32>
    fm.yield %b : tensor<?x32xf32>
  }, {
  ^bb0(%x: tensor<?x32xf32>):
    %a = fm.attention global %x, %x, %x at %p reads @b0t1l0 writes @b0t1l0 heads = 4, kv_heads = 4, head_dim = 8 : (tensor<?x32xf32>, tensor<?x32xf32>, tensor<?x32xf32>, tensor<?xi32>) -> tensor<?x32xf32>
    %b = fm.attention global %a, %a, %a at %p reads @b0t1l1 writes @b0t1l1 heads = 4, kv_heads = 4, head_dim = 8 : (tensor<?x32xf32>, tensor<?x32xf32>, tensor<?x32xf32>, tensor<?xi32>) -> tensor<?x32xf32>
    fm.yield %b : tensor<?x32xf32>
  }
  %z = fm.parallel_tracks mean depth = 2 %y : tensor<?x32xf32> {
  ^bb0(%x: tensor<?x32xf32>):
    %a = fm.attention local %x, %x, %x at %p reads @b1t0l0 writes @b1t0l0 heads = 4, kv_heads = 4, head_dim = 8 {window = 8 : i64} : (tensor<?x32xf32>, tensor<?x32xf32>, tensor<?x32xf32>, tensor<?xi32>) -> tensor<?x32xf32>
    %b = fm.attention local %a, %a, %a at %p reads @b1t0l1 writes @b1t0l1 heads = 4, kv_heads = 4, head_dim = 8 {window = 8 : i64} : (tensor<?x32xf32>, tensor<?x32xf32>, tensor<?x32xf32>, tensor<?xi32>) -> tensor<?x32xf32>
    fm.yield %b : tensor<?x32xf32>
  }, {
  ^bb0(%x: tensor<?x32xf32>):
    %a = fm.attention global %x at %p reads @b0t1l0 heads = 4, kv_heads = 4, head_dim = 8 : (tensor<?x32xf32>, tensor<?xi32>) -> tensor<?x32xf32>
    %b = fm.attention global %a at %p reads @b0t1l1 heads = 4, kv_heads = 4, head_dim = 8 : (tensor<?x32xf32>, tensor<?xi32>) -> tensor<?x32xf32>
    fm.yield %b : tensor<?x32xf32>
  }
  return %z : tensor<?x32xf32>
}
