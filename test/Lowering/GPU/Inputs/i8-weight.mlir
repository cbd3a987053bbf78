// A linear whose weight is stored as i8, which the CPU artifact format
// holds but no GPU kernel reads. Weights: tiny-weights.bin (256 bytes),
// written by the test into its directory.
module {
  fm.param @emb : tensor<4x16xf32> from #fm.external<"tiny-weights.bin", offset = 0, dtype = f32>
  fm.param @w : tensor<16x16xf32> from #fm.external<"tiny-weights.bin", offset = 0, dtype = i8>
  func.func @forward(%tokens: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x4xf32> {
    %h = fm.embedding @emb[%tokens] : tensor<?xi32> -> tensor<?x16xf32>
    %x = fm.linear %h, @w : tensor<?x16xf32> -> tensor<?x16xf32>
    %l = fm.logits %x, @emb : tensor<?x16xf32> -> tensor<?x4xf32>
    return %l : tensor<?x4xf32>
  }
}
