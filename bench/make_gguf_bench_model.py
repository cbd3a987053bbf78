#!/usr/bin/env python3
"""Writes the synthetic 853M Llama as a quantized GGUF file, for timing
fmc's ggml block kernels (bench/run.sh).

  make_gguf_bench_model.py OUT.gguf --type F16|Q8_0|Q4_K_M|TQ2_0

The shape is bench/make_bench_model.py's 853m preset (hidden 2048, 16
layers, 32/8 heads of 64, FFN 5632, vocab 32000, untied output). The blocks
are random bytes with small, finite f16 scales: only their sizes matter for
speed, not their values (not a trained model). F16 holds normal values
(sigma 0.02), which llama-quantize can turn into any other type for
bench/vs_llama_cpp.sh. Q4_K_M follows llama.cpp's
mix: Q6_K for the output layer and for attn_v / ffn_down on the first and
last eighth of the layers and every third layer between, Q4_K elsewhere.
Norms are F32. Tensors are streamed, so the file never sits in memory.
Nothing written here belongs in git.
"""
import argparse
import os
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "scripts"))
from make_synthetic_models import (GGUF_FLOAT32, GGUF_STRING,  # noqa: E402
                                   GGUF_UINT32, gguf_header, gguf_string,
                                   spm_gguf_tokenizer)

# ggml type: (number, elements per block, bytes per block, byte offsets of
# the block's f16 scales).
TYPES = {
    "F32": (0, 1, 4, ()),
    "F16": (1, 1, 2, ()),
    "Q8_0": (8, 32, 34, (0,)),
    "Q4_K": (12, 256, 144, (0, 2)),
    "Q6_K": (14, 256, 210, (208,)),
    "TQ2_0": (35, 256, 66, (64,)),
}

HIDDEN, LAYERS, HEADS, KV_HEADS, FFN, VOCAB = 2048, 16, 32, 8, 5632, 32000
HEAD_DIM = HIDDEN // HEADS


def unique_tokens(metadata):
    """`metadata` with its tokenizer.ggml.tokens made distinct: the test
    vocabulary repeats some pieces, which fmc accepts and llama.cpp does
    not load (id_to_token and token_to_id must be the same size); a repeat
    gets its id appended."""
    out = []
    for key, kind, value in metadata:
        if key == "tokenizer.ggml.tokens":
            seen, tokens = set(), []
            for i, token in enumerate(value[1]):
                if token in seen:
                    token = f"{token}{i}"
                seen.add(token)
                tokens.append(token)
            value = (value[0], tokens)
        out.append((key, kind, value))
    return out


def tensor_types(kind):
    """[(name, ggml type name, shape)] for the 853m Llama in `kind`."""
    def linear(name, rows, cols, more_bits=False):
        if kind == "Q4_K_M":
            return (name, "Q6_K" if more_bits else "Q4_K", (rows, cols))
        return (name, kind, (rows, cols))

    out = [linear("token_embd.weight", VOCAB, HIDDEN)]
    for i in range(LAYERS):
        b = f"blk.{i}"
        # llama.cpp's use_more_bits(i, n): first and last eighth, every third.
        more = (i < LAYERS // 8 or i >= 7 * LAYERS // 8 or
                (i - LAYERS // 8) % 3 == 2)
        out += [
            (f"{b}.attn_norm.weight", "F32", (HIDDEN,)),
            linear(f"{b}.attn_q.weight", HIDDEN, HIDDEN),
            linear(f"{b}.attn_k.weight", KV_HEADS * HEAD_DIM, HIDDEN),
            linear(f"{b}.attn_v.weight", KV_HEADS * HEAD_DIM, HIDDEN, more),
            linear(f"{b}.attn_output.weight", HIDDEN, HIDDEN),
            (f"{b}.ffn_norm.weight", "F32", (HIDDEN,)),
            linear(f"{b}.ffn_gate.weight", FFN, HIDDEN),
            linear(f"{b}.ffn_down.weight", HIDDEN, FFN, more),
            linear(f"{b}.ffn_up.weight", FFN, HIDDEN),
        ]
    out += [("output_norm.weight", "F32", (HIDDEN,)),
            linear("output.weight", VOCAB, HIDDEN, True)]
    return out


def tensor_bytes(type_name, shape):
    _, elements, size, _ = TYPES[type_name]
    count = int(np.prod(shape))
    return count // elements * size


def tensor_data(type_name, shape, rng):
    _, elements, size, scales = TYPES[type_name]
    if type_name == "F32":
        return np.ones(shape, np.float32).tobytes()
    if type_name == "F16":
        return (rng.standard_normal(shape, np.float32) * 0.02).astype(
            np.float16).tobytes()
    blocks = int(np.prod(shape)) // elements
    data = rng.integers(0, 256, (blocks, size), dtype=np.uint8)
    for offset in scales:
        data[:, offset:offset + 2] = np.frombuffer(
            np.float16(0.002).tobytes(), np.uint8)
    return data.tobytes()


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out")
    parser.add_argument("--type", required=True, choices=["F16", "Q8_0", "Q4_K_M", "TQ2_0"])
    args = parser.parse_args()

    metadata = [
        ("general.architecture", GGUF_STRING, "llama"),
        ("general.name", GGUF_STRING, f"fmc synthetic llama 853m {args.type}"),
        ("general.alignment", GGUF_UINT32, 32),
        ("llama.context_length", GGUF_UINT32, 4096),
        ("llama.embedding_length", GGUF_UINT32, HIDDEN),
        ("llama.block_count", GGUF_UINT32, LAYERS),
        ("llama.feed_forward_length", GGUF_UINT32, FFN),
        ("llama.rope.dimension_count", GGUF_UINT32, HEAD_DIM),
        ("llama.attention.head_count", GGUF_UINT32, HEADS),
        ("llama.attention.head_count_kv", GGUF_UINT32, KV_HEADS),
        ("llama.attention.layer_norm_rms_epsilon", GGUF_FLOAT32, 1e-5),
        ("llama.rope.freq_base", GGUF_FLOAT32, 10000.0),
    ] + unique_tokens(spm_gguf_tokenizer(VOCAB))
    tensors = tensor_types(args.type)
    header = gguf_header(metadata, len(tensors))
    offset = 0
    for name, type_name, shape in tensors:
        dims = list(reversed(shape))
        header += gguf_string(name) + struct.pack("<I", len(dims))
        header += struct.pack("<%dQ" % len(dims), *dims)
        header += struct.pack("<IQ", TYPES[type_name][0], offset)
        size = tensor_bytes(type_name, shape)
        offset += size + (-size % 32)
    header += b"\0" * (-len(header) % 32)
    rng = np.random.default_rng(853)
    tmp = args.out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(header)
        for _, type_name, shape in tensors:
            data = tensor_data(type_name, shape, rng)
            f.write(data + b"\0" * (-len(data) % 32))
    os.replace(tmp, args.out)


if __name__ == "__main__":
    main()
