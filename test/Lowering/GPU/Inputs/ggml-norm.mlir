// An RMSNorm weight stored in ggml blocks (q8_0): norm weights are read as
// floats. Weights: ggml-weights.bin (8192 bytes), written by the test.
module {
  fm.param @emb : tensor<4x32xf32> from #fm.external<"ggml-weights.bin", offset = 0, dtype = f32>
  fm.param @n : tensor<32xf32> from #fm.external<"ggml-weights.bin", offset = 0, dtype = q8_0>
  func.func @forward(%tokens: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x4xf32> {
    %h = fm.embedding @emb[%tokens] : tensor<?xi32> -> tensor<?x32xf32>
    %x = fm.rms_norm %h, @n eps = 1.0e-05 : tensor<?x32xf32>
    %l = fm.logits %x, @emb : tensor<?x32xf32> -> tensor<?x4xf32>
    return %l : tensor<?x4xf32>
  }
}
