// A fused mixture of experts whose expert stacks are in ggml blocks (q8_0),
// written by hand: fm-fuse-moe stacks float experts only, so imported ggml
// experts stay expert by expert. Weights: ggml-weights.bin (8192 bytes),
// written by the test.
module {
  fm.param @emb : tensor<4x32xf32> from #fm.external<"ggml-weights.bin", offset = 0, dtype = f32>
  fm.param @r : tensor<2x32xf32> from #fm.external<"ggml-weights.bin", offset = 0, dtype = f32>
  fm.param @gu : tensor<2x64x32xf32> from #fm.external<"ggml-weights.bin", offset = 0, dtype = q8_0>
  fm.param @d : tensor<2x32x32xf32> from #fm.external<"ggml-weights.bin", offset = 0, dtype = q8_0>
  func.func @forward(%tokens: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x4xf32> {
    %h = fm.embedding @emb[%tokens] : tensor<?xi32> -> tensor<?x32xf32>
    %y = fm.moe softmax %h router @r gate_up @gu down @d top_k = 1 activation = silu : tensor<?x32xf32>
    %l = fm.logits %y, @emb : tensor<?x32xf32> -> tensor<?x4xf32>
    return %l : tensor<?x4xf32>
  }
}
