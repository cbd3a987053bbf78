// fm-partition-tensor keeps one rank's Megatron-style share of every layer:
// q/k/v and gate/up column-parallel (a block of weight rows, by offset),
// attention-output and down row-parallel (a block of weight columns, by
// row_stride) with an fm.all_reduce after each, heads and KV-cache heads
// divided, a row-parallel bias on rank 0 only; a routed MoE layer sums once,
// after its combine. fm-to-plan lowers each all-reduce to plan.all_reduce.
// RUN: fmc-opt %s --fm-partition-tensor="ranks=2 rank=1" | FileCheck %s --check-prefix=RANK1
// RUN: fmc-opt %s --fm-partition-tensor="ranks=2 rank=0" | FileCheck %s --check-prefix=RANK0
// RUN: fmc-opt %s --fm-partition-tensor="ranks=1" | FileCheck %s --check-prefix=WHOLE
// RUN: fmc-opt %s --fm-partition-tensor="ranks=2 rank=1" --fm-to-plan="prefill-tokens=4" | FileCheck %s --check-prefix=PLAN

// Rank 1 of 2: rows 16..31 of wq (offset 4096 + 16*32*4), the second
// 8-row block of the f16 wk, columns 16..31 of wo (offset 16384 + 16*4,
// rows 128 bytes apart), 32 of 64 hidden units.
// RANK1: module attributes {fm.tensor_partition = array<i64: 1, 2>}
// RANK1-DAG: fm.param @wq.rank1 : tensor<16x32xf32> from <"w.bin", offset = 6144, dtype = f32>
// RANK1-DAG: fm.param @bq.rank1 : tensor<16xf32> from <"w.bin", offset = 64, dtype = f32>
// RANK1-DAG: fm.param @wk.rank1 : tensor<8x32xf16> from <"w.bin", offset = 8704, dtype = f16>
// RANK1-DAG: fm.param @wo.rank1 : tensor<32x16xf32> from <"w.bin", offset = 16448, dtype = f32, row_stride = 128>
// RANK1-DAG: fm.param @wd.rank1 : tensor<32x32xf32> from <"w.bin", offset = 32896, dtype = f32, row_stride = 256>
// RANK1-DAG: fm.param @e0.wd.rank1 : tensor<32x8xf32> from <"w.bin", offset = 32, dtype = f32, row_stride = 64>
// RANK1-DAG: fm.param @router : tensor<2x32xf32>
// RANK1-DAG: fm.kv_cache @c0 linear capacity = 16, kv_heads = 1, head_dim = 8 : f32
// The whole weights are gone; the per-head norm and the router stay whole.
// RANK1-NOT: fm.param @wq :
// RANK1-NOT: fm.param @wo :
// RANK1: func.func @forward
// RANK1: %[[Q:.*]] = fm.linear %{{.*}}, @wq.rank1 bias @bq.rank1 : tensor<?x32xf32> -> tensor<?x16xf32>
// RANK1: fm.rms_norm %[[Q]], @qn eps = {{.*}} {group_size = 8 : i64} : tensor<?x16xf32>
// RANK1: fm.rope rotate_half %{{.*}} : tensor<?x16xf32>, tensor<?xi32>
// RANK1: fm.linear %{{.*}}, @wk.rank1 : tensor<?x32xf32> -> tensor<?x8xf32>
// RANK1: fm.attention global {{.*}} reads @c0 writes @c0 heads = 2, kv_heads = 1, head_dim = 8 : (tensor<?x16xf32>, tensor<?x8xf32>, tensor<?x8xf32>, tensor<?xi32>) -> tensor<?x16xf32>
// Rank 1 leaves the output bias to rank 0.
// RANK1-NEXT: %[[O:.*]] = fm.linear %{{.*}}, @wo.rank1 : tensor<?x16xf32> -> tensor<?x32xf32>
// RANK1-NEXT: %[[OS:.*]] = fm.all_reduce %[[O]] ranks = 2 : tensor<?x32xf32>
// RANK1-NEXT: fm.add %{{.*}}, %[[OS]]
// RANK1: fm.glu silu %{{.*}} : tensor<?x32xf32>
// RANK1-NEXT: %[[D:.*]] = fm.linear %{{.*}}, @wd.rank1 : tensor<?x32xf32> -> tensor<?x32xf32>
// RANK1-NEXT: %[[DS:.*]] = fm.all_reduce %[[D]] ranks = 2 : tensor<?x32xf32>
// RANK1-NEXT: fm.add %{{.*}}, %[[DS]]
// The MoE layer: router whole, experts split, one sum after the combine.
// RANK1: fm.linear %{{.*}}, @router : tensor<?x32xf32> -> tensor<?x2xf32>
// RANK1: fm.linear %{{.*}}, @e0.wg.rank1 : tensor<?x32xf32> -> tensor<?x8xf32>
// RANK1-NOT: fm.all_reduce
// RANK1: %[[C:.*]] = fm.moe_combine
// RANK1-NEXT: %[[CS:.*]] = fm.all_reduce %[[C]] ranks = 2 : tensor<?x32xf32>
// RANK1-NEXT: fm.add %{{.*}}, %[[CS]]
// RANK1-NOT: fm.all_reduce
// RANK1: fm.logits

