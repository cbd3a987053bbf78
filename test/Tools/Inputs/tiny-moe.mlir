// A fused mixture of experts whose stacked gate_up names a part that lies
// beyond the end of tiny-weights.bin (256 bytes): the stack's bytes cannot
// be built.
module {
  fm.param @emb : tensor<4x16xf32> from #fm.external<"tiny-weights.bin", offset = 0, dtype = f32>
  fm.param @router : tensor<2x16xf32> from #fm.external<"tiny-weights.bin", offset = 0, dtype = f32>
  fm.param @g0 : tensor<1x16xf32> from #fm.external<"tiny-weights.bin", offset = 0, dtype = f32>
  fm.param @u0 : tensor<1x16xf32> from #fm.external<"tiny-weights.bin", offset = 64, dtype = f32>
  fm.param @g1 : tensor<1x16xf32> from #fm.external<"tiny-weights.bin", offset = 128, dtype = f32>
  fm.param @u1 : tensor<1x16xf32> from #fm.external<"tiny-weights.bin", offset = 240, dtype = f32>
  fm.param @d0 : tensor<16x1xf32> from #fm.external<"tiny-weights.bin", offset = 0, dtype = f32>
  fm.param @d1 : tensor<16x1xf32> from #fm.external<"tiny-weights.bin", offset = 64, dtype = f32>
  fm.param @gate_up : tensor<2x2x16xf32> stacks [@g0, @u0, @g1, @u1]
  fm.param @down : tensor<2x16x1xf32> stacks [@d0, @d1]
  func.func @forward(%tokens: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x4xf32> {
    %h = fm.embedding @emb[%tokens] : tensor<?xi32> -> tensor<?x16xf32>
    %m = fm.moe softmax %h router @router gate_up @gate_up down @down top_k = 1 activation = silu : tensor<?x16xf32>
    %l = fm.logits %m, @emb : tensor<?x16xf32> -> tensor<?x4xf32>
    return %l : tensor<?x4xf32>
  }
}
