// fm-partition-tracks keeps one rank's contiguous share of every
// parallel-tracks block, marks the block `ranks = N`, drops the other
// ranks' weights and caches, and records [rank, ranks] on the module;
// fm-to-plan then sums the local tracks and all-reduces across ranks.
// RUN: fmc-opt %s --fm-partition-tracks="ranks=2 rank=1" | FileCheck %s --check-prefix=RANK1
// RUN: fmc-opt %s --fm-partition-tracks="ranks=2 rank=0" | FileCheck %s --check-prefix=RANK0
// RUN: fmc-opt %s --fm-partition-tracks="ranks=4 rank=3" | FileCheck %s --check-prefix=FOUR
// RUN: fmc-opt %s --fm-partition-tracks="ranks=1" | FileCheck %s --check-prefix=WHOLE
// RUN: fmc-opt %s --fm-partition-tracks="ranks=2 rank=1" --fm-to-plan="prefill-tokens=8" | FileCheck %s --check-prefix=PLAN2
// RUN: fmc-opt %s --fm-partition-tracks="ranks=4 rank=0" --fm-to-plan="prefill-tokens=8" | FileCheck %s --check-prefix=PLAN4

// Rank 1 of 2 keeps tracks 2 and 3: their weights and caches only.
// RANK1: module attributes {fm.track_partition = array<i64: 1, 2>}
// RANK1-NOT: @t0.w
// RANK1-NOT: @t1.w
// RANK1-NOT: @c0
// RANK1-NOT: @c1
// RANK1: fm.param @emb
// RANK1: fm.param @t2.w
// RANK1: fm.param @t3.w
// RANK1: fm.kv_cache @c2
// RANK1: fm.kv_cache @c3
// RANK1: fm.parallel_tracks mean depth = 1 ranks = 2 %{{.*}} : tensor<?x16xf32> {
// RANK1: fm.linear %{{.*}}, @t2.w
// RANK1: reads @c2
// RANK1: }, {
// RANK1: fm.linear %{{.*}}, @t3.w
// RANK1: reads @c3
// RANK1-NEXT: fm.yield
// RANK1-NEXT: }
// RANK1-NEXT: fm.logits

// RANK0: module attributes {fm.track_partition = array<i64: 0, 2>}
// RANK0: fm.param @t0.w
// RANK0: fm.param @t1.w
// RANK0-NOT: @t2.w
// RANK0-NOT: @t3.w
// RANK0: fm.linear %{{.*}}, @t0.w
// RANK0: fm.linear %{{.*}}, @t1.w

// FOUR: module attributes {fm.track_partition = array<i64: 3, 4>}
// FOUR-NOT: @t2.w
// FOUR: fm.param @t3.w
// FOUR: fm.parallel_tracks mean depth = 1 ranks = 4
// FOUR: fm.linear %{{.*}}, @t3.w
// FOUR-NOT: }, {
// FOUR: fm.logits

// One rank is the whole model: nothing changes.
// WHOLE-NOT: fm.track_partition
// WHOLE: fm.param @t0.w
// WHOLE: fm.param @t3.w
// WHOLE-NOT: ranks =

// Two local tracks: their sum, then the all-reduce with the mean's 1/4.
// PLAN2: plan.program @prefill
// PLAN2: plan.track_combine sum [%{{[^,]*}}, %{{[^]]*}}] -> %[[P:[^ ]*]] :
// PLAN2-NEXT: plan.all_reduce [%[[P]]] -> [%{{.*}}] ranks = 2 scale = 2.500000e-01 : !plan.rows<16, f32>, !plan.rows<16, f32>
// PLAN2: plan.program @decode
// PLAN2: plan.all_reduce {{.*}} ranks = 2

// One local track: its output is the all-reduce's input.
// PLAN4: plan.program @prefill
// PLAN4-NOT: plan.track_combine
// PLAN4: plan.attention global {{.*}} reads @c0 -> %[[A:[^ ]*]]
// PLAN4-NOT: plan.track_combine
// PLAN4: plan.all_reduce [%[[A]]] -> [%{{.*}}] ranks = 4 scale = 2.500000e-01

module {
  fm.param @emb : tensor<4x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @t0.w : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @t1.w : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @t2.w : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.param @t3.w : tensor<16x16xf32> from #fm.external<"w.bin", offset = 0, dtype = f32>
  fm.kv_cache @c0 linear capacity = 8, kv_heads = 2, head_dim = 8 : f32
  fm.kv_cache @c1 linear capacity = 8, kv_heads = 2, head_dim = 8 : f32
  fm.kv_cache @c2 linear capacity = 8, kv_heads = 2, head_dim = 8 : f32
  fm.kv_cache @c3 linear capacity = 8, kv_heads = 2, head_dim = 8 : f32
  func.func @forward(%tokens: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x4xf32> {
    %h = fm.embedding @emb[%tokens] : tensor<?xi32> -> tensor<?x16xf32>
    %t = fm.parallel_tracks mean depth = 1 %h : tensor<?x16xf32> {
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
    }, {
    ^bb0(%x: tensor<?x16xf32>):
      %y = fm.linear %x, @t2.w : tensor<?x16xf32> -> tensor<?x16xf32>
      %a = fm.attention global %y, %y, %y at %pos reads @c2 writes @c2 heads = 2, kv_heads = 2, head_dim = 8
          : (tensor<?x16xf32>, tensor<?x16xf32>, tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
      fm.yield %a : tensor<?x16xf32>
    }, {
    ^bb0(%x: tensor<?x16xf32>):
      %y = fm.linear %x, @t3.w : tensor<?x16xf32> -> tensor<?x16xf32>
      %a = fm.attention global %y, %y, %y at %pos reads @c3 writes @c3 heads = 2, kv_heads = 2, head_dim = 8
          : (tensor<?x16xf32>, tensor<?x16xf32>, tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
      fm.yield %a : tensor<?x16xf32>
    }
    %l = fm.logits %t, @emb : tensor<?x16xf32> -> tensor<?x4xf32>
    return %l : tensor<?x4xf32>
  }
}
