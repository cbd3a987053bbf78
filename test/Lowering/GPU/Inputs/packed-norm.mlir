// An RMSNorm weight stored packed (4-bit): norm weights are read as floats.
// Weights: tiny-weights.bin (256 bytes), written by the test.
module {
  fm.param @emb : tensor<4x16xf32> from #fm.external<"tiny-weights.bin", offset = 0, dtype = f32>
  fm.param @n : tensor<16xf32, #fm.quant<bits = 4, grid = balanced, group_size = 16, scale_type = f16, layout = row_major>> from #fm.external<"tiny-weights.bin", offset = 0, dtype = f32>
  func.func @forward(%tokens: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x4xf32> {
    %h = fm.embedding @emb[%tokens] : tensor<?xi32> -> tensor<?x16xf32>
    %x = fm.rms_norm %h, @n eps = 1.0e-05 : tensor<?x16xf32>
    %l = fm.logits %x, @emb : tensor<?x16xf32> -> tensor<?x4xf32>
    return %l : tensor<?x4xf32>
  }
}
