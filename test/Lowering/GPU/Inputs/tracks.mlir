// Three parallel tracks without attention over stories260K's weights: each
// track a linear (identical shapes, so one grouped_linear over their
// stacked weights) and an activation, merged by their mean; for the
// grouped_linear and track_combine GPU families.
module {
  fm.tokenizer llama2c "../shared/models/stories260K/tok512.bin" bos = 1, eos = 2
  fm.param @emb : tensor<512x64xf32> from #fm.external<"../shared/models/stories260K/stories260K.bin", offset = 28, dtype = f32>
  fm.param @q0 : tensor<64x64xf32> from #fm.external<"../shared/models/stories260K/stories260K.bin", offset = 132380, dtype = f32>
  fm.param @q1 : tensor<64x64xf32> from #fm.external<"../shared/models/stories260K/stories260K.bin", offset = 148764, dtype = f32>
  fm.param @q2 : tensor<64x64xf32> from #fm.external<"../shared/models/stories260K/stories260K.bin", offset = 165148, dtype = f32>
  fm.param @norm : tensor<64xf32> from #fm.external<"../shared/models/stories260K/stories260K.bin", offset = 1039900, dtype = f32>
  func.func @forward(%tokens: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x512xf32> {
    %h = fm.embedding @emb[%tokens] : tensor<?xi32> -> tensor<?x64xf32>
    %t = fm.parallel_tracks mean depth = 0 %h : tensor<?x64xf32> {
    ^bb0(%x: tensor<?x64xf32>):
      %y = fm.linear %x, @q0 : tensor<?x64xf32> -> tensor<?x64xf32>
      %a = fm.activation silu %y : tensor<?x64xf32>
      fm.yield %a : tensor<?x64xf32>
    }, {
    ^bb0(%x: tensor<?x64xf32>):
      %y = fm.linear %x, @q1 : tensor<?x64xf32> -> tensor<?x64xf32>
      %a = fm.activation silu %y : tensor<?x64xf32>
      fm.yield %a : tensor<?x64xf32>
    }, {
    ^bb0(%x: tensor<?x64xf32>):
      %y = fm.linear %x, @q2 : tensor<?x64xf32> -> tensor<?x64xf32>
      %a = fm.activation silu %y : tensor<?x64xf32>
      fm.yield %a : tensor<?x64xf32>
    }
    %n = fm.rms_norm %t, @norm eps = 1.0e-05 : tensor<?x64xf32>
    %l = fm.logits %n, @emb : tensor<?x64xf32> -> tensor<?x512xf32>
    return %l : tensor<?x512xf32>
  }
}
