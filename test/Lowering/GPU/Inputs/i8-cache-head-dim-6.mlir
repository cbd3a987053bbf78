// One attention layer over an int8 KV cache whose heads have 6 features: a
// (position, head) row of 6 bytes is not whole 32-bit words, which the GPU
// attention kernels read and write. Weights: tiny-weights.bin (256 bytes).
module {
  fm.param @emb : tensor<4x12xf32> from #fm.external<"tiny-weights.bin", offset = 0, dtype = f32>
  fm.kv_cache @c linear capacity = 16, kv_heads = 2, head_dim = 6 : i8
  func.func @forward(%tokens: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x4xf32> {
    %h = fm.embedding @emb[%tokens] : tensor<?xi32> -> tensor<?x12xf32>
    %a = fm.attention global %h, %h, %h at %pos reads @c writes @c heads = 2, kv_heads = 2, head_dim = 6
        : (tensor<?x12xf32>, tensor<?x12xf32>, tensor<?x12xf32>, tensor<?xi32>) -> tensor<?x12xf32>
    %l = fm.logits %a, @emb : tensor<?x12xf32> -> tensor<?x4xf32>
    return %l : tensor<?x4xf32>
  }
}
