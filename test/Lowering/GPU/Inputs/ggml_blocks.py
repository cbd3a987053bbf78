#!/usr/bin/env python3
"""Synthetic GGUFs in every ggml block format, and a relative logits check.

    ggml_blocks.py write OUT      OUT/<TYPE>.gguf for the 14 block formats
    ggml_blocks.py compare A B TOLERANCE

`write`: a 2-layer llama (hidden 256, 4 heads / 2 KV heads of 64, SwiGLU
FFN 512, vocabulary 320, untied output) whose embedding, every linear and
the output are in the one block format, norms in F32. The blocks are random
bytes (every code, every 6-bit scale and minimum, every trit byte occurs)
with their f16 fields (d, m, dmin) replaced by random values of a size that
keeps the weights near 0.03, some subnormal: the kernels decode bit
patterns, so nothing is quantized here and no format's encoder is needed.

`compare`: max |A - B| over max |A| (two fmc-run --logits-out files); exits
1 above TOLERANCE.
"""

import os
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "..", "..", "scripts"))
import make_synthetic_models as synth  # noqa: E402

# ggml type, block elements, block bytes, [(f16 field offset, magnitude)].
FORMATS = {
    "Q4_0": (2, 32, 18, [(0, 5e-3)]),
    "Q4_1": (3, 32, 20, [(0, 5e-3), (2, 4e-2)]),
    "Q5_0": (6, 32, 22, [(0, 2e-3)]),
    "Q5_1": (7, 32, 24, [(0, 2e-3), (2, 3e-2)]),
    "Q8_0": (8, 32, 34, [(0, 3e-4)]),
    "Q2_K": (10, 256, 84, [(80, 2e-3), (82, 2e-3)]),
    "Q3_K": (11, 256, 110, [(108, 3e-4)]),
    "Q4_K": (12, 256, 144, [(0, 1e-4), (2, 5e-4)]),
    "Q5_K": (13, 256, 176, [(0, 5e-5), (2, 5e-4)]),
    "Q6_K": (14, 256, 210, [(208, 1e-5)]),
    "IQ4_NL": (20, 32, 18, [(0, 3e-4)]),
    "IQ4_XS": (23, 256, 136, [(0, 1e-5)]),
    "TQ1_0": (34, 256, 54, [(52, 3e-2)]),
    "TQ2_0": (35, 256, 66, [(64, 3e-2)]),
}

HIDDEN, HEADS, KV_HEADS, HEAD_DIM, FFN, VOCAB, LAYERS = 256, 4, 2, 64, 512, 320, 2


def blocks(rng, name, rows, k):
    """rows x k weights in format `name`: random bytes, f16 fields set."""
    _, elements, size, fields = FORMATS[name]
    count = rows * k // elements
    data = rng.integers(0, 256, size=(count, size), dtype=np.uint8)
    for offset, magnitude in fields:
        value = magnitude * rng.uniform(0.25, 1.0, count)
        value *= rng.choice([-1.0, 1.0], count)
        data[:, offset:offset + 2] = (
            value.astype(np.float16).view(np.uint8).reshape(count, 2))
    return data.tobytes()


def write_gguf(path, name, seed):
    rng = np.random.default_rng(seed)
    ggml_type = FORMATS[name][0]
    tensors = []  # (gguf name, ggml type, shape, bytes)

    def weight(tensor, rows, k):
        tensors.append((tensor, ggml_type, (rows, k), blocks(rng, name, rows, k)))

    def norm(tensor):
        value = (1.0 + 0.05 * rng.standard_normal(HIDDEN)).astype(np.float32)
        tensors.append((tensor, synth.GGML_F32, (HIDDEN,), value.tobytes()))

    weight("token_embd.weight", VOCAB, HIDDEN)
    for i in range(LAYERS):
        b = f"blk.{i}"
        norm(f"{b}.attn_norm.weight")
        weight(f"{b}.attn_q.weight", HEADS * HEAD_DIM, HIDDEN)
        weight(f"{b}.attn_k.weight", KV_HEADS * HEAD_DIM, HIDDEN)
        weight(f"{b}.attn_v.weight", KV_HEADS * HEAD_DIM, HIDDEN)
        weight(f"{b}.attn_output.weight", HIDDEN, HEADS * HEAD_DIM)
        norm(f"{b}.ffn_norm.weight")
        weight(f"{b}.ffn_gate.weight", FFN, HIDDEN)
        weight(f"{b}.ffn_up.weight", FFN, HIDDEN)
        weight(f"{b}.ffn_down.weight", HIDDEN, FFN)
    norm("output_norm.weight")
    weight("output.weight", VOCAB, HIDDEN)

    metadata = [
        ("general.architecture", synth.GGUF_STRING, "llama"),
        ("general.name", synth.GGUF_STRING, f"fmc synthetic llama {name}"),
        ("general.alignment", synth.GGUF_UINT32, 32),
        ("llama.context_length", synth.GGUF_UINT32, 64),
        ("llama.embedding_length", synth.GGUF_UINT32, HIDDEN),
        ("llama.block_count", synth.GGUF_UINT32, LAYERS),
        ("llama.feed_forward_length", synth.GGUF_UINT32, FFN),
        ("llama.rope.dimension_count", synth.GGUF_UINT32, HEAD_DIM),
        ("llama.attention.head_count", synth.GGUF_UINT32, HEADS),
        ("llama.attention.head_count_kv", synth.GGUF_UINT32, KV_HEADS),
        ("llama.attention.layer_norm_rms_epsilon", synth.GGUF_FLOAT32, 1e-5),
        ("llama.rope.freq_base", synth.GGUF_FLOAT32, 10000.0),
    ] + synth.spm_gguf_tokenizer(VOCAB)
    out = synth.gguf_header(metadata, len(tensors))
    offset = 0
    for tensor, kind, shape, data in tensors:
        dims = list(reversed(shape))  # GGUF lists the innermost first.
        out += synth.gguf_string(tensor) + struct.pack("<I", len(dims))
        out += struct.pack("<%dQ" % len(dims), *dims)
        out += struct.pack("<IQ", kind, offset)
        offset += len(data) + (-len(data) % 32)
    out += b"\0" * (-len(out) % 32)
    for _, _, _, data in tensors:
        out += data + b"\0" * (-len(data) % 32)
    with open(path, "wb") as f:
        f.write(out)


def compare(a_path, b_path, tolerance):
    a = np.fromfile(a_path, dtype="<f4")
    b = np.fromfile(b_path, dtype="<f4")
    if a.size != b.size or a.size == 0:
        print(f"{a_path} has {a.size} floats, {b_path} {b.size}")
        return 1
    scale = float(np.abs(a).max())
    relative = float(np.abs(a - b).max()) / max(scale, 1e-30)
    print(f"{a.size} floats, max |logit| {scale:.3g}, max diff / max |logit| "
          f"{relative:.3g} (tolerance {tolerance:g})")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        print("logits not finite")
        return 1
    if not relative <= tolerance:
        print("logits differ")
        return 1
    print("logits agree")
    return 0


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "write":
        os.makedirs(sys.argv[2], exist_ok=True)
        for seed, name in enumerate(FORMATS):
            write_gguf(os.path.join(sys.argv[2], name + ".gguf"), name,
                       100 + seed)
        return 0
    if len(sys.argv) == 5 and sys.argv[1] == "compare":
        return compare(sys.argv[2], sys.argv[3], float(sys.argv[4]))
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main())
