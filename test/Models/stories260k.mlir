// The stories260K model (../shared/models/stories260K/README.md) written by hand
// in fm: 5 layers, dim 64, 8 query / 4 KV heads of dim 8, SwiGLU FFN 172,
// vocab 512, tied output embedding, interleaved-pair RoPE (llama2.c layout).
// Parameter offsets are those of stories260K.bin, read in place.
//
// RUN: fmc-opt %s | FileCheck %s
// RUN: fmc-opt %s | fmc-opt | FileCheck %s
// RUN: fmc-opt %s --mlir-print-op-generic | fmc-opt | FileCheck %s

// Paths are relative to this file's directory (import/README.md, "Paths").
// CHECK: fm.tokenizer llama2c "../../../shared/models/stories260K/tok512.bin" bos = 1, eos = 2
// CHECK-COUNT-47: fm.param @
// CHECK-COUNT-5: fm.kv_cache @
// CHECK-LABEL: func.func @forward
// CHECK: %[[H:.*]] = fm.embedding @model.embed_tokens.weight[%{{.*}}]
// CHECK-COUNT-5: fm.attention global
// CHECK: %[[N:.*]] = fm.rms_norm %{{.*}}, @model.norm.weight eps = 1.000000e-05
// CHECK: %[[L:.*]] = fm.logits %[[N]], @model.embed_tokens.weight : tensor<?x64xf32> -> tensor<?x512xf32>
// CHECK: return %[[L]]

