#!/usr/bin/env python3
"""Compares fmc's prompt logits on a ../shared/models/gguf-quant case with the
case's exact reference.

  check_gguf_quant.py CASE_DIR --logits F [--tolerance T | --of-llamacpp R]

CASE_DIR holds prompt.json (the prompt ids and llama.cpp's own distance from
the reference), ref.f32 (a float64 forward over ggml's dequantized weights,
[positions, vocab] row-major f32) and logits.f32 (llama.cpp's logits). F is
fmc-run --logits-out of an artifact compiled with --prefill-all-positions,
run on the case's prompt ids with -n 0: one row per prompt position.

Prints one line: the case, fmc's largest absolute difference from the
reference, llama.cpp's (for scale), and how many rows pick the reference's
argmax. Exits 1 when fmc's difference exceeds the tolerance (default 1e-3:
the kernels decode every block exactly and accumulate in f32, so only f32
rounding separates them from the reference; llama.cpp's 8-bit activations
land 0.1-0.5 away). With --of-llamacpp R the tolerance is R times llama.cpp's
own distance from the reference on this case (the integer products, whose
int16 activations are rounded, are checked against it).
"""
import argparse
import json
import os
import sys

import numpy as np


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("case")
    parser.add_argument("--logits", required=True)
    parser.add_argument("--tolerance", type=float, default=1e-3)
    parser.add_argument("--of-llamacpp", type=float, default=None)
    args = parser.parse_args()

    with open(os.path.join(args.case, "prompt.json")) as f:
        prompt = json.load(f)
    shape = tuple(prompt["logits_shape"])
    ref = np.fromfile(os.path.join(args.case, "ref.f32"), "<f4").reshape(shape)
    ours = np.fromfile(args.logits, "<f4")
    if ours.size != ref.size:
        print(f"{args.logits}: {ours.size} logits, expected {ref.size} "
              f"({shape[0]} positions x {shape[1]})")
        return 1
    if args.of_llamacpp is not None:
        args.tolerance = args.of_llamacpp * prompt["llamacpp_vs_ref_max_abs"]
    ours = ours.reshape(shape)
    diff = float(np.max(np.abs(ours.astype(np.float64) - ref)))
    argmax = int(np.sum(np.argmax(ours, 1) == np.argmax(ref, 1)))
    name = os.path.basename(os.path.normpath(args.case))
    verdict = "ok" if diff <= args.tolerance else "MISMATCH"
    print(f"{name}: max |fmc - ref| = {diff:.3g} (tolerance {args.tolerance:.3g}; "
          f"llama.cpp {prompt['llamacpp_vs_ref_max_abs']:.3g}), "
          f"argmax {argmax}/{shape[0]} - {verdict}")
    return 0 if diff <= args.tolerance else 1


if __name__ == "__main__":
    sys.exit(main())
