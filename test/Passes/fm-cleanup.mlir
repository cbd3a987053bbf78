// The fm-cleanup pipeline: dead ops go (canonicalize), duplicates merge (CSE),
// then their parameters go; cache-writing attention stays even when unused.
// RUN: fmc-opt %s --fm-cleanup | FileCheck %s

// CHECK-LABEL: module
// CHECK-NOT: fm.param @dead
// CHECK: fm.param @w
// CHECK: fm.kv_cache @c
// CHECK-LABEL: func.func @f
// CHECK: %[[Y:.*]] = fm.linear %{{.*}}, @w
// CHECK-NOT: fm.linear
// CHECK: fm.attention global %{{.*}}, %{{.*}}, %{{.*}} at %{{.*}} reads @c writes @c
// CHECK: %[[S:.*]] = fm.add %[[Y]], %[[Y]]
// CHECK: return %[[S]]
fm.param @w : tensor<32x32xf32> from <"m", offset = 0, dtype = f32>
fm.param @dead : tensor<32x32xf32> from <"m", offset = 0, dtype = f32>
fm.kv_cache @c linear capacity = 16, kv_heads = 4, head_dim = 8 : f32
func.func @f(%x: tensor<?x32xf32>, %p: tensor<?xi32>) -> tensor<?x32xf32> {
  %y1 = fm.linear %x, @w : tensor<?x32xf32> -> tensor<?x32xf32>
  %y2 = fm.linear %x, @w : tensor<?x32xf32> -> tensor<?x32xf32>
  %unused = fm.linear %x, @dead : tensor<?x32xf32> -> tensor<?x32xf32>
  %a = fm.attention global %y1, %y1, %y1 at %p reads @c writes @c heads = 4, kv_heads = 4, head_dim = 8
      : (tensor<?x32xf32>, tensor<?x32xf32>, tensor<?x32xf32>, tensor<?xi32>) -> tensor<?x32xf32>
  %s = fm.add %y1, %y2 : tensor<?x32xf32>
  return %s : tensor<?x32xf32>
}
