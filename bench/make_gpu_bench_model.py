#!/usr/bin/python3
"""Writes the AFM on-device shape for the GPU decode benchmark: the exact
afm_on_device config of ../shared/AFM-CONFIGS.md (56 layers, hidden 2048,
16/2 heads of 128, FFN 6656, vocab 153600, the last 21 layers reading layer
34's KV cache; 3,111,368,064 parameters) as F16 tensors in one sparse
model.safetensors (its data region is never written: no disk space, and
fmc-compile reads zeros).

    make_gpu_bench_model.py OUT      # writes OUT/afm_on_device_f16

The values do not matter: bench/gpu_decode.sh compiles this directory
(--quantize=afm for the 2-bit variant, as it is for f16), keeps only the
artifacts' headers, and bench/fmc-fill-weights writes random weights behind
them on the GPU machine. Shapes come from scripts/make_synthetic_models.py.
Nothing written here belongs in git.
"""

import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
import make_synthetic_models as synthetic  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out")
    args = parser.parse_args()
    c = synthetic.afm_on_device_config("full")
    tensors = synthetic.afm_on_device_tensors(c)
    directory = os.path.join(args.out, "afm_on_device_f16")
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "config.json"), "w") as f:
        json.dump(c, f, indent=1)
    entries = [(n, "F16", tensors[n], int(np.prod(tensors[n])) * 2)
               for n in sorted(tensors)]
    synthetic.write_sparse_safetensors(
        os.path.join(directory, "model.safetensors"), entries)
    params = sum(int(np.prod(s)) for s in tensors.values())
    print(f"{directory}: {len(tensors)} tensors, {params:,} parameters "
          f"(F16, sparse)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
