#!/usr/bin/env python3
"""Agreement of a quantized model's logits with its f32 original.

Reads two fmc-run --logits-out files (the same tokens fed to both, e.g. a
prompt with -n 1) and prints the top-1 agreement (how often both pick the
same next token) and the mean KL divergence KL(f32 || quantized) of their
next-token distributions, failing when they are worse than the bounds given.

  compare_logits.py --reference f32.logits --logits q.logits --vocab 512 \
      [--min-top1 0.5] [--max-kl 1.0]
"""
import argparse

import numpy as np


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reference", required=True)
    parser.add_argument("--logits", required=True)
    parser.add_argument("--vocab", type=int, required=True)
    parser.add_argument("--min-top1", type=float, default=0.0)
    parser.add_argument("--max-kl", type=float, default=float("inf"))
    args = parser.parse_args()
    ref = np.fromfile(args.reference, dtype="<f4").astype(np.float64)
    got = np.fromfile(args.logits, dtype="<f4").astype(np.float64)
    if ref.size == 0 or ref.size != got.size or ref.size % args.vocab:
        print(f"error: {ref.size} and {got.size} floats are not the same rows of {args.vocab}")
        return 1
    ref = ref.reshape(-1, args.vocab)
    got = got.reshape(-1, args.vocab)

    def log_softmax(x):
        x = x - x.max(axis=1, keepdims=True)
        return x - np.log(np.exp(x).sum(axis=1, keepdims=True))

    lp, lq = log_softmax(ref), log_softmax(got)
    kl = float((np.exp(lp) * (lp - lq)).sum(axis=1).mean())
    top1 = float((ref.argmax(axis=1) == got.argmax(axis=1)).mean())
    print(f"rows {ref.shape[0]}: top-1 agreement {top1:.3f}, mean KL {kl:.4f} nats")
    if top1 < args.min_top1 or kl > args.max_kl:
        print(f"error: worse than top-1 >= {args.min_top1}, KL <= {args.max_kl}")
        return 1
    print("within bounds")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
