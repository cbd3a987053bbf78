// A fused mixture of experts, which the plan has no kernel family for yet.
module {
  fm.param @emb : tensor<4x16xf32> from #fm.external<"tiny-weights.bin", offset = 0, dtype = f32>
  fm.param @router : tensor<2x16xf32> from #fm.external<"tiny-weights.bin", offset = 0, dtype = f32>
  fm.param @gate_up : tensor<2x8x16xf32> from #fm.external<"tiny-weights.bin", offset = 0, dtype = f32>
  fm.param @down : tensor<2x16x4xf32> from #fm.external<"tiny-weights.bin", offset = 0, dtype = f32>
  func.func @forward(%tokens: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x4xf32> {
    %h = fm.embedding @emb[%tokens] : tensor<?xi32> -> tensor<?x16xf32>
    %m = fm.moe softmax %h router @router gate_up @gate_up down @down top_k = 1 activation = silu : tensor<?x16xf32>
    %l = fm.logits %m, @emb : tensor<?x16xf32> -> tensor<?x4xf32>
    return %l : tensor<?x4xf32>
  }
}