module {
  fm.tokenizer llama2c "../../../shared/models/stories260K/tok512.bin" bos = 1, eos = 2
  fm.param @"model.embed_tokens.weight" : tensor<512x64xf32> from #fm.external<"../../../shared/models/stories260K/stories260K.bin", offset = 28, dtype = f32>
  fm.param @"model.layers.0.input_layernorm.weight" : tensor<64xf32> from #fm.external<"../../../shared/models/stories260K/stories260K.bin", offset = 131100, dtype = f32>
  fm.param @"model.layers.1.input_layernorm.weight" : tensor<64xf32> from #fm.external<"../../../shared/models/stories260K/stories260K.bin", offset = 131356, dtype = f32>
  fm.param @"model.layers.2.input_layernorm.weight" : tensor<64xf32> from #fm.external<"../../../shared/models/stories260K/stories260K.bin", offset = 131612, dtype = f32>
  fm.param @"model.layers.3.input_layernorm.weight" : tensor<64xf32> from #fm.external<"../../../shared/models/stories260K/stories260K.bin", offset = 131868, dtype = f32>
  fm.param @"model.layers.4.input_layernorm.weight" : tensor<64xf32> from #fm.external<"../../../shared/models/stories260K/stories260K.bin", offset = 132124, dtype = f32>
  fm.param @"model.layers.0.self_attn.q_proj.weight" : tensor<64x64xf32> from #fm.external<"../../../shared/models/stories260K/stories260K.bin", offset = 132380, dtype = f32>
  fm.param @"model.layers.1.self_attn.q_proj.weight" : tensor<64x64xf32> from #fm.external<"../../../shared/models/stories260K/stories260K.bin", offset = 148764, dtype = f32>
  fm.param @"model.layers.2.self_attn.q_proj.weight" : tensor<64x64xf32> from #fm.external<"../../../shared/models/stories260K/stories260K.bin", offset = 165148, dtype = f32>
  fm.param @"model.layers.3.self_attn.q_proj.weight" : tensor<64x64xf32> from #fm.external<"../../../shared/models/stories260K/stories260K.bin", offset = 181532, dtype = f32>
  fm.param @"model.layers.4.self_attn.q_proj.weight" : tensor<64x64xf32> from #fm.external<"../../../shared/models/stories260K/stories260K.bin", offset = 197916, dtype = f32>
  fm.param @"model.layers.0.self_attn.k_proj.weight" : tensor<32x64xf32> from #fm.external<"../../../shared/models/stories260K/stories260K.bin", offset = 214300, dtype = f32>
  fm.param @"model.layers.1.self_attn.k_proj.weight" : tensor<32x64xf32> from #fm.external<"../../../shared/models/stories260K/stories260K.bin", offset = 222492, dtype = f32>
  fm.param @"model.layers.2.self_attn.k_proj.weight" : tensor<32x64xf32> from #fm.external<"../../../shared/models/stories260K/stories260K.bin", offset = 230684, dtype = f32>
  fm.param @"model.layers.3.self_attn.k_proj.weight" : tensor<32x64xf32> from #fm.external<"../../../shared/models/stories260K/stories260K.bin", offset = 238876, dtype = f32>
  fm.param @"model.layers.4.self_attn.k_proj.weight" : tensor<32x64xf32> from #fm.external<"../../../shared/models/stories260K/stories260K.bin", offset = 247068, dtype = f32>
  fm.param @"model.layers.0.self_attn.v_proj.weight" : tensor<32x64xf32> from #fm.external<"../../../shared/models/stories260K/stories260K.bin", offset = 255260, dtype = f32>
  fm.param @"model.layers.1.self_attn.v_proj.weight" : tensor<32x64xf32> from #fm.external<"../../../shared/models/stories260K/stories260K.bin", offset = 263452, dtype = f32>
  fm.param @"model.layers.2.self_attn.v_proj.weight" : tensor<32x64xf32> from #fm.external<"../../../shared/models/stories260K/stories260K.bin", offset = 271644, dtype = f32>
  fm.param @"model.layers.3.self_attn.v_proj.weight" : tensor<32x64xf32> from #fm.external<"../../../shared/models/stories260K/stories260K.bin", offset = 279836, dtype = f32>
  fm.param @"model.layers.4.self_attn.v_proj.weight" : tensor<32x64xf32> from #fm.external<"../../../shared/models/stories260K/stories260K.bin", offset = 288028, dtype = f32>
  fm.param @"model.layers.0.self_attn.o_proj.weight" : tensor<64x64xf32> from #fm.external<"../../../shared/models/stories260K/stories260K.bin", offset = 296220, dtype = f32>
  fm.param @"model.layers.1.self_attn.o_proj.weight" : tensor<64x64xf32> from #fm.external<"../../../shared/models/stories260K/stories260K.bin", offset = 312604, dtype = f32>
  fm.param @"model.layers.2.self_attn.o_proj.weight" : tensor<64x64xf32> from #fm.external<"../../../shared/models/stories260K/stories260K.bin", offset = 328988, dtype = f32>
  fm.param @"model.layers.3.self_attn.o_proj.weight" : tensor<64x64xf32> from #fm.external<"../../../shared/models/stories260K/stories260K.bin", offset = 345372, dtype = f32>
  fm.param @"model.layers.4.self_attn.o_proj.weight" : tensor<64x64xf32> from #fm.external<"../../../shared/models/stories260K/stories260K.bin", offset = 361756, dtype = f32>
  fm.param @"model.layers.0.post_attention_layernorm.weight" : tensor<64xf32> from #fm.external<"../../../shared/models/stories260K/stories260K.bin", offset = 378140, dtype = f32>
  fm.param @"model.layers.1.post_attention_layernorm.weight" : tensor<64xf32> from #fm.external<"../../../shared/models/stories260K/stories260K.bin", offset = 378396, dtype = f32>
  fm.param @"model.layers.2.post_attention_layernorm.weight" : tensor<64xf32> from #fm.external<"../../../shared/models/stories260K/stories260K.bin", offset = 378652, dtype = f32>
  fm.param @"model.layers.3.post_attention_layernorm.weight" : tensor<64xf32> from #fm.external<"../../../shared/models/stories260K/stories260K.bin", offset = 378908, dtype = f32>
  fm.param @"model.layers.4.post_attention_layernorm.weight" : tensor<64xf32> from #fm.external<"../../../shared/models/stories260K/stories260K.bin", offset = 379164, dtype = f32>
  fm.param @"model.layers.0.mlp.gate_proj.weight" : tensor<172x64xf32> from #fm.external<"../../../shared/models/stories260K/stories260K.bin", offset = 379420, dtype = f32>
  fm.param @"model.layers.1.mlp.gate_proj.weight" : tensor<172x64xf32> from #fm.external<"../../../shared/models/stories260K/stories260K.bin", offset = 423452, dtype = f32>
  fm.param @"model.layers.2.mlp.gate_proj.weight" : tensor<172x64xf32> from #fm.external<"../../../shared/models/stories260K/stories260K.bin", offset = 467484, dtype = f32>
  fm.param @"model.layers.3.mlp.gate_proj.weight" : tensor<172x64xf32> from #fm.external<"../../../shared/models/stories260K/stories260K.bin", offset = 511516, dtype = f32>
  fm.param @"model.layers.4.mlp.gate_proj.weight" : tensor<172x64xf32> from #fm.external<"../../../shared/models/stories260K/stories260K.bin", offset = 555548, dtype = f32>
  fm.param @"model.layers.0.mlp.down_proj.weight" : tensor<64x172xf32> from #fm.external<"../../../shared/models/stories260K/stories260K.bin", offset = 599580, dtype = f32>
  fm.param @"model.layers.1.mlp.down_proj.weight" : tensor<64x172xf32> from #fm.external<"../../../shared/models/stories260K/stories260K.bin", offset = 643612, dtype = f32>
  fm.param @"model.layers.2.mlp.down_proj.weight" : tensor<64x172xf32> from #fm.external<"../../../shared/models/stories260K/stories260K.bin", offset = 687644, dtype = f32>
  fm.param @"model.layers.3.mlp.down_proj.weight" : tensor<64x172xf32> from #fm.external<"../../../shared/models/stories260K/stories260K.bin", offset = 731676, dtype = f32>
  fm.param @"model.layers.4.mlp.down_proj.weight" : tensor<64x172xf32> from #fm.external<"../../../shared/models/stories260K/stories260K.bin", offset = 775708, dtype = f32>
  fm.param @"model.layers.0.mlp.up_proj.weight" : tensor<172x64xf32> from #fm.external<"../../../shared/models/stories260K/stories260K.bin", offset = 819740, dtype = f32>
  fm.param @"model.layers.1.mlp.up_proj.weight" : tensor<172x64xf32> from #fm.external<"../../../shared/models/stories260K/stories260K.bin", offset = 863772, dtype = f32>
  fm.param @"model.layers.2.mlp.up_proj.weight" : tensor<172x64xf32> from #fm.external<"../../../shared/models/stories260K/stories260K.bin", offset = 907804, dtype = f32>
  fm.param @"model.layers.3.mlp.up_proj.weight" : tensor<172x64xf32> from #fm.external<"../../../shared/models/stories260K/stories260K.bin", offset = 951836, dtype = f32>
  fm.param @"model.layers.4.mlp.up_proj.weight" : tensor<172x64xf32> from #fm.external<"../../../shared/models/stories260K/stories260K.bin", offset = 995868, dtype = f32>
  fm.param @"model.norm.weight" : tensor<64xf32> from #fm.external<"../../../shared/models/stories260K/stories260K.bin", offset = 1039900, dtype = f32>
  fm.kv_cache @layer0 linear capacity = 512, kv_heads = 4, head_dim = 8 : f32
  fm.kv_cache @layer1 linear capacity = 512, kv_heads = 4, head_dim = 8 : f32
  fm.kv_cache @layer2 linear capacity = 512, kv_heads = 4, head_dim = 8 : f32
  fm.kv_cache @layer3 linear capacity = 512, kv_heads = 4, head_dim = 8 : f32
  fm.kv_cache @layer4 linear capacity = 512, kv_heads = 4, head_dim = 8 : f32

  func.func @forward(%tokens: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x512xf32> {
    %h0 = fm.embedding @"model.embed_tokens.weight"[%tokens] : tensor<?xi32> -> tensor<?x64xf32>
    // Layer 0.
    %an0 = fm.rms_norm %h0, @"model.layers.0.input_layernorm.weight" eps = 1.0e-05 : tensor<?x64xf32>
    %q0 = fm.linear %an0, @"model.layers.0.self_attn.q_proj.weight" : tensor<?x64xf32> -> tensor<?x64xf32>
    %k0 = fm.linear %an0, @"model.layers.0.self_attn.k_proj.weight" : tensor<?x64xf32> -> tensor<?x32xf32>
    %v0 = fm.linear %an0, @"model.layers.0.self_attn.v_proj.weight" : tensor<?x64xf32> -> tensor<?x32xf32>
    %qr0 = fm.rope interleaved %q0 at %pos head_dim = 8 theta = 1.0e+04 : tensor<?x64xf32>, tensor<?xi32>
    %kr0 = fm.rope interleaved %k0 at %pos head_dim = 8 theta = 1.0e+04 : tensor<?x32xf32>, tensor<?xi32>
    %att0 = fm.attention global %qr0, %kr0, %v0 at %pos reads @layer0 writes @layer0 heads = 8, kv_heads = 4, head_dim = 8
        : (tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32>, tensor<?xi32>) -> tensor<?x64xf32>
    %o0 = fm.linear %att0, @"model.layers.0.self_attn.o_proj.weight" : tensor<?x64xf32> -> tensor<?x64xf32>
    %r0 = fm.add %h0, %o0 : tensor<?x64xf32>
    %fn0 = fm.rms_norm %r0, @"model.layers.0.post_attention_layernorm.weight" eps = 1.0e-05 : tensor<?x64xf32>
    %g0 = fm.linear %fn0, @"model.layers.0.mlp.gate_proj.weight" : tensor<?x64xf32> -> tensor<?x172xf32>
    %u0 = fm.linear %fn0, @"model.layers.0.mlp.up_proj.weight" : tensor<?x64xf32> -> tensor<?x172xf32>
    %s0 = fm.glu silu %g0, %u0 : tensor<?x172xf32>
    %d0 = fm.linear %s0, @"model.layers.0.mlp.down_proj.weight" : tensor<?x172xf32> -> tensor<?x64xf32>
    %h1 = fm.add %r0, %d0 : tensor<?x64xf32>
    // Layer 1.
    %an1 = fm.rms_norm %h1, @"model.layers.1.input_layernorm.weight" eps = 1.0e-05 : tensor<?x64xf32>
    %q1 = fm.linear %an1, @"model.layers.1.self_attn.q_proj.weight" : tensor<?x64xf32> -> tensor<?x64xf32>
    %k1 = fm.linear %an1, @"model.layers.1.self_attn.k_proj.weight" : tensor<?x64xf32> -> tensor<?x32xf32>
    %v1 = fm.linear %an1, @"model.layers.1.self_attn.v_proj.weight" : tensor<?x64xf32> -> tensor<?x32xf32>
    %qr1 = fm.rope interleaved %q1 at %pos head_dim = 8 theta = 1.0e+04 : tensor<?x64xf32>, tensor<?xi32>
    %kr1 = fm.rope interleaved %k1 at %pos head_dim = 8 theta = 1.0e+04 : tensor<?x32xf32>, tensor<?xi32>
    %att1 = fm.attention global %qr1, %kr1, %v1 at %pos reads @layer1 writes @layer1 heads = 8, kv_heads = 4, head_dim = 8
        : (tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32>, tensor<?xi32>) -> tensor<?x64xf32>
    %o1 = fm.linear %att1, @"model.layers.1.self_attn.o_proj.weight" : tensor<?x64xf32> -> tensor<?x64xf32>
    %r1 = fm.add %h1, %o1 : tensor<?x64xf32>
    %fn1 = fm.rms_norm %r1, @"model.layers.1.post_attention_layernorm.weight" eps = 1.0e-05 : tensor<?x64xf32>
    %g1 = fm.linear %fn1, @"model.layers.1.mlp.gate_proj.weight" : tensor<?x64xf32> -> tensor<?x172xf32>
    %u1 = fm.linear %fn1, @"model.layers.1.mlp.up_proj.weight" : tensor<?x64xf32> -> tensor<?x172xf32>
    %s1 = fm.glu silu %g1, %u1 : tensor<?x172xf32>
    %d1 = fm.linear %s1, @"model.layers.1.mlp.down_proj.weight" : tensor<?x172xf32> -> tensor<?x64xf32>
    %h2 = fm.add %r1, %d1 : tensor<?x64xf32>
    // Layer 2.
    %an2 = fm.rms_norm %h2, @"model.layers.2.input_layernorm.weight" eps = 1.0e-05 : tensor<?x64xf32>
    %q2 = fm.linear %an2, @"model.layers.2.self_attn.q_proj.weight" : tensor<?x64xf32> -> tensor<?x64xf32>
    %k2 = fm.linear %an2, @"model.layers.2.self_attn.k_proj.weight" : tensor<?x64xf32> -> tensor<?x32xf32>
    %v2 = fm.linear %an2, @"model.layers.2.self_attn.v_proj.weight" : tensor<?x64xf32> -> tensor<?x32xf32>
    %qr2 = fm.rope interleaved %q2 at %pos head_dim = 8 theta = 1.0e+04 : tensor<?x64xf32>, tensor<?xi32>
    %kr2 = fm.rope interleaved %k2 at %pos head_dim = 8 theta = 1.0e+04 : tensor<?x32xf32>, tensor<?xi32>
    %att2 = fm.attention global %qr2, %kr2, %v2 at %pos reads @layer2 writes @layer2 heads = 8, kv_heads = 4, head_dim = 8
        : (tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32>, tensor<?xi32>) -> tensor<?x64xf32>
    %o2 = fm.linear %att2, @"model.layers.2.self_attn.o_proj.weight" : tensor<?x64xf32> -> tensor<?x64xf32>
    %r2 = fm.add %h2, %o2 : tensor<?x64xf32>
    %fn2 = fm.rms_norm %r2, @"model.layers.2.post_attention_layernorm.weight" eps = 1.0e-05 : tensor<?x64xf32>
    %g2 = fm.linear %fn2, @"model.layers.2.mlp.gate_proj.weight" : tensor<?x64xf32> -> tensor<?x172xf32>
    %u2 = fm.linear %fn2, @"model.layers.2.mlp.up_proj.weight" : tensor<?x64xf32> -> tensor<?x172xf32>
    %s2 = fm.glu silu %g2, %u2 : tensor<?x172xf32>
    %d2 = fm.linear %s2, @"model.layers.2.mlp.down_proj.weight" : tensor<?x172xf32> -> tensor<?x64xf32>
    %h3 = fm.add %r2, %d2 : tensor<?x64xf32>
    // Layer 3.
    %an3 = fm.rms_norm %h3, @"model.layers.3.input_layernorm.weight" eps = 1.0e-05 : tensor<?x64xf32>
    %q3 = fm.linear %an3, @"model.layers.3.self_attn.q_proj.weight" : tensor<?x64xf32> -> tensor<?x64xf32>
    %k3 = fm.linear %an3, @"model.layers.3.self_attn.k_proj.weight" : tensor<?x64xf32> -> tensor<?x32xf32>
    %v3 = fm.linear %an3, @"model.layers.3.self_attn.v_proj.weight" : tensor<?x64xf32> -> tensor<?x32xf32>
    %qr3 = fm.rope interleaved %q3 at %pos head_dim = 8 theta = 1.0e+04 : tensor<?x64xf32>, tensor<?xi32>
    %kr3 = fm.rope interleaved %k3 at %pos head_dim = 8 theta = 1.0e+04 : tensor<?x32xf32>, tensor<?xi32>
    %att3 = fm.attention global %qr3, %kr3, %v3 at %pos reads @layer3 writes @layer3 heads = 8, kv_heads = 4, head_dim = 8
        : (tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32>, tensor<?xi32>) -> tensor<?x64xf32>
    %o3 = fm.linear %att3, @"model.layers.3.self_attn.o_proj.weight" : tensor<?x64xf32> -> tensor<?x64xf32>
    %r3 = fm.add %h3, %o3 : tensor<?x64xf32>
    %fn3 = fm.rms_norm %r3, @"model.layers.3.post_attention_layernorm.weight" eps = 1.0e-05 : tensor<?x64xf32>
    %g3 = fm.linear %fn3, @"model.layers.3.mlp.gate_proj.weight" : tensor<?x64xf32> -> tensor<?x172xf32>
    %u3 = fm.linear %fn3, @"model.layers.3.mlp.up_proj.weight" : tensor<?x64xf32> -> tensor<?x172xf32>
    %s3 = fm.glu silu %g3, %u3 : tensor<?x172xf32>
    %d3 = fm.linear %s3, @"model.layers.3.mlp.down_proj.weight" : tensor<?x172xf32> -> tensor<?x64xf32>
    %h4 = fm.add %r3, %d3 : tensor<?x64xf32>
    // Layer 4.
    %an4 = fm.rms_norm %h4, @"model.layers.4.input_layernorm.weight" eps = 1.0e-05 : tensor<?x64xf32>
    %q4 = fm.linear %an4, @"model.layers.4.self_attn.q_proj.weight" : tensor<?x64xf32> -> tensor<?x64xf32>
    %k4 = fm.linear %an4, @"model.layers.4.self_attn.k_proj.weight" : tensor<?x64xf32> -> tensor<?x32xf32>
    %v4 = fm.linear %an4, @"model.layers.4.self_attn.v_proj.weight" : tensor<?x64xf32> -> tensor<?x32xf32>
    %qr4 = fm.rope interleaved %q4 at %pos head_dim = 8 theta = 1.0e+04 : tensor<?x64xf32>, tensor<?xi32>
    %kr4 = fm.rope interleaved %k4 at %pos head_dim = 8 theta = 1.0e+04 : tensor<?x32xf32>, tensor<?xi32>
    %att4 = fm.attention global %qr4, %kr4, %v4 at %pos reads @layer4 writes @layer4 heads = 8, kv_heads = 4, head_dim = 8
        : (tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32>, tensor<?xi32>) -> tensor<?x64xf32>
    %o4 = fm.linear %att4, @"model.layers.4.self_attn.o_proj.weight" : tensor<?x64xf32> -> tensor<?x64xf32>
    %r4 = fm.add %h4, %o4 : tensor<?x64xf32>
    %fn4 = fm.rms_norm %r4, @"model.layers.4.post_attention_layernorm.weight" eps = 1.0e-05 : tensor<?x64xf32>
    %g4 = fm.linear %fn4, @"model.layers.4.mlp.gate_proj.weight" : tensor<?x64xf32> -> tensor<?x172xf32>
    %u4 = fm.linear %fn4, @"model.layers.4.mlp.up_proj.weight" : tensor<?x64xf32> -> tensor<?x172xf32>
    %s4 = fm.glu silu %g4, %u4 : tensor<?x172xf32>
    %d4 = fm.linear %s4, @"model.layers.4.mlp.down_proj.weight" : tensor<?x172xf32> -> tensor<?x64xf32>
    %h5 = fm.add %r4, %d4 : tensor<?x64xf32>
    %fin = fm.rms_norm %h5, @"model.norm.weight" eps = 1.0e-05 : tensor<?x64xf32>
    %logits = fm.logits %fin, @"model.embed_tokens.weight" : tensor<?x64xf32> -> tensor<?x512xf32>
    return %logits : tensor<?x512xf32>
  }
}
