#!/usr/bin/env python3
"""Make a quantization-aware-trained stand-in of a llama2.c checkpoint.

Rewrites every linear weight (wq, wk, wv, wo, w1, w2, w3) so that each group
of `--linear-group` consecutive elements of a row is exactly s * (q - 1.5)
with q in {0,1,2,3} and s an f16 value (the balanced 2-bit grid of AFM and
ParetoQ), and the token embedding onto the balanced 4-bit grid
s * (q - 7.5) with groups of `--embedding-group`: what a model trained with
quantization-aware training looks like. Written independently of fmc (numpy
only): fmc must find these weights on the grid and pack them losslessly.

  snap_to_grid.py in.bin out.bin
"""
import argparse

import numpy as np


def snap(w, bits, group):
    """w [rows, k] float32 onto the balanced grid, per group of a row."""
    offset = np.float32((2 ** bits - 1) / 2)
    out = np.empty_like(w)
    for g0 in range(0, w.shape[1], group):
        x = w[:, g0:g0 + group]
        amax = np.abs(x).max(axis=1, keepdims=True)
        s = (amax / offset).astype(np.float16).astype(np.float32)
        s[s == 0] = np.float32(1)
        q = np.clip(np.rint(x / s + offset), 0, 2 ** bits - 1).astype(np.float32)
        out[:, g0:g0 + group] = s * (q - offset)  # f32 product, as fmc computes
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("input")
    parser.add_argument("output")
    parser.add_argument("--linear-group", type=int, default=64)
    parser.add_argument("--embedding-group", type=int, default=64)
    args = parser.parse_args()
    with open(args.input, "rb") as f:
        header = np.frombuffer(f.read(28), dtype="<i4")
        data = np.frombuffer(f.read(), dtype="<f4").copy()
    dim, hidden, layers, heads, kv_heads, vocab, _ = (int(v) for v in header)
    vocab = abs(vocab)
    kv_dim = kv_heads * (dim // heads)
    offset = 0

    def region(count):
        nonlocal offset
        view = slice(offset, offset + count)
        offset += count
        return view

    def rewrite(rows, k, bits, group, count=1):
        view = region(count * rows * k)
        data[view] = snap(data[view].reshape(count * rows, k), bits, group).ravel()

    rewrite(vocab, dim, 4, args.embedding_group)          # token embedding
    region(layers * dim)                                  # rms_att
    rewrite(dim, dim, 2, args.linear_group, layers)       # wq
    rewrite(kv_dim, dim, 2, args.linear_group, layers)    # wk
    rewrite(kv_dim, dim, 2, args.linear_group, layers)    # wv
    rewrite(dim, dim, 2, args.linear_group, layers)       # wo
    region(layers * dim)                                  # rms_ffn
    rewrite(hidden, dim, 2, args.linear_group, layers)    # w1
    rewrite(dim, hidden, 2, args.linear_group, layers)    # w2
    rewrite(hidden, dim, 2, args.linear_group, layers)    # w3
    with open(args.output, "wb") as f:
        f.write(header.tobytes())
        f.write(data.astype("<f4").tobytes())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
