// stories260K's weights in a model without attention, for the GPU kernel
// families that are not attention or MoE: embedding, RMSNorm, linear (k 64
// and 172), both RoPE layouts (the second on half of each head), residual
// adds, SwiGLU, LayerNorm, GELU and soft-capped logits. Offsets are those
// of stories260K.bin; tests run fmc-compile from the source root.
module {
  fm.tokenizer llama2c "../../../../../shared/models/stories260K/tok512.bin" bos = 1, eos = 2
  fm.param @emb : tensor<512x64xf32> from #fm.external<"../../../../../shared/models/stories260K/stories260K.bin", offset = 28, dtype = f32>
  fm.param @norm0 : tensor<64xf32> from #fm.external<"../../../../../shared/models/stories260K/stories260K.bin", offset = 131100, dtype = f32>
  fm.param @q : tensor<64x64xf32> from #fm.external<"../../../../../shared/models/stories260K/stories260K.bin", offset = 132380, dtype = f32>
  fm.param @k : tensor<32x64xf32> from #fm.external<"../../../../../shared/models/stories260K/stories260K.bin", offset = 214300, dtype = f32>
  fm.param @o : tensor<64x32xf32> from #fm.external<"../../../../../shared/models/stories260K/stories260K.bin", offset = 255260, dtype = f32>
  fm.param @norm1 : tensor<64xf32> from #fm.external<"../../../../../shared/models/stories260K/stories260K.bin", offset = 378140, dtype = f32>
  fm.param @gate : tensor<172x64xf32> from #fm.external<"../../../../../shared/models/stories260K/stories260K.bin", offset = 379420, dtype = f32>
  fm.param @down : tensor<64x172xf32> from #fm.external<"../../../../../shared/models/stories260K/stories260K.bin", offset = 599580, dtype = f32>
  fm.param @up : tensor<172x64xf32> from #fm.external<"../../../../../shared/models/stories260K/stories260K.bin", offset = 819740, dtype = f32>
  fm.param @norm : tensor<64xf32> from #fm.external<"../../../../../shared/models/stories260K/stories260K.bin", offset = 1039900, dtype = f32>
  func.func @forward(%tokens: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x512xf32> {
    %h0 = fm.embedding @emb[%tokens] : tensor<?xi32> -> tensor<?x64xf32>
    %n0 = fm.rms_norm %h0, @norm0 eps = 1.0e-05 : tensor<?x64xf32>
    %q = fm.linear %n0, @q : tensor<?x64xf32> -> tensor<?x64xf32>
    %qr = fm.rope interleaved %q at %pos head_dim = 8 theta = 1.0e+04 : tensor<?x64xf32>, tensor<?xi32>
    %k = fm.linear %n0, @k : tensor<?x64xf32> -> tensor<?x32xf32>
    %kr = fm.rope rotate_half %k at %pos head_dim = 16 theta = 5.0e+02 {rotary_fraction = 0.5 : f64} : tensor<?x32xf32>, tensor<?xi32>
    %o = fm.linear %kr, @o : tensor<?x32xf32> -> tensor<?x64xf32>
    %h1 = fm.add %qr, %o : tensor<?x64xf32>
    %h2 = fm.add %h0, %h1 : tensor<?x64xf32>
    %n1 = fm.rms_norm %h2, @norm1 eps = 1.0e-05 : tensor<?x64xf32>
    %g = fm.linear %n1, @gate : tensor<?x64xf32> -> tensor<?x172xf32>
    %u = fm.linear %n1, @up : tensor<?x64xf32> -> tensor<?x172xf32>
    %s = fm.glu silu %g, %u : tensor<?x172xf32>
    %d = fm.linear %s, @down : tensor<?x172xf32> -> tensor<?x64xf32>
    %h3 = fm.add %h2, %d : tensor<?x64xf32>
    %ln = fm.layer_norm %h3 weight @norm1 eps = 1.0e-05 : tensor<?x64xf32>
    %a = fm.activation gelu %ln : tensor<?x64xf32>
    %h4 = fm.add %h3, %a : tensor<?x64xf32>
    %fin = fm.rms_norm %h4, @norm eps = 1.0e-05 : tensor<?x64xf32>
    %l = fm.logits %fin, @emb {softcap = 30.0 : f64} : tensor<?x64xf32> -> tensor<?x512xf32>
    return %l : tensor<?x512xf32>
  }
}
