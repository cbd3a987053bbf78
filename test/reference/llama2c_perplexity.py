#!/usr/bin/env python3
"""An independent numpy perplexity of a llama2.c checkpoint, to check
fmc-perplexity.

The text is tokenized here with llama2.c's own encoder (run.c: a dummy
prefix space, UTF-8 characters looked up whole or as <0xXX> byte tokens,
then repeated merges of the best-scoring adjacent pair), BOS first. The
windows and the scored positions are llama-perplexity's: non-overlapping
windows of ctx tokens, each starting with BOS, the tokens at window
positions ctx/2 + 1 .. ctx - 1 scored from the logits before them. The
logits come from llama2c_forward.forward (float64, full causal attention,
no KV cache). Nothing here shares code with fmc.

Given fmc-perplexity's --json report, compares the token count, the final
PPL and every window's own and running PPL (relative tolerance).

  llama2c_perplexity.py --checkpoint stories260K.bin --tokenizer tok512.bin \
      --text story.txt --ctx 64 --fmc-json fmc.json [--tolerance 1e-4]
"""

import argparse
import json
import math
import os
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from llama2c_forward import forward, load_checkpoint  # noqa: E402


def load_tokenizer(path, vocab):
    pieces, scores = [], []
    with open(path, "rb") as f:
        f.read(4)  # max_token_length
        for _ in range(vocab):
            score, length = struct.unpack("<fi", f.read(8))
            pieces.append(f.read(length))
            scores.append(score)
    return pieces, scores


def encode(text, pieces, scores):
    ids = {piece: i for i, piece in enumerate(pieces)}
    tokens = []
    if text:
        tokens.append(ids[b" "])
    for char in text:
        raw = char.encode("utf-8")
        if raw in ids:
            tokens.append(ids[raw])
        else:
            tokens.extend(byte + 3 for byte in raw)
    while True:
        best, best_at = None, -1
        for i in range(len(tokens) - 1):
            merged = ids.get(pieces[tokens[i]] + pieces[tokens[i + 1]])
            if merged is not None and (best is None or scores[merged] > scores[best]):
                best, best_at = merged, i
        if best is None:
            return tokens
        tokens[best_at:best_at + 2] = [best]


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--tokenizer", required=True)
    parser.add_argument("--text", required=True)
    parser.add_argument("--ctx", type=int, required=True)
    parser.add_argument("--fmc-json", required=True)
    parser.add_argument("--tolerance", type=float, default=1e-4)
    parser.add_argument("--bos", type=int, default=1)
    args = parser.parse_args()

    config, w = load_checkpoint(args.checkpoint)
    pieces, scores = load_tokenizer(args.tokenizer, config["vocab"])
    with open(args.text, encoding="utf-8") as f:
        text = f.read()
    if text.endswith("\n"):  # llama.cpp's -f drops one trailing newline
        text = text[:-1]
    tokens = [args.bos] + encode(text, pieces, scores)

    ctx = args.ctx
    first = ctx // 2
    windows = len(tokens) // ctx
    nll_sum, count, per_window = 0.0, 0, []
    for i in range(windows):
        window = list(tokens[i * ctx:(i + 1) * ctx])
        window[0] = args.bos
        logits = forward(config, w, np.array(window))
        shifted = logits - logits.max(axis=-1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
        nll = [-log_probs[p, window[p + 1]] for p in range(first, ctx - 1)]
        nll_sum += sum(nll)
        count += len(nll)
        per_window.append((math.exp(sum(nll) / len(nll)), math.exp(nll_sum / count)))
    ppl = math.exp(nll_sum / count)

    with open(args.fmc_json) as f:
        fmc = json.load(f)
    print(f"tokens {len(tokens)}, windows {windows}, ctx {ctx}, scored {count}")
    print(f"numpy PPL = {ppl:.6f}, fmc PPL = {fmc['ppl']:.6f}")
    failures = []
    if fmc["tokens"] != len(tokens):
        failures.append(f"fmc tokenized {fmc['tokens']} tokens, numpy {len(tokens)}")
    if fmc["windows"] != windows or fmc["scored_tokens"] != count:
        failures.append(f"fmc scored {fmc['scored_tokens']} tokens in {fmc['windows']} windows")
    worst = abs(fmc["ppl"] - ppl) / ppl
    for mine, theirs in zip(per_window, fmc["per_window"]):
        worst = max(worst, abs(theirs["ppl"] - mine[0]) / mine[0],
                    abs(theirs["running_ppl"] - mine[1]) / mine[1])
    print(f"max relative difference {worst:.3g} (tolerance {args.tolerance:g})")
    if worst > args.tolerance:
        failures.append("perplexities differ")
    for failure in failures:
        print("MISMATCH:", failure)
    if failures:
        return 1
    print("perplexity matches the reference")
    return 0


if __name__ == "__main__":
    sys.exit(main())
