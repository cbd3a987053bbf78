// A linear weight quantized to 8 bits: fm allows the encoding, no GPU kernel
// reads it. Weights: tiny-weights.bin (256 bytes), written by the test.
module {
  fm.param @emb : tensor<4x16xf32> from #fm.external<"tiny-weights.bin", offset = 0, dtype = f32>
  fm.param @w : tensor<16x16xf32, #fm.quant<bits = 8, grid = balanced, group_size = 16, scale_type = f16, layout = row_major>> from #fm.external<"tiny-weights.bin", offset = 0, dtype = f32>
  func.func @forward(%tokens: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x4xf32> {
    %h = fm.embedding @emb[%tokens] : tensor<?xi32> -> tensor<?x16xf32>
    %x = fm.linear %h, @w : tensor<?x16xf32> -> tensor<?x16xf32>
    %l = fm.logits %x, @emb : tensor<?x16xf32> -> tensor<?x4xf32>
    return %l : tensor<?x4xf32>
  }
}
