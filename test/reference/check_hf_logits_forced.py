#!/usr/bin/env python3
"""Compares fmc-run --logits-out against hf_forward.py's reference forward.

    check_hf_logits_forced.py MODEL_DIR --generated fmc-run.txt --logits fmc.logits
        [--first-row R] [--tolerance T] [hf_forward options...]

--generated is fmc-run's stdout for --prompt-ids (the prompt and generated
token ids, space separated): the reference runs the whole sequence (teacher
forcing), and row i of the logits file is compared with the reference's row
first_row + i (first_row is the last prompt position when the artifact's
prefill computes that position only). Prints the worst difference; exits 1
when it exceeds the tolerance (absolute, on logits).
"""

import argparse
import os
import sys

import numpy as np

# The reference lives beside this script; no __pycache__ in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hf_forward  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model")
    parser.add_argument("--generated", required=True)
    parser.add_argument("--logits", required=True)
    parser.add_argument("--first-row", type=int, default=0)
    parser.add_argument("--min-rows", type=int, default=1)
    parser.add_argument("--tolerance", type=float, default=1e-4)
    parser.add_argument("--reuse-layers", type=int, default=0)
    parser.add_argument("--pattern")
    parser.add_argument("--window", type=int)
    parser.add_argument("--global-rope", default="rope", choices=["rope", "none"])
    parser.add_argument("--kv-int8", action="store_true")
    args = parser.parse_args()

    with open(args.generated) as f:
        tokens = [int(t) for t in f.read().split()]
    options = hf_forward.Options(args.reuse_layers, args.pattern, args.window,
                                 args.global_rope, args.kv_int8)
    reference = hf_forward.forward(args.model, tokens, options)
    vocab = reference.shape[1]
    fmc = np.fromfile(args.logits, dtype="<f4")
    if fmc.size % vocab:
        sys.exit(f"{args.logits}: {fmc.size} floats is not a whole number of "
                 f"rows of {vocab}")
    fmc = fmc.reshape(-1, vocab)
    rows = fmc.shape[0]
    if rows < args.min_rows or args.first_row + rows > reference.shape[0]:
        sys.exit(f"{args.logits}: {rows} rows from row {args.first_row}; the "
                 f"sequence has {reference.shape[0]} positions, expected at "
                 f"least {args.min_rows} rows")
    diff = np.abs(fmc - reference[args.first_row:args.first_row + rows])
    worst = np.unravel_index(np.argmax(diff), diff.shape)
    print(f"rows {rows} from position {args.first_row}, vocab {vocab}")
    print(f"max abs diff {diff.max():.3g} at position "
          f"{args.first_row + worst[0]}, token {worst[1]} "
          f"(tolerance {args.tolerance:g})")
    if not diff.max() <= args.tolerance:
        print("logits differ from the reference")
        return 1
    print("logits match the reference")
    return 0


if __name__ == "__main__":
    sys.exit(main())
