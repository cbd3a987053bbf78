#!/usr/bin/env python3
"""Compares fmc-run --logits-out rows with hf_forward.py's reference forward,
or with a second logits file.

  check_hf_logits.py MODEL_DIR --logits F (--prompt-ids 1,5,9 | --generated FILE)
      [--first-row R] [--min-rows N] [--against OTHER] [--tolerance T]
      [--reuse-layers N] [--pattern P --window W] [--global-rope none] [--kv-int8]
      [--adapter DIR [--adapter-f16]]

The token sequence is --generated (fmc-run's stdout for --prompt-ids: the
prompt and generated ids, space separated), or --prompt-ids with the
generated tokens recovered from the logits themselves (greedy: the argmax of
each row from the prompt's last on). The reference runs the whole sequence
(teacher forcing) with the given pass options, and row i of the logits file
is compared with its row first_row + i (first_row is the last prompt position
when the artifact's prefill computes that position only). With --against,
the rows are compared with the second logits file instead (e.g. fused and
unfused MoE). Prints the largest absolute difference and a verdict; exits 1
on a mismatch. --adapter merges a PEFT LoRA adapter into the reference's
weights. Needs only numpy and hf_forward.py.
"""

import argparse
import os
import sys

import numpy as np

# The reference lives beside this script; no __pycache__ in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hf_forward  # noqa: E402


def read_rows(path, vocab):
    values = np.fromfile(path, dtype="<f4").astype(np.float64)
    if values.size == 0 or values.size % vocab:
        sys.exit(f"error: {path} holds {values.size} floats, not rows of {vocab}")
    return values.reshape(-1, vocab)


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model")
    parser.add_argument("--logits", required=True)
    tokens_from = parser.add_mutually_exclusive_group(required=True)
    tokens_from.add_argument("--prompt-ids")
    tokens_from.add_argument("--generated")
    parser.add_argument("--first-row", type=int, default=0)
    parser.add_argument("--min-rows", type=int, default=1)
    parser.add_argument("--against")
    parser.add_argument("--tolerance", type=float, default=1e-4)
    parser.add_argument("--reuse-layers", type=int, default=0)
    parser.add_argument("--pattern")
    parser.add_argument("--window", type=int)
    parser.add_argument("--global-rope", default="rope", choices=["rope", "none"])
    parser.add_argument("--kv-int8", action="store_true")
    parser.add_argument("--adapter", help="PEFT LoRA adapter directory")
    parser.add_argument("--adapter-f16", action="store_true",
                        help="round its A and scale * B to f16, as .fmca stores them")
    args = parser.parse_args()

    config, _ = hf_forward.load_model(args.model)
    got = read_rows(args.logits, config["vocab_size"])
    rows = got.shape[0]
    if args.against:
        want = read_rows(args.against, config["vocab_size"])
        if want.shape != got.shape:
            sys.exit(f"error: {args.against} holds {want.shape[0]} rows, "
                     f"{args.logits} {rows}")
        what = "the other logits"
    else:
        if args.generated:
            with open(args.generated) as f:
                tokens = [int(t) for t in f.read().split()]
        else:
            tokens = [int(v) for v in args.prompt_ids.split(",")]
            for row in range(len(tokens) - 1 - args.first_row, rows - 1):
                tokens.append(int(np.argmax(got[row])))
        options = hf_forward.Options(args.reuse_layers, args.pattern, args.window,
                                     args.global_rope, args.kv_int8, args.adapter,
                                     args.adapter_f16)
        reference = hf_forward.forward(args.model, tokens, options).astype(np.float64)
        if rows < args.min_rows or args.first_row + rows > reference.shape[0]:
            sys.exit(f"error: {args.logits}: {rows} rows from row {args.first_row}; "
                     f"the sequence has {reference.shape[0]} positions, expected "
                     f"at least {args.min_rows} rows")
        want = reference[args.first_row:args.first_row + rows]
        what = "the reference"
    diff = np.abs(got - want)
    worst = np.unravel_index(np.argmax(diff), diff.shape)
    print(f"rows {rows} from position {args.first_row}, max |a - b| = "
          f"{diff.max():.3e} at row {worst[0]}, token {worst[1]} "
          f"(tolerance {args.tolerance:g})")
    if not diff.max() <= args.tolerance:
        print(f"error: logits differ from {what}")
        return 1
    print(f"logits match {what}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
