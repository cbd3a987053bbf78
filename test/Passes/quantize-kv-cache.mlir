// RUN: fmc-opt %s --fm-quantize-kv-cache | FileCheck %s
// RUN: fmc-opt %s --fm-quantize-kv-cache --fm-quantize-kv-cache | FileCheck %s
// RUN: fmc-opt %s --fm-quantize-kv-cache=element-type=f16 | FileCheck %s --check-prefix=F16
// RUN: not fmc-opt %s --fm-quantize-kv-cache=element-type=i4 2>&1 | FileCheck %s --check-prefix=BAD

// CHECK: fm.kv_cache @a linear capacity = 64, kv_heads = 2, head_dim = 8 : i8
// CHECK: fm.kv_cache @b ring capacity = 16, kv_heads = 2, head_dim = 8 : i8
// The attention ops are untouched.
// CHECK: fm.attention global %{{.*}}, %{{.*}}, %{{.*}} at %{{.*}} reads @a writes @a heads = 4, kv_heads = 2, head_dim = 8 :
// F16: fm.kv_cache @a linear capacity = 64, kv_heads = 2, head_dim = 8 : f16
// F16: fm.kv_cache @b ring capacity = 16, kv_heads = 2, head_dim = 8 : f16
// BAD: error: fm-quantize-kv-cache: element-type must be i8, f16, bf16 or f32, got 'i4'
fm.kv_cache @a linear capacity = 64, kv_heads = 2, head_dim = 8 : f32
fm.kv_cache @b ring capacity = 16, kv_heads = 2, head_dim = 8 : bf16
func.func @forward(%q: tensor<?x32xf32>, %k: tensor<?x16xf32>, %p: tensor<?xi32>) -> tensor<?x32xf32> {
  %a = fm.attention global %q, %k, %k at %p reads @a writes @a heads = 4, kv_heads = 2, head_dim = 8 : (tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x32xf32>
  %b = fm.attention local %a, %k, %k at %p reads @b writes @b heads = 4, kv_heads = 2, head_dim = 8 {window = 16 : i64} : (tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x32xf32>
  return %b : tensor<?x32xf32>
}
