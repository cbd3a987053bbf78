"""Writes a one-product model for the GPU matvec's packed paths:
embedding (vocab x K, f32) -> linear (N x K, the one to quantize) ->
untied logits (vocab x N, f32, stays float). The linear's input is an
embedding row, bit for bit the same on every backend, so the int8 rounding
of its activations is the same everywhere and a packed product's logits
agree to f32 rounding; the logits product is f32 (no rounding after).

With --norm, an RMSNorm (weight 1 + noise) sits between the embedding and
the linear: the GPU computes it while staging the activations (the matvec's
prologue), the cpu backend as a kernel of its own; its sum of squares adds
in another order, but an activation that close to an int8 code boundary is
rare enough that the logits still agree to f32 rounding here.

With --dtype f16 or --dtype bf16 the linear is stored in that type (bf16
truncated from f32), for the dense matrix-unit products.

usage: matvec_probe.py OUT_DIR K N [--norm] [--dtype f16|bf16]"""

import os
import sys

import numpy as np

out, k, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with_norm = "--norm" in sys.argv[4:]
dtype = (sys.argv[sys.argv.index("--dtype") + 1]
         if "--dtype" in sys.argv else "f32")
vocab = 64
rng = np.random.default_rng(k * 1000 + n)
embedding = rng.standard_normal((vocab, k)).astype(np.float32)
# A few large activations per row, as real models have: they set the int8
# block scales, so most features use few of the codes.
embedding[:, ::37] *= 8.0
linear = (0.05 * rng.standard_normal((n, k))).astype(np.float32)
stored = {"f32": lambda a: a, "f16": lambda a: a.astype(np.float16),
          "bf16": lambda a: (a.view(np.uint32) >> 16).astype(np.uint16)}[dtype](linear)
head = (0.05 * rng.standard_normal((vocab, n))).astype(np.float32)
norm = (1.0 + 0.1 * rng.standard_normal(k)).astype(np.float32)
os.makedirs(out, exist_ok=True)
with open(os.path.join(out, "probe.bin"), "wb") as f:
    for array in (embedding, stored, head, norm):
        f.write(array.tobytes())
at_linear = embedding.nbytes
at_head = at_linear + stored.nbytes
at_norm = at_head + head.nbytes
norm_param = (f'  fm.param @n : tensor<{k}xf32> from #fm.external<"probe.bin", '
              f'offset = {at_norm}, dtype = f32>\n' if with_norm else "")
linear_input = "%xn" if with_norm else "%x"
norm_op = (f"    %xn = fm.rms_norm %x, @n eps = 1.0e-05 : tensor<?x{k}xf32>\n"
           if with_norm else "")
with open(os.path.join(out, "probe.mlir"), "w") as f:
    f.write(f'''module {{
  fm.param @emb : tensor<{vocab}x{k}xf32> from #fm.external<"probe.bin", offset = 0, dtype = f32>
  fm.param @w : tensor<{n}x{k}xf32> from #fm.external<"probe.bin", offset = {at_linear}, dtype = {dtype}>
  fm.param @head : tensor<{vocab}x{n}xf32> from #fm.external<"probe.bin", offset = {at_head}, dtype = f32>
{norm_param}  func.func @forward(%tokens: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x{vocab}xf32> {{
    %x = fm.embedding @emb[%tokens] : tensor<?xi32> -> tensor<?x{k}xf32>
{norm_op}    %y = fm.linear {linear_input}, @w : tensor<?x{k}xf32> -> tensor<?x{n}xf32>
    %l = fm.logits %y, @head : tensor<?x{n}xf32> -> tensor<?x{vocab}xf32>
    return %l : tensor<?x{vocab}xf32>
  }}
}}
''')
