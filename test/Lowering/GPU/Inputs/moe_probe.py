"""Writes a one-MoE model for the GPU's grouped expert GEMM:
embedding (vocab x K, f32) -> fm.moe (router E x K, f32; E experts of
INTER features, gate/up/down stored as DTYPE: f32, f16 or bf16; the
ones to quantize) -> untied logits (vocab x K, f32). The MoE's input is an
embedding row, bit for bit the same on every backend, so both route alike
and round gate_up's activations to the same int8 codes (matvec_probe.py
has the reasoning); the GLU's output, down's input, is summed in another
order on each backend, but an activation that close to an int8 code
boundary is rare enough that the prompt's logits agree to f32 rounding.

With --shared SHARED_INTER the MoE has a shared expert of that many
features (stored as DTYPE too) behind a sigmoid gate (f32).

usage: moe_probe.py OUT_DIR K INTER EXPERTS TOP_K [--dtype f16|bf16]
                    [--shared SHARED_INTER]"""

import os
import sys

import numpy as np

out = sys.argv[1]
k, inter, experts, top_k = (int(a) for a in sys.argv[2:6])
dtype = (sys.argv[sys.argv.index("--dtype") + 1]
         if "--dtype" in sys.argv else "f32")
shared = (int(sys.argv[sys.argv.index("--shared") + 1])
          if "--shared" in sys.argv else 0)
vocab = 64
rng = np.random.default_rng(k * 1000 + inter * 10 + experts)
embedding = rng.standard_normal((vocab, k)).astype(np.float32)
# A few large activations per row, as real models have (matvec_probe.py).
embedding[:, ::37] *= 8.0
router = rng.standard_normal((experts, k)).astype(np.float32)
store = {"f32": lambda a: a, "f16": lambda a: a.astype(np.float16),
         "bf16": lambda a: (a.view(np.uint32) >> 16).astype(np.uint16)}[dtype]
parts = []  # (name, shape, array) of each expert's gate, up and down
for e in range(experts):
    for name, shape in (("g", (inter, k)), ("u", (inter, k)),
                        ("d", (k, inter))):
        w = (0.1 * rng.standard_normal(shape)).astype(np.float32)
        parts.append((f"{name}{e}", shape, store(w)))
if shared:
    for name, shape in (("sg", (shared, k)), ("su", (shared, k)),
                        ("sd", (k, shared))):
        w = (0.1 * rng.standard_normal(shape)).astype(np.float32)
        parts.append((name, shape, store(w)))
shared_gate = (0.1 * rng.standard_normal((1, k))).astype(np.float32)
head = (0.05 * rng.standard_normal((vocab, k))).astype(np.float32)

os.makedirs(out, exist_ok=True)
params, offset = [], 0
with open(os.path.join(out, "probe.bin"), "wb") as f:
    def put(name, shape, array, stored):
        global offset
        dims = "x".join(str(d) for d in shape)
        params.append(f'  fm.param @{name} : tensor<{dims}xf32> from '
                      f'#fm.external<"probe.bin", offset = {offset}, '
                      f'dtype = {stored}>')
        f.write(array.tobytes())
        offset += array.nbytes
    put("emb", (vocab, k), embedding, "f32")
    put("router", (experts, k), router, "f32")
    for name, shape, array in parts:
        put(name, shape, array, dtype)
    put("head", (vocab, k), head, "f32")
    if shared:
        put("sgw", (1, k), shared_gate, "f32")
gate_up = ", ".join(f"@g{e}, @u{e}" for e in range(experts))
down = ", ".join(f"@d{e}" for e in range(experts))
params.append(f"  fm.param @gate_up : tensor<{experts}x{2 * inter}x{k}xf32> "
              f"stacks [{gate_up}]")
params.append(f"  fm.param @down : tensor<{experts}x{k}x{inter}xf32> "
              f"stacks [{down}]")
shared_args = ""
if shared:
    params.append(f"  fm.param @shared_gate_up : tensor<{2 * shared}x{k}xf32> "
                  "stacks [@sg, @su]")
    shared_args = " shared(@shared_gate_up, @sd) shared_gate @sgw"
body = "\n".join(params)
with open(os.path.join(out, "probe.mlir"), "w") as f:
    f.write(f'''module {{
{body}
  func.func @forward(%tokens: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x{vocab}xf32> {{
    %x = fm.embedding @emb[%tokens] : tensor<?xi32> -> tensor<?x{k}xf32>
    %m = fm.moe softmax %x router @router gate_up @gate_up down @down top_k = {top_k} activation = silu{shared_args} : tensor<?x{k}xf32>
    %l = fm.logits %m, @head : tensor<?x{k}xf32> -> tensor<?x{vocab}xf32>
    return %l : tensor<?x{vocab}xf32>
  }}
}}
''')
