#!/usr/bin/python3
"""Writes the synthetic Llama benchmark model: a Hugging Face directory with
random F16 weights (not a trained model; only its shapes matter for speed).

  make_bench_model.py OUTDIR [--preset 853m|1b] [--dtype F16|BF16|F32]

853m is DESIGN.md's llama.cpp comparison shape (hidden 2048, 16 layers,
32/8 heads, FFN 5632, vocab 32000, 853M parameters with an untied output
layer); 1b has 22 layers of the same width (1.1B). Tensor names and the
safetensors layout come from scripts/make_synthetic_models.py, the project's
synthetic-model script; this file only picks the size and streams the
tensors so that a multi-GB model never sits in memory. Nothing written here
belongs in git.
"""

import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
import make_synthetic_models as synthetic  # noqa: E402

PRESETS = {
    "853m": dict(hidden_size=2048, intermediate_size=5632, num_hidden_layers=16,
                 num_attention_heads=32, num_key_value_heads=8, vocab_size=32000),
    "1b": dict(hidden_size=2048, intermediate_size=5632, num_hidden_layers=22,
               num_attention_heads=32, num_key_value_heads=8, vocab_size=32000),
}
BYTES = {"F32": 4, "F16": 2, "BF16": 2}


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("outdir")
    parser.add_argument("--preset", choices=sorted(PRESETS), default="853m")
    parser.add_argument("--dtype", choices=sorted(BYTES), default="F16")
    args = parser.parse_args()

    config = synthetic.config("llama", max_position_embeddings=2048, **PRESETS[args.preset])
    shapes = synthetic.llama_like(config)
    names = sorted(shapes)
    entries = [(n, args.dtype, shapes[n], int(np.prod(shapes[n])) * BYTES[args.dtype])
               for n in names]
    header, _ = synthetic.safetensors_header(entries)
    os.makedirs(args.outdir, exist_ok=True)
    rng = np.random.default_rng(0)
    params = 0
    with open(os.path.join(args.outdir, "model.safetensors"), "wb") as f:
        f.write(header)
        for name in names:
            shape = shapes[name]
            if name.endswith("norm.weight"):
                values = np.ones(shape, dtype=np.float32)
            else:
                values = rng.standard_normal(shape, dtype=np.float32) * 0.02
            f.write(synthetic.to_storage(values, args.dtype))
            params += values.size
    with open(os.path.join(args.outdir, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    print(f"{args.outdir}: {params / 1e6:.1f}M parameters, {args.dtype}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
