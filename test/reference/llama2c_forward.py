#!/usr/bin/env python3
"""An independent numpy forward pass of a llama2.c checkpoint, to check fmc.

It reads the checkpoint itself (the 7-int header, then the fp32 arrays in
llama2.c's order) and computes the logits of every position of a token
sequence at once: full causal attention, no KV cache, float64 throughout.
Nothing here shares code with fmc.

Given the logits fmc-run wrote (--logits-out: one row of vocab f32 per
prompt position and decode step), it rebuilds the token sequence fmc
followed (the prompt, then the greedy argmax of each row), recomputes
every row and reports the largest absolute difference.

  llama2c_forward.py --checkpoint stories260K.bin --prompt-ids 1,403,407 \
      --logits fmc.logits [--tolerance 1e-4]
"""

import argparse
import sys

import numpy as np


def load_checkpoint(path):
    with open(path, "rb") as f:
        header = np.frombuffer(f.read(28), dtype="<i4")
        data = np.frombuffer(f.read(), dtype="<f4")
    dim, hidden, layers, heads, kv_heads, vocab, seq_len = (int(v) for v in header)
    shared = vocab > 0
    vocab = abs(vocab)
    head_size = dim // heads
    kv_dim = kv_heads * head_size
    offset = 0

    def take(*shape):
        nonlocal offset
        count = int(np.prod(shape))
        array = data[offset:offset + count].reshape(shape).astype(np.float64)
        offset += count
        return array

    w = {}
    w["embed"] = take(vocab, dim)
    w["rms_att"] = take(layers, dim)
    w["wq"] = take(layers, dim, dim)
    w["wk"] = take(layers, kv_dim, dim)
    w["wv"] = take(layers, kv_dim, dim)
    w["wo"] = take(layers, dim, dim)
    w["rms_ffn"] = take(layers, dim)
    w["w1"] = take(layers, hidden, dim)
    w["w2"] = take(layers, dim, hidden)
    w["w3"] = take(layers, hidden, dim)
    w["rms_final"] = take(dim)
    take(seq_len, head_size // 2)  # legacy freq_cis_real
    take(seq_len, head_size // 2)  # legacy freq_cis_imag
    w["classifier"] = w["embed"] if shared else take(vocab, dim)
    config = dict(dim=dim, hidden=hidden, layers=layers, heads=heads,
                  kv_heads=kv_heads, vocab=vocab, head_size=head_size)
    return config, w


def rmsnorm(x, weight, eps=1e-5):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * weight


def rope_interleaved(x, positions, head_size, theta=10000.0):
    """Rotates pairs (2i, 2i+1) of every head by position * theta^(-2i/d)."""
    t, width = x.shape
    x = x.reshape(t, width // head_size, head_size // 2, 2)
    freq = theta ** (-np.arange(0, head_size, 2) / head_size)
    angle = positions[:, None] * freq[None, :]
    cos, sin = np.cos(angle)[:, None, :], np.sin(angle)[:, None, :]
    a, b = x[..., 0], x[..., 1]
    out = np.stack([a * cos - b * sin, a * sin + b * cos], axis=-1)
    return out.reshape(t, width)


def forward(config, w, tokens):
    t = len(tokens)
    hs, heads, kv_heads = config["head_size"], config["heads"], config["kv_heads"]
    positions = np.arange(t, dtype=np.float64)
    mask = np.triu(np.full((t, t), -np.inf), k=1)
    x = w["embed"][tokens]
    for layer in range(config["layers"]):
        xb = rmsnorm(x, w["rms_att"][layer])
        q = rope_interleaved(xb @ w["wq"][layer].T, positions, hs)
        k = rope_interleaved(xb @ w["wk"][layer].T, positions, hs)
        v = xb @ w["wv"][layer].T
        q = q.reshape(t, heads, hs).transpose(1, 0, 2)
        k = k.reshape(t, kv_heads, hs).transpose(1, 0, 2)
        v = v.reshape(t, kv_heads, hs).transpose(1, 0, 2)
        group = heads // kv_heads
        k = np.repeat(k, group, axis=0)
        v = np.repeat(v, group, axis=0)
        scores = q @ k.transpose(0, 2, 1) / np.sqrt(hs) + mask
        scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        scores /= scores.sum(axis=-1, keepdims=True)
        attended = (scores @ v).transpose(1, 0, 2).reshape(t, heads * hs)
        x = x + attended @ w["wo"][layer].T
        xb = rmsnorm(x, w["rms_ffn"][layer])
        gate = xb @ w["w1"][layer].T
        up = xb @ w["w3"][layer].T
        x = x + (gate / (1.0 + np.exp(-gate)) * up) @ w["w2"][layer].T
    x = rmsnorm(x, w["rms_final"])
    return x @ w["classifier"].T


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--prompt-ids", required=True)
    parser.add_argument("--logits", required=True, help="fmc-run --logits-out file")
    parser.add_argument("--tolerance", type=float, default=1e-4)
    parser.add_argument("--min-rows", type=int, default=1)
    args = parser.parse_args()

    config, w = load_checkpoint(args.checkpoint)
    vocab = config["vocab"]
    got = np.fromfile(args.logits, dtype="<f4")
    if got.size == 0 or got.size % vocab:
        print(f"error: {args.logits} holds {got.size} floats, not rows of {vocab}")
        return 1
    got = got.reshape(-1, vocab).astype(np.float64)
    rows = got.shape[0]
    tokens = [int(v) for v in args.prompt_ids.split(",")]
    if rows < max(len(tokens), args.min_rows):
        print(f"error: {rows} logits rows, expected at least "
              f"{max(len(tokens), args.min_rows)}")
        return 1
    # The tokens fmc fed back: the greedy choice of each row from the prompt's last.
    for row in range(len(tokens) - 1, rows - 1):
        tokens.append(int(np.argmax(got[row])))
    want = forward(config, w, np.array(tokens[:rows]))
    diff = np.abs(got - want)
    worst = np.unravel_index(np.argmax(diff), diff.shape)
    print(f"rows {rows}, vocab {vocab}, max |fmc - reference| = {diff.max():.3e} "
          f"at position {worst[0]}, token {worst[1]} (tolerance {args.tolerance:g})")
    if not diff.max() <= args.tolerance:
        print("error: logits differ from the reference")
        return 1
    print("logits match the reference")
    return 0


if __name__ == "__main__":
    sys.exit(main())
