// RUN: fmc-opt %s | FileCheck %s
// RUN: fmc-opt %s | fmc-opt | FileCheck %s
// RUN: fmc-opt %s --mlir-print-op-generic | fmc-opt | FileCheck %s

// plan.dispatch with each kernel configuration, and plan.kv_append,
// round-tripped.

module {
  fm.param @emb : tensor<8x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @n16 : tensor<16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @wq : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @wk : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 8, kv_heads = 2, head_dim = 8 : f32
  // CHECK-LABEL: plan.program @decode
  plan.program @decode max_tokens = 1, arena_bytes = 65536 {
    %t = plan.buffer offset = 0 : !plan.rows<1, i32>
    %p = plan.buffer offset = 1024 : !plan.rows<1, i32>
    %h = plan.buffer offset = 2048 : !plan.rows<16, f32>
    %x = plan.buffer offset = 4096 : !plan.rows<16, f32>
    %q = plan.buffer offset = 6144 : !plan.rows<16, f32>
    %k = plan.buffer offset = 8192 : !plan.rows<16, f32>
    %a = plan.buffer offset = 10240 : !plan.rows<16, f32>
    %y = plan.buffer offset = 12288 : !plan.rows<16, f32>
    %l = plan.buffer offset = 16384 : !plan.rows<8, f32>
    // CHECK: plan.dispatch #plan.library {
    // CHECK-NEXT: plan.embedding
    plan.dispatch #plan.library {
      plan.embedding @emb[%t] -> %h : !plan.rows<1, i32>, !plan.rows<16, f32>
    }
    // CHECK: plan.dispatch #plan.matvec<workgroup_size = 256, rows_per_workgroup = 8, threads_per_row = 32, vector_bytes = 16, tokens_per_pass = 1, activations = f32, tiles = heads> {
    // CHECK-NEXT: plan.rms_norm
    // CHECK-NEXT: plan.linear
    // CHECK-NEXT: plan.linear
    // CHECK-NEXT: plan.kv_append %{{.*}}, %{{.*}} at %{{.*}} -> @c : !plan.rows<16, f32>, !plan.rows<16, f32>, !plan.rows<1, i32>
    plan.dispatch #plan.matvec<workgroup_size = 256, rows_per_workgroup = 8, threads_per_row = 32, vector_bytes = 16, tokens_per_pass = 1, activations = f32, tiles = heads> {
      plan.rms_norm %h, @n16 -> %x eps = 1.0e-05 group_size = 16 : !plan.rows<16, f32>, !plan.rows<16, f32>
      plan.linear %x, @wq -> %q : !plan.rows<16, f32>, !plan.rows<16, f32>
      plan.linear %x, @wk -> %k : !plan.rows<16, f32>, !plan.rows<16, f32>
      plan.kv_append %q, %k at %p -> @c : !plan.rows<16, f32>, !plan.rows<16, f32>, !plan.rows<1, i32>
    }
    // CHECK: plan.dispatch #plan.decode_attention<splits = 4> {
    plan.dispatch #plan.decode_attention<splits = 4> {
      plan.attention global %h at %p reads @c -> %a heads = 2, kv_heads = 2, head_dim = 8 scale = 0.5 : !plan.rows<16, f32>, !plan.rows<1, i32>, !plan.rows<16, f32>
    }
    // CHECK: plan.dispatch #plan.rowwise<workgroup_size = 128> {
    plan.dispatch #plan.rowwise<workgroup_size = 128> {
      plan.add %a, %h -> %y : !plan.rows<16, f32>, !plan.rows<16, f32>, !plan.rows<16, f32>
    }
    plan.logits %y, @emb -> %l : !plan.rows<16, f32>, !plan.rows<8, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}