// Rank 0: the first blocks, and the output bias.
// RANK0: module attributes {fm.tensor_partition = array<i64: 0, 2>}
// RANK0-DAG: fm.param @wq.rank0 : tensor<16x32xf32> from <"w.bin", offset = 4096, dtype = f32>
// RANK0-DAG: fm.param @wo.rank0 : tensor<32x16xf32> from <"w.bin", offset = 16384, dtype = f32, row_stride = 128>
// RANK0: fm.linear %{{.*}}, @wo.rank0 bias @bo : tensor<?x16xf32> -> tensor<?x32xf32>

// WHOLE-NOT: fm.tensor_partition
// WHOLE-NOT: fm.all_reduce
// WHOLE: fm.attention global {{.*}} heads = 4, kv_heads = 2

// PLAN: plan.program @prefill
// PLAN: plan.linear %{{.*}}, @wo.rank1 -> %[[P:[^ ]*]] :
// PLAN: plan.all_reduce [%[[P]]] -> [%{{.*}}] ranks = 2 scale = 1.000000e+00 : !plan.rows<32, f32>, !plan.rows<32, f32>
// PLAN: plan.program @decode
// PLAN-COUNT-4: plan.all_reduce

module {
  fm.param @emb : tensor<8x32xf32> from <"w.bin", offset = 0, dtype = f32>
  fm.param @n0 : tensor<32xf32> from <"w.bin", offset = 0, dtype = f32>
  fm.param @wq : tensor<32x32xf32> from <"w.bin", offset = 4096, dtype = f32>
  fm.param @bq : tensor<32xf32> from <"w.bin", offset = 0, dtype = f32>
  fm.param @qn : tensor<8xf32> from <"w.bin", offset = 0, dtype = f32>
  fm.param @wk : tensor<16x32xf16> from <"w.bin", offset = 8192, dtype = f16>
  fm.param @wv : tensor<16x32xf32> from <"w.bin", offset = 0, dtype = f32>
  fm.param @wo : tensor<32x32xf32> from <"w.bin", offset = 16384, dtype = f32>
  fm.param @bo : tensor<32xf32> from <"w.bin", offset = 0, dtype = f32>
  fm.param @wg : tensor<64x32xf32> from <"w.bin", offset = 0, dtype = f32>
  fm.param @wu : tensor<64x32xf32> from <"w.bin", offset = 0, dtype = f32>
  fm.param @wd : tensor<32x64xf32> from <"w.bin", offset = 32768, dtype = f32>
  fm.param @router : tensor<2x32xf32> from <"w.bin", offset = 0, dtype = f32>
  fm.param @e0.wg : tensor<16x32xf32> from <"w.bin", offset = 0, dtype = f32>
  fm.param @e0.wu : tensor<16x32xf32> from <"w.bin", offset = 0, dtype = f32>
  fm.param @e0.wd : tensor<32x16xf32> from <"w.bin", offset = 0, dtype = f32>
  fm.param @e1.wg : tensor<16x32xf32> from <"w.bin", offset = 0, dtype = f32>
  fm.param @e1.wu : tensor<16x32xf32> from <"w.bin", offset = 0, dtype = f32>
  fm.param @e1.wd : tensor<32x16xf32> from <"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c0 linear capacity = 16, kv_heads = 2, head_dim = 8 : f32
  fm.kv_cache @c1 linear capacity = 16, kv_heads = 2, head_dim = 8 : f32
  func.func @forward(%tokens: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x8xf32> {
    %h = fm.embedding @emb[%tokens] : tensor<?xi32> -> tensor<?x32xf32>
    %a = fm.rms_norm %h, @n0 eps = 1.0e-05 : tensor<?x32xf32>
    %q = fm.linear %a, @wq bias @bq : tensor<?x32xf32> -> tensor<?x32xf32>
    %qn = fm.rms_norm %q, @qn eps = 1.0e-06 {group_size = 8 : i64} : tensor<?x32xf32>
    %qr = fm.rope rotate_half %qn at %pos head_dim = 8 theta = 1.0e4 : tensor<?x32xf32>, tensor<?xi32>
    %k = fm.linear %a, @wk : tensor<?x32xf32> -> tensor<?x16xf32>
    %kr = fm.rope rotate_half %k at %pos head_dim = 8 theta = 1.0e4 : tensor<?x16xf32>, tensor<?xi32>
    %v = fm.linear %a, @wv : tensor<?x32xf32> -> tensor<?x16xf32>
    %att = fm.attention global %qr, %kr, %v at %pos reads @c0 writes @c0 heads = 4, kv_heads = 2, head_dim = 8
        : (tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x32xf32>
    %o = fm.linear %att, @wo bias @bo : tensor<?x32xf32> -> tensor<?x32xf32>
    %r = fm.add %h, %o : tensor<?x32xf32>
    %f = fm.rms_norm %r, @n0 eps = 1.0e-05 : tensor<?x32xf32>
    %g = fm.linear %f, @wg : tensor<?x32xf32> -> tensor<?x64xf32>
    %u = fm.linear %f, @wu : tensor<?x32xf32> -> tensor<?x64xf32>
    %s = fm.glu silu %g, %u : tensor<?x64xf32>
    %d = fm.linear %s, @wd : tensor<?x64xf32> -> tensor<?x32xf32>
    %h1 = fm.add %r, %d : tensor<?x32xf32>
    %a1 = fm.rms_norm %h1, @n0 eps = 1.0e-05 : tensor<?x32xf32>
    %q1 = fm.linear %a1, @wq : tensor<?x32xf32> -> tensor<?x32xf32>
    %k1 = fm.linear %a1, @wk : tensor<?x32xf32> -> tensor<?x16xf32>
    %v1 = fm.linear %a1, @wv : tensor<?x32xf32> -> tensor<?x16xf32>
    %att1 = fm.attention global %q1, %k1, %v1 at %pos reads @c1 writes @c1 heads = 4, kv_heads = 2, head_dim = 8
        : (tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x32xf32>
    %o1 = fm.linear %att1, @wo : tensor<?x32xf32> -> tensor<?x32xf32>
    %r1 = fm.add %h1, %o1 : tensor<?x32xf32>
    %f1 = fm.rms_norm %r1, @n0 eps = 1.0e-05 : tensor<?x32xf32>
    %router = fm.linear %f1, @router : tensor<?x32xf32> -> tensor<?x2xf32>
    %w, %i = fm.moe_route softmax %router top_k = 1 : tensor<?x2xf32> -> tensor<?x1xf32>, tensor<?x1xi32>
    %g0 = fm.linear %f1, @e0.wg : tensor<?x32xf32> -> tensor<?x16xf32>
    %u0 = fm.linear %f1, @e0.wu : tensor<?x32xf32> -> tensor<?x16xf32>
    %s0 = fm.glu silu %g0, %u0 : tensor<?x16xf32>
    %d0 = fm.linear %s0, @e0.wd : tensor<?x16xf32> -> tensor<?x32xf32>
    %g1 = fm.linear %f1, @e1.wg : tensor<?x32xf32> -> tensor<?x16xf32>
    %u1 = fm.linear %f1, @e1.wu : tensor<?x32xf32> -> tensor<?x16xf32>
    %s1 = fm.glu silu %g1, %u1 : tensor<?x16xf32>
    %d1 = fm.linear %s1, @e1.wd : tensor<?x16xf32> -> tensor<?x32xf32>
    %m = fm.moe_combine %w, %i [%d0, %d1] : tensor<?x1xf32>, tensor<?x1xi32>, [tensor<?x32xf32>, tensor<?x32xf32>] -> tensor<?x32xf32>
    %h2 = fm.add %r1, %m : tensor<?x32xf32>
    %l = fm.logits %h2, @emb : tensor<?x32xf32> -> tensor<?x8xf32>
    return %l : tensor<?x8xf32>
  }
}
