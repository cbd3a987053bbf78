// RUN: fmc-opt %s --fm-share-kv-cache=reuse-layers=2 | FileCheck %s
// RUN: fmc-opt %s --fm-share-kv-cache=reuse-fraction=0.5 | FileCheck %s
// Idempotent: a second run with the same options changes nothing, and a run
// without options keeps an already-sharing model as it is.
// RUN: fmc-opt %s --fm-share-kv-cache=reuse-layers=2 > %t.once.mlir
// RUN: fmc-opt %t.once.mlir --fm-share-kv-cache=reuse-layers=2 > %t.twice.mlir
// RUN: diff %t.once.mlir %t.twice.mlir
// RUN: fmc-opt %t.once.mlir --fm-share-kv-cache > %t.normalized.mlir
// RUN: diff %t.once.mlir %t.normalized.mlir
// An explicit source layer.
// RUN: fmc-opt %s --fm-share-kv-cache="reuse-layers=2 source-layer=0" | FileCheck %s --check-prefix=SRC0

// Four layers; the last two become readers of layer 1's cache. Their K/V
// projections, key norm, key RoPE, caches and parameters go.
// CHECK-LABEL: module
// CHECK-DAG: fm.param @wk0
// CHECK-DAG: fm.param @wk1
// CHECK-DAG: fm.param @knorm1
// CHECK-NOT: fm.param @wk2
// CHECK-NOT: fm.param @wv2
// CHECK-NOT: fm.param @knorm2
// CHECK-NOT: fm.param @wk3
// CHECK-NOT: fm.param @wv3
// CHECK-DAG: fm.kv_cache @c0
// CHECK-DAG: fm.kv_cache @c1
// CHECK-NOT: fm.kv_cache @c2
// CHECK-NOT: fm.kv_cache @c3
// CHECK-LABEL: func.func @forward
// CHECK: fm.attention global %{{.*}}, %{{.*}}, %{{.*}} at %{{.*}} reads @c0 writes @c0
// CHECK: fm.attention global %{{.*}}, %{{.*}}, %{{.*}} at %{{.*}} reads @c1 writes @c1
// CHECK-NOT: @wk2
// CHECK: %[[Q2:.*]] = fm.rope rotate_half %{{.*}} at
// CHECK-NOT: fm.rope
// CHECK: fm.attention global %[[Q2]] at %{{.*}} reads @c1 heads = 4, kv_heads = 2, head_dim = 8 :
// CHECK: fm.attention global %{{.*}} at %{{.*}} reads @c1 heads = 4, kv_heads = 2, head_dim = 8 :
// CHECK: return

// SRC0-LABEL: func.func @forward
// SRC0: reads @c0 writes @c0
// SRC0: reads @c1 writes @c1
// SRC0: fm.attention global %{{.*}} at %{{.*}} reads @c0 heads
// SRC0: fm.attention global %{{.*}} at %{{.*}} reads @c0 heads

fm.param @wq : tensor<32x32xf32> from <"m", offset = 0, dtype = f32>
fm.param @wk0 : tensor<16x32xf32> from <"m", offset = 0, dtype = f32>
fm.param @wv0 : tensor<16x32xf32> from <"m", offset = 0, dtype = f32>
fm.param @wk1 : tensor<16x32xf32> from <"m", offset = 0, dtype = f32>
fm.param @wv1 : tensor<16x32xf32> from <"m", offset = 0, dtype = f32>
fm.param @knorm1 : tensor<8xf32> from <"m", offset = 0, dtype = f32>
fm.param @wk2 : tensor<16x32xf32> from <"m", offset = 0, dtype = f32>
fm.param @wv2 : tensor<16x32xf32> from <"m", offset = 0, dtype = f32>
fm.param @knorm2 : tensor<8xf32> from <"m", offset = 0, dtype = f32>
fm.param @wk3 : tensor<16x32xf32> from <"m", offset = 0, dtype = f32>
fm.param @wv3 : tensor<16x32xf32> from <"m", offset = 0, dtype = f32>
fm.kv_cache @c0 linear capacity = 64, kv_heads = 2, head_dim = 8 : f32
fm.kv_cache @c1 linear capacity = 64, kv_heads = 2, head_dim = 8 : f32
fm.kv_cache @c2 linear capacity = 64, kv_heads = 2, head_dim = 8 : f32
fm.kv_cache @c3 linear capacity = 64, kv_heads = 2, head_dim = 8 : f32
func.func @forward(%h0: tensor<?x32xf32>, %p: tensor<?xi32>) -> tensor<?x32xf32> {
  %q0 = fm.linear %h0, @wq : tensor<?x32xf32> -> tensor<?x32xf32>
  %k0 = fm.linear %h0, @wk0 : tensor<?x32xf32> -> tensor<?x16xf32>
  %v0 = fm.linear %h0, @wv0 : tensor<?x32xf32> -> tensor<?x16xf32>
  %h1 = fm.attention global %q0, %k0, %v0 at %p reads @c0 writes @c0 heads = 4, kv_heads = 2, head_dim = 8
      : (tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x32xf32>
  %q1 = fm.linear %h1, @wq : tensor<?x32xf32> -> tensor<?x32xf32>
  %k1 = fm.linear %h1, @wk1 : tensor<?x32xf32> -> tensor<?x16xf32>
  %kn1 = fm.rms_norm %k1, @knorm1 eps = 1.0e-05 {group_size = 8 : i64} : tensor<?x16xf32>
  %v1 = fm.linear %h1, @wv1 : tensor<?x32xf32> -> tensor<?x16xf32>
  %h2 = fm.attention global %q1, %kn1, %v1 at %p reads @c1 writes @c1 heads = 4, kv_heads = 2, head_dim = 8
      : (tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x32xf32>
  %q2 = fm.linear %h2, @wq : tensor<?x32xf32> -> tensor<?x32xf32>
  %qr2 = fm.rope rotate_half %q2 at %p head_dim = 8 theta = 1.0e+04 : tensor<?x32xf32>, tensor<?xi32>
  %k2 = fm.linear %h2, @wk2 : tensor<?x32xf32> -> tensor<?x16xf32>
  %kn2 = fm.rms_norm %k2, @knorm2 eps = 1.0e-05 {group_size = 8 : i64} : tensor<?x16xf32>
  %kr2 = fm.rope rotate_half %kn2 at %p head_dim = 8 theta = 1.0e+04 : tensor<?x16xf32>, tensor<?xi32>
  %v2 = fm.linear %h2, @wv2 : tensor<?x32xf32> -> tensor<?x16xf32>
  %h3 = fm.attention global %qr2, %kr2, %v2 at %p reads @c2 writes @c2 heads = 4, kv_heads = 2, head_dim = 8
      : (tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x32xf32>
  %q3 = fm.linear %h3, @wq : tensor<?x32xf32> -> tensor<?x32xf32>
  %k3 = fm.linear %h3, @wk3 : tensor<?x32xf32> -> tensor<?x16xf32>
  %v3 = fm.linear %h3, @wv3 : tensor<?x32xf32> -> tensor<?x16xf32>
  %h4 = fm.attention global %q3, %k3, %v3 at %p reads @c3 writes @c3 heads = 4, kv_heads = 2, head_dim = 8
      : (tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x32xf32>
  return %h4 : tensor<?x32xf32>
}
