// A 4-token, 16-feature model with no attention, for fmc-compile's flag and
// error tests. Its weights are tiny-weights.bin, which tests write into
// their temporary directory (256 bytes).
module {
  fm.param @emb : tensor<4x16xf32> from #fm.external<"tiny-weights.bin", offset = 1000000, dtype = f32>
  func.func @forward(%tokens: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x4xf32> {
    %h = fm.embedding @emb[%tokens] : tensor<?xi32> -> tensor<?x16xf32>
    %n = fm.rms_norm %h eps = 1.0e-05 : tensor<?x16xf32>
    %l = fm.logits %n, @emb : tensor<?x16xf32> -> tensor<?x4xf32>
    return %l : tensor<?x4xf32>
  }
}
