#!/usr/bin/env python3
"""Compares two raw f32 logits files (fmc-run --logits-out) of the same
length: prints the largest absolute difference, exits 1 above --tolerance.

    diff_logits.py A B [--tolerance 1e-4] [--vocab V --b-first-row R]

With --b-first-row, A is compared with B's rows from row R on (A from an
artifact whose prefill has the last prompt position's logits only, B from
one with every position's).
"""

import argparse
import sys

import numpy as np


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("a")
    parser.add_argument("b")
    parser.add_argument("--tolerance", type=float, default=1e-4)
    parser.add_argument("--vocab", type=int)
    parser.add_argument("--b-first-row", type=int, default=0)
    args = parser.parse_args()
    a = np.fromfile(args.a, dtype="<f4")
    b = np.fromfile(args.b, dtype="<f4")
    if args.b_first_row:
        if not args.vocab:
            sys.exit("--b-first-row needs --vocab")
        b = b[args.b_first_row * args.vocab:]
    if a.size != b.size or a.size == 0:
        print(f"{args.a} has {a.size} floats, {args.b} {b.size}")
        return 1
    diff = float(np.abs(a - b).max())
    print(f"{a.size} floats, max abs diff {diff:.3g} (tolerance {args.tolerance:g})")
    if not diff <= args.tolerance:
        print("logits differ")
        return 1
    print("logits agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
