// Round-trip of every fm op and attribute: custom form, re-parsed custom
// form, and generic form.
// RUN: fmc-opt %s | FileCheck %s
// RUN: fmc-opt %s | fmc-opt | FileCheck %s
// RUN: fmc-opt %s --mlir-print-op-generic | fmc-opt | FileCheck %s

// CHECK: fm.tokenizer hf_json "tokenizer.json" bos = 1, eos = 2 {add_bos = false}
fm.tokenizer hf_json "tokenizer.json" bos = 1, eos = 2 {add_bos = false}

// CHECK: fm.param @emb : tensor<128x32xf32> from <"m.safetensors", offset = 0, dtype = bf16>
fm.param @emb : tensor<128x32xf32> from <"m.safetensors", offset = 0, dtype = bf16>
// CHECK: fm.param @norm : tensor<32xf32> from <"m.safetensors", offset = 8192, dtype = f32>
fm.param @norm : tensor<32xf32> from <"m.safetensors", offset = 8192, dtype = f32>
// CHECK: fm.param @qnorm : tensor<8xf32> from <"m.safetensors", offset = 8320, dtype = f32>
fm.param @qnorm : tensor<8xf32> from <"m.safetensors", offset = 8320, dtype = f32>
// CHECK: fm.param @ln_bias : tensor<32xf32> from <"m.safetensors", offset = 8352, dtype = f16>
fm.param @ln_bias : tensor<32xf32> from <"m.safetensors", offset = 8352, dtype = f16>
// A block of columns: each 4-float row 64 bytes after the last.
// CHECK: fm.param @wo_columns : tensor<8x4xf32> from <"m.safetensors", offset = 64, dtype = f32, row_stride = 64>
fm.param @wo_columns : tensor<8x4xf32> from <"m.safetensors", offset = 64, dtype = f32, row_stride = 64>
// CHECK: fm.param @wq : tensor<32x32xf32, #fm.quant<bits = 2, grid = balanced, group_size = 64, scale_type = f16, layout = row_major>> from <"m.bin", offset = 64, dtype = packed>
fm.param @wq : tensor<32x32xf32, #fm.quant<bits = 2, grid = balanced, group_size = 64, scale_type = f16, layout = row_major>> from #fm.external<"m.bin", offset = 64, dtype = packed>
// CHECK: fm.param @wk : tensor<16x32xf32, #fm.quant<bits = 4, grid = affine, group_size = 0, scale_type = bf16, layout = row_major>>
fm.param @wk : tensor<16x32xf32, #fm.quant<bits = 4, grid = affine, group_size = 0, scale_type = bf16, layout = row_major>> from <"m.bin", offset = 512, dtype = packed>
// CHECK: fm.param @wv : tensor<16x32xf32> from <"m.gguf", offset = 1024, dtype = q8_0>
fm.param @wv : tensor<16x32xf32> from <"m.gguf", offset = 1024, dtype = q8_0>
// CHECK: fm.param @bv : tensor<16xf32> from <"m.gguf", offset = 2048, dtype = f32>
fm.param @bv : tensor<16xf32> from <"m.gguf", offset = 2048, dtype = f32>
// CHECK: fm.param @wo : tensor<32x32xf32> from <"m.gguf", offset = 4096, dtype = q4_0>
fm.param @wo : tensor<32x32xf32> from <"m.gguf", offset = 4096, dtype = q4_0>
// CHECK: fm.param @wk4 : tensor<4x256xf32> from <"m.gguf", offset = 8192, dtype = q4_k>
fm.param @wk4 : tensor<4x256xf32> from <"m.gguf", offset = 8192, dtype = q4_k>
// CHECK: fm.param @wt2 : tensor<4x256xf32> from <"m.gguf", offset = 8192, dtype = tq2_0>
fm.param @wt2 : tensor<4x256xf32> from <"m.gguf", offset = 8192, dtype = tq2_0>
// CHECK: fm.param @w8 : tensor<32x32xf32> from <"m.bin", offset = 8192, dtype = i8>
fm.param @w8 : tensor<32x32xf32> from <"m.bin", offset = 8192, dtype = i8>
// A weight quantized when the artifact is written, from its f32 bytes.
// CHECK: fm.param @wq_from_f32 : tensor<32x32xf32, #fm.quant<bits = 2, grid = balanced, group_size = 32, scale_type = f16, layout = row_major>> from <"m.bin", offset = 0, dtype = f32>
fm.param @wq_from_f32 : tensor<32x32xf32, #fm.quant<bits = 2, grid = balanced, group_size = 32, scale_type = f16, layout = row_major>> from <"m.bin", offset = 0, dtype = f32>
// Stacked experts: per-expert gate and up rows, expert after expert.
fm.param @e0.gate : tensor<12x32xf32> from <"m.bin", offset = 0, dtype = f32>
fm.param @e0.up : tensor<12x32xf32> from <"m.bin", offset = 1536, dtype = f32>
fm.param @e1.gate : tensor<12x32xf32> from <"m.bin", offset = 3072, dtype = f32>
fm.param @e1.up : tensor<12x32xf32> from <"m.bin", offset = 4608, dtype = f32>
// CHECK: fm.param @stacked : tensor<2x24x32xf32> stacks [@e0.gate, @e0.up, @e1.gate, @e1.up]
fm.param @stacked : tensor<2x24x32xf32> stacks [@e0.gate, @e0.up, @e1.gate, @e1.up]
// CHECK: fm.param @stacked_q : tensor<2x24x32xf32, #fm.quant<bits = 4, grid = affine, group_size = 32, scale_type = f16, layout = row_major>> stacks [@e0.gate, @e0.up, @e1.gate, @e1.up]
fm.param @stacked_q : tensor<2x24x32xf32, #fm.quant<bits = 4, grid = affine, group_size = 32, scale_type = f16, layout = row_major>> stacks [@e0.gate, @e0.up, @e1.gate, @e1.up]
fm.param @router : tensor<4x32xf32> from <"m.bin", offset = 0, dtype = f32>
fm.param @gate_up : tensor<4x48x32xf32> from <"m.bin", offset = 0, dtype = f32>
fm.param @down : tensor<4x32x24xf32> from <"m.bin", offset = 0, dtype = f32>
fm.param @shared_gate_up : tensor<64x32xf32> from <"m.bin", offset = 0, dtype = f32>
fm.param @shared_down : tensor<32x32xf32> from <"m.bin", offset = 0, dtype = f32>
fm.param @shared_gate : tensor<1x32xf32> from <"m.bin", offset = 0, dtype = f32>

