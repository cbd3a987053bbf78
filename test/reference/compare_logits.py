#!/usr/bin/env python3
"""Compares two raw f32 logits files (fmc-run --logits-out) of the same
length: prints the largest absolute difference, exits 1 above --tolerance.

    compare_logits.py A B [--tolerance 1e-4]
"""

import argparse
import sys

import numpy as np


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("a")
    parser.add_argument("b")
    parser.add_argument("--tolerance", type=float, default=1e-4)
    args = parser.parse_args()
    a = np.fromfile(args.a, dtype="<f4")
    b = np.fromfile(args.b, dtype="<f4")
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
