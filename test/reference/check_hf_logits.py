#!/usr/bin/env python3
"""Compare fmc-run --logits-out rows with hf_forward.py's reference forward.

  check_hf_logits.py MODEL_DIR --prompt-ids 1,5,9 --logits F [--tolerance T]
      [--against OTHER_LOGITS]

The generated tokens are recovered from the logits themselves (greedy: the
argmax of each row after the prompt's last), so the reference sees exactly
the sequence fmc-run decoded. With --against, the rows are compared with a
second logits file (e.g. the fused and the unfused MoE forms) instead of the
reference. Prints the row count, the largest difference and a verdict line;
exits non-zero on a mismatch. Needs only numpy and hf_forward.py.
"""

import argparse
import os
import sys

import numpy as np

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hf_forward  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model")
    parser.add_argument("--prompt-ids", required=True)
    parser.add_argument("--logits", required=True)
    parser.add_argument("--against")
    parser.add_argument("--tolerance", type=float, default=1e-4)
    args = parser.parse_args()

    config, _ = hf_forward.load_model(args.model)
    vocab = config["vocab_size"]
    got = np.fromfile(args.logits, dtype="<f4").astype(np.float64)
    if got.size == 0 or got.size % vocab:
        print(f"error: {args.logits} holds {got.size} floats, not rows of {vocab}")
        return 1
    got = got.reshape(-1, vocab)
    if args.against:
        want = np.fromfile(args.against, dtype="<f4").astype(np.float64)
        if want.size != got.size:
            print(f"error: {args.against} holds {want.size} floats, {args.logits} {got.size}")
            return 1
        want = want.reshape(-1, vocab)
    else:
        tokens = [int(v) for v in args.prompt_ids.split(",")]
        for row in range(len(tokens) - 1, got.shape[0] - 1):
            tokens.append(int(np.argmax(got[row])))
        want = hf_forward.forward(args.model, tokens[: got.shape[0]]).astype(np.float64)
    diff = np.abs(got - want).max()
    what = "the other logits" if args.against else "the reference"
    print(f"rows {got.shape[0]}, max |a - b| = {diff:.3e} (tolerance {args.tolerance:g})")
    if not diff <= args.tolerance:
        print(f"error: logits differ from {what}")
        return 1
    print(f"logits match {what}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
