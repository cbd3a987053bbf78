// RUN: fmc-opt %s | FileCheck %s
// RUN: fmc-opt %s | fmc-opt | FileCheck %s
// RUN: fmc-opt %s --mlir-print-op-generic | fmc-opt | FileCheck %s

// Every kernel family in its custom form, round-tripped.

module {
  fm.param @emb : tensor<8x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w44 : tensor<4x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f16>
  fm.param @b4 : tensor<4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @w24 : tensor<2x4xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c ring capacity = 4, kv_heads = 1, head_dim = 2 : f32

  // CHECK-LABEL: plan.program @decode max_tokens = 1, arena_bytes = 1024
  plan.program @decode max_tokens = 1, arena_bytes = 1024 {
    // CHECK: %[[T:.*]] = plan.buffer offset = 0 {name = "tokens"} : <1, i32>
    %t = plan.buffer offset = 0 {name = "tokens"} : !plan.rows<1, i32>
    %p = plan.buffer offset = 64 {name = "positions"} : !plan.rows<1, i32>
    %h = plan.buffer offset = 128 : !plan.rows<4, f32>
    %n = plan.buffer offset = 192 : !plan.rows<4, f32>
    %l = plan.buffer offset = 256 : !plan.rows<4, f32>
    %k = plan.buffer offset = 320 : !plan.rows<2, f32>
    %v = plan.buffer offset = 384 : !plan.rows<2, f32>
    %a = plan.buffer offset = 448 : !plan.rows<4, f32>
    %g = plan.buffer offset = 512 : !plan.rows<1, f32>
    %r = plan.buffer offset = 576 : !plan.rows<2, f32>
    %w = plan.buffer offset = 640 : !plan.rows<1, f32>
    %i = plan.buffer offset = 704 : !plan.rows<1, i32>
    %y = plan.buffer offset = 768 : !plan.rows<4, f32>
    %logits = plan.buffer offset = 832 : !plan.rows<8, f32>
    // CHECK: plan.embedding @emb[%[[T]]] -> %{{.*}} {scale = 2.000000e+00 : f64}
    plan.embedding @emb[%t] -> %h {scale = 2.0 : f64} : !plan.rows<1, i32>, !plan.rows<4, f32>
    // CHECK: plan.rms_norm %{{.*}}, @b4 -> %{{.*}} eps = 1.000000e-05 group_size = 4 {weight_offset = 1.000000e+00 : f64}
    plan.rms_norm %h, @b4 -> %n eps = 1.0e-05 group_size = 4 {weight_offset = 1.0 : f64} : !plan.rows<4, f32>, !plan.rows<4, f32>
    // CHECK: plan.layer_norm %{{.*}} weight @b4 bias @b4 -> %{{.*}} eps = 1.000000e-05
    plan.layer_norm %n weight @b4 bias @b4 -> %l eps = 1.0e-05 : !plan.rows<4, f32>, !plan.rows<4, f32>
    // CHECK: plan.linear %{{.*}}, @w24 -> %{{.*}} :
    plan.linear %l, @w24 -> %k : !plan.rows<4, f32>, !plan.rows<2, f32>
    // CHECK: plan.rope rotate_half %{{.*}} at %{{.*}} -> %{{.*}} head_dim = 2 rotary_dim = 2 theta = 1.000000e+04 {attention_factor = 1.250000e+00 : f64, frequencies = array<f32: 1.250000e-01>}
    plan.rope rotate_half %k at %p -> %v head_dim = 2 rotary_dim = 2 theta = 1.0e+04 {frequencies = array<f32: 0.125>, attention_factor = 1.25 : f64} : !plan.rows<2, f32>, !plan.rows<1, i32>, !plan.rows<2, f32>
    // CHECK: plan.linear %{{.*}}, @w44 bias @b4 -> %{{.*}} :
    plan.linear %l, @w44 bias @b4 -> %n : !plan.rows<4, f32>, !plan.rows<4, f32>
    // CHECK: plan.attention local %{{.*}}, %{{.*}}, %{{.*}} at %{{.*}} reads @c writes @c -> %{{.*}} heads = 2, kv_heads = 1, head_dim = 2 scale = 5.000000e-01 {softcap = 5.000000e+01 : f64, window = 4 : i64}
    plan.attention local %n, %k, %v at %p reads @c writes @c -> %a heads = 2, kv_heads = 1, head_dim = 2 scale = 0.5 {window = 4 : i64, softcap = 50.0 : f64} : !plan.rows<4, f32>, !plan.rows<2, f32>, !plan.rows<2, f32>, !plan.rows<1, i32>, !plan.rows<4, f32>
    // CHECK: plan.attention local %{{.*}} at %{{.*}} reads @c -> %{{.*}} heads = 2
    plan.attention local %a at %p reads @c -> %h heads = 2, kv_heads = 1, head_dim = 2 scale = 0.5 {window = 4 : i64} : !plan.rows<4, f32>, !plan.rows<1, i32>, !plan.rows<4, f32>
    // CHECK: plan.activation gelu_tanh
    plan.activation gelu_tanh %h -> %l : !plan.rows<4, f32>, !plan.rows<4, f32>
    // CHECK: plan.glu silu
    plan.glu silu %l, %h -> %n : !plan.rows<4, f32>, !plan.rows<4, f32>, !plan.rows<4, f32>
    // CHECK: plan.add
    plan.add %n, %h -> %a : !plan.rows<4, f32>, !plan.rows<4, f32>, !plan.rows<4, f32>
    plan.linear %a, @w24 -> %r : !plan.rows<4, f32>, !plan.rows<2, f32>
    // CHECK: plan.moe_route sigmoid %{{.*}} -> %{{.*}}, %{{.*}} top_k = 1 {norm_topk_prob = true}
    plan.moe_route sigmoid %r -> %w, %i top_k = 1 {norm_topk_prob = true} : !plan.rows<2, f32>, !plan.rows<1, f32>, !plan.rows<1, i32>
    // CHECK: plan.moe_combine %{{.*}}, %{{.*}}[%{{.*}}, %{{.*}}] -> %{{.*}} :
    plan.moe_combine %w, %i [%a, %n] -> %y : !plan.rows<1, f32>, !plan.rows<1, i32>, !plan.rows<4, f32>, !plan.rows<4, f32>, !plan.rows<4, f32>
    plan.linear %y, @w24 -> %k : !plan.rows<4, f32>, !plan.rows<2, f32>
    plan.activation sigmoid %w -> %g : !plan.rows<1, f32>, !plan.rows<1, f32>
    // CHECK: plan.mul %{{.*}}, %{{.*}} -> %{{.*}} : !plan.rows<4, f32>, !plan.rows<1, f32>, !plan.rows<4, f32>
    plan.mul %y, %g -> %l : !plan.rows<4, f32>, !plan.rows<1, f32>, !plan.rows<4, f32>
    // CHECK: plan.logits %{{.*}}, @emb -> %{{.*}} {scale = 5.000000e-01 : f64, softcap = 3.000000e+01 : f64}
    plan.logits %l, @emb -> %logits {scale = 0.5 : f64, softcap = 30.0 : f64} : !plan.rows<4, f32>, !plan.rows<8, f32>
    // CHECK: plan.io tokens(%[[T]]) positions(%{{.*}}) logits(%{{.*}})
    plan.io tokens(%t) positions(%p) logits(%logits) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<8, f32>
  }
}
