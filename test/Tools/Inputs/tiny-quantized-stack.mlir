// A linear over a quantized stack of two parameters: the artifact writer
// packs it from the parts' float bytes joined.
module {
  fm.param @emb : tensor<4x16xf32> from #fm.external<"tiny-weights.bin", offset = 0, dtype = f32>
  fm.param @a : tensor<2x16xf32> from #fm.external<"tiny-weights.bin", offset = 0, dtype = f32>
  fm.param @b : tensor<2x16xf32> from #fm.external<"tiny-weights.bin", offset = 0, dtype = f32>
  fm.param @w : tensor<4x16xf32, #fm.quant<bits = 2, grid = balanced, group_size = 32, scale_type = f16, layout = row_major>> stacks [@a, @b]
  func.func @forward(%tokens: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x4xf32> {
    %h = fm.embedding @emb[%tokens] : tensor<?xi32> -> tensor<?x16xf32>
    %y = fm.linear %h, @w : tensor<?x16xf32> -> tensor<?x4xf32>
    return %y : tensor<?x4xf32>
  }
}