// CHECK: fm.kv_cache @global0 linear capacity = 4096, kv_heads = 2, head_dim = 8 : f32
fm.kv_cache @global0 linear capacity = 4096, kv_heads = 2, head_dim = 8 : f32
// CHECK: fm.kv_cache @local0 ring capacity = 64, kv_heads = 2, head_dim = 8 : i8
fm.kv_cache @local0 ring capacity = 64, kv_heads = 2, head_dim = 8 : i8
// CHECK: fm.kv_cache @chunk0 ring capacity = 32, kv_heads = 2, head_dim = 8 : bf16
fm.kv_cache @chunk0 ring capacity = 32, kv_heads = 2, head_dim = 8 : bf16

// CHECK-LABEL: func.func @layer
func.func @layer(%tokens: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x128xf32> {
  // CHECK: fm.embedding @emb[%{{.*}}] {scale = 5.6568542494923806 : f64} : tensor<?xi32> -> tensor<?x32xf32>
  %h = fm.embedding @emb[%tokens] {scale = 5.6568542494923806 : f64} : tensor<?xi32> -> tensor<?x32xf32>
  // CHECK: fm.rms_norm %{{.*}}, @norm eps = 1.000000e-05 {weight_offset = 1.000000e+00 : f64} : tensor<?x32xf32>
  %n = fm.rms_norm %h, @norm eps = 1.0e-05 {weight_offset = 1.0 : f64} : tensor<?x32xf32>
  // CHECK: fm.layer_norm %{{.*}} weight @norm bias @ln_bias eps = 1.000000e-05 : tensor<?x32xf32>
  %ln = fm.layer_norm %h weight @norm bias @ln_bias eps = 1.0e-05 : tensor<?x32xf32>
  // CHECK: fm.layer_norm %{{.*}} eps = 9.9999999999999995E-7 : tensor<?x32xf32>
  %ln2 = fm.layer_norm %h eps = 1.0e-06 : tensor<?x32xf32>
  // CHECK: %[[Q:.*]] = fm.linear %{{.*}}, @wq : tensor<?x32xf32> -> tensor<?x32xf32>
  %q = fm.linear %n, @wq : tensor<?x32xf32> -> tensor<?x32xf32>
  %k = fm.linear %n, @wk : tensor<?x32xf32> -> tensor<?x16xf32>
  // CHECK: fm.linear %{{.*}}, @wv bias @bv : tensor<?x32xf32> -> tensor<?x16xf32>
  %v = fm.linear %n, @wv bias @bv : tensor<?x32xf32> -> tensor<?x16xf32>
  // CHECK: fm.rms_norm %[[Q]], @qnorm eps = 9.9999999999999995E-7 {group_size = 8 : i64} : tensor<?x32xf32>
  %qn = fm.rms_norm %q, @qnorm eps = 1.0e-06 {group_size = 8 : i64} : tensor<?x32xf32>
  // CHECK: fm.rms_norm %{{.*}} eps = 9.9999999999999995E-7 {group_size = 8 : i64} : tensor<?x16xf32>
  %kn = fm.rms_norm %k eps = 1.0e-06 {group_size = 8 : i64} : tensor<?x16xf32>
  // CHECK: fm.rope rotate_half %{{.*}} at %{{.*}} head_dim = 8 theta = 5.000000e+05 : tensor<?x32xf32>, tensor<?xi32>
  %qr = fm.rope rotate_half %qn at %pos head_dim = 8 theta = 5.0e+05 : tensor<?x32xf32>, tensor<?xi32>
  // CHECK: fm.rope interleaved %{{.*}} at %{{.*}} head_dim = 8 theta = 1.000000e+04 {rotary_fraction = 5.000000e-01 : f64} : tensor<?x16xf32>, tensor<?xi32>
  %kr0 = fm.rope interleaved %kn at %pos head_dim = 8 theta = 1.0e+04 {rotary_fraction = 0.5 : f64} : tensor<?x16xf32>, tensor<?xi32>
  // Frequency scaling: the scaled inverse frequencies and YaRN's factor.
  // CHECK: fm.rope interleaved %{{.*}} at %{{.*}} head_dim = 8 theta = 1.000000e+04 {attention_factor = 1.125000e+00 : f64, frequencies = array<f32: 1.000000e+00, 1.250000e-02>, rotary_fraction = 5.000000e-01 : f64} : tensor<?x16xf32>, tensor<?xi32>
  %kr = fm.rope interleaved %kr0 at %pos head_dim = 8 theta = 1.0e+04 {rotary_fraction = 0.5 : f64, frequencies = array<f32: 1.0, 0.0125>, attention_factor = 1.125 : f64} : tensor<?x16xf32>, tensor<?xi32>
  // CHECK: fm.attention global %{{.*}}, %{{.*}}, %{{.*}} at %{{.*}} reads @global0 writes @global0 heads = 4, kv_heads = 2, head_dim = 8 {scale = 1.250000e-01 : f64, softcap = 5.000000e+01 : f64} : (tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x32xf32>
  %a0 = fm.attention global %qr, %kr, %v at %pos reads @global0 writes @global0 heads = 4, kv_heads = 2, head_dim = 8 {scale = 0.125 : f64, softcap = 50.0 : f64}
      : (tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x32xf32>
  // CHECK: fm.attention global %{{.*}} at %{{.*}} reads @global0 heads = 4, kv_heads = 2, head_dim = 8 : (tensor<?x32xf32>, tensor<?xi32>) -> tensor<?x32xf32>
  %a1 = fm.attention global %qr at %pos reads @global0 heads = 4, kv_heads = 2, head_dim = 8
      : (tensor<?x32xf32>, tensor<?xi32>) -> tensor<?x32xf32>
  // CHECK: fm.attention local %{{.*}}, %{{.*}}, %{{.*}} at %{{.*}} reads @local0 writes @local0 heads = 4, kv_heads = 2, head_dim = 8 {window = 64 : i64}
  %a2 = fm.attention local %qr, %kr, %v at %pos reads @local0 writes @local0 heads = 4, kv_heads = 2, head_dim = 8 {window = 64 : i64}
      : (tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x32xf32>
  // CHECK: fm.attention chunked %{{.*}}, %{{.*}}, %{{.*}} at %{{.*}} reads @chunk0 writes @chunk0 heads = 4, kv_heads = 2, head_dim = 8 {window = 32 : i64} :
  %a3 = fm.attention chunked %qr, %kr, %v at %pos reads @chunk0 writes @chunk0 heads = 4, kv_heads = 2, head_dim = 8 {window = 32 : i64, causal = true}
      : (tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x32xf32>
  // CHECK: fm.activation gelu_tanh %{{.*}} : tensor<?x32xf32>
  %act = fm.activation gelu_tanh %a0 : tensor<?x32xf32>
  // CHECK: fm.glu silu %{{.*}}, %{{.*}} : tensor<?x32xf32>
  %glu = fm.glu silu %act, %a1 : tensor<?x32xf32>
  // CHECK: fm.add %{{.*}}, %{{.*}} : tensor<?x32xf32>
  %sum = fm.add %glu, %a2 : tensor<?x32xf32>
  %sum2 = fm.add %sum, %a3 : tensor<?x32xf32>
  %sum3 = fm.add %sum2, %ln : tensor<?x32xf32>
  %sum4 = fm.add %sum3, %ln2 : tensor<?x32xf32>
  // CHECK: fm.all_reduce %{{.*}} ranks = 2 : tensor<?x32xf32>
  %summed = fm.all_reduce %sum4 ranks = 2 : tensor<?x32xf32>
  // CHECK: fm.mul %{{.*}}, %{{.*}} : tensor<?x32xf32>, tensor<?x32xf32>
  %m = fm.mul %summed, %h : tensor<?x32xf32>, tensor<?x32xf32>
  %g = fm.linear %m, @shared_gate : tensor<?x32xf32> -> tensor<?x1xf32>
  // CHECK: fm.mul %{{.*}}, %{{.*}} : tensor<?x32xf32>, tensor<?x1xf32>
  %mg = fm.mul %m, %g : tensor<?x32xf32>, tensor<?x1xf32>

  // The expert-by-expert form of a mixture of experts.
  %rl = fm.linear %mg, @router : tensor<?x32xf32> -> tensor<?x4xf32>
  // CHECK: %[[W:.*]], %[[I:.*]] = fm.moe_route softmax %{{.*}} top_k = 2 {norm_topk_prob = true} : tensor<?x4xf32> -> tensor<?x2xf32>, tensor<?x2xi32>
  %w, %i = fm.moe_route softmax %rl top_k = 2 {norm_topk_prob = true} : tensor<?x4xf32> -> tensor<?x2xf32>, tensor<?x2xi32>
  // CHECK: fm.moe_route sigmoid %{{.*}} top_k = 1 : tensor<?x4xf32> -> tensor<?x1xf32>, tensor<?x1xi32>
  %w1, %i1 = fm.moe_route sigmoid %rl top_k = 1 : tensor<?x4xf32> -> tensor<?x1xf32>, tensor<?x1xi32>
  // CHECK: %{{.*}} = fm.moe_combine %[[W]], %[[I]] [%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}] : tensor<?x2xf32>, tensor<?x2xi32>, [tensor<?x32xf32>, tensor<?x32xf32>, tensor<?x32xf32>, tensor<?x32xf32>] -> tensor<?x32xf32>
  %mc = fm.moe_combine %w, %i [%mg, %m, %sum, %h] : tensor<?x2xf32>, tensor<?x2xi32>, [tensor<?x32xf32>, tensor<?x32xf32>, tensor<?x32xf32>, tensor<?x32xf32>] -> tensor<?x32xf32>
  %mc1 = fm.moe_combine %w1, %i1 [%mc, %mc, %mc, %mc] : tensor<?x1xf32>, tensor<?x1xi32>, [tensor<?x32xf32>, tensor<?x32xf32>, tensor<?x32xf32>, tensor<?x32xf32>] -> tensor<?x32xf32>

  // The fused form.
  // CHECK: fm.moe softmax %{{.*}} router @router gate_up @gate_up down @down top_k = 2 activation = silu shared(@shared_gate_up, @shared_down) shared_gate @shared_gate {norm_topk_prob = true} : tensor<?x32xf32>
  %moe = fm.moe softmax %mc1 router @router gate_up @gate_up down @down top_k = 2 activation = silu shared(@shared_gate_up, @shared_down) shared_gate @shared_gate {norm_topk_prob = true} : tensor<?x32xf32>
  // CHECK: fm.moe sigmoid %{{.*}} router @router gate_up @gate_up down @down top_k = 1 activation = gelu : tensor<?x32xf32>
  %moe2 = fm.moe sigmoid %moe router @router gate_up @gate_up down @down top_k = 1 activation = gelu : tensor<?x32xf32>

  // CHECK: fm.logits %{{.*}}, @emb {scale = 6.250000e-02 : f64, softcap = 3.000000e+01 : f64} : tensor<?x32xf32> -> tensor<?x128xf32>
  %logits = fm.logits %moe2, @emb {scale = 0.0625 : f64, softcap = 30.0 : f64} : tensor<?x32xf32> -> tensor<?x128xf32>
  return %logits : tensor<?x128xf32>
}

// Parallel tracks: two tracks of depth 1 with their own caches.
fm.kv_cache @t0 linear capacity = 16, kv_heads = 2, head_dim = 8 : f32
fm.kv_cache @t1 linear capacity = 16, kv_heads = 2, head_dim = 8 : f32

// CHECK-LABEL: func.func @tracks
func.func @tracks(%h: tensor<?x32xf32>, %pos: tensor<?xi32>) -> tensor<?x32xf32> {
  // CHECK: fm.parallel_tracks mean depth = 1 %{{.*}} : tensor<?x32xf32> {
  // CHECK: ^bb0(%[[X:.*]]: tensor<?x32xf32>):
  // CHECK: fm.attention global {{.*}} reads @t0 writes @t0
  // CHECK: fm.yield %{{.*}} : tensor<?x32xf32>
  // CHECK: }, {
  // CHECK: fm.attention global {{.*}} reads @t1 writes @t1
  // CHECK: fm.yield
  %y = fm.parallel_tracks mean depth = 1 %h : tensor<?x32xf32> {
  ^bb0(%x: tensor<?x32xf32>):
    %q = fm.linear %x, @wq : tensor<?x32xf32> -> tensor<?x32xf32>
    %k = fm.linear %x, @wk : tensor<?x32xf32> -> tensor<?x16xf32>
    %a = fm.attention global %q, %k, %k at %pos reads @t0 writes @t0 heads = 4, kv_heads = 2, head_dim = 8
        : (tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x32xf32>
    %r = fm.add %x, %a : tensor<?x32xf32>
    fm.yield %r : tensor<?x32xf32>
  }, {
  ^bb0(%x: tensor<?x32xf32>):
    %q = fm.linear %x, @wq : tensor<?x32xf32> -> tensor<?x32xf32>
    %k = fm.linear %x, @wk : tensor<?x32xf32> -> tensor<?x16xf32>
    %a = fm.attention global %q, %k, %k at %pos reads @t1 writes @t1 heads = 4, kv_heads = 2, head_dim = 8
        : (tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x32xf32>
    fm.yield %a : tensor<?x32xf32>
  }
  // CHECK: fm.parallel_tracks sum depth = 1
  %z = fm.parallel_tracks sum depth = 1 %y : tensor<?x32xf32> {
  ^bb0(%x: tensor<?x32xf32>):
    %a = fm.attention global %x at %pos reads @t0 heads = 4, kv_heads = 2, head_dim = 8
        : (tensor<?x32xf32>, tensor<?xi32>) -> tensor<?x32xf32>
    fm.yield %a : tensor<?x32xf32>
  }
  return %z : tensor<?x32xf32>
}
