#!/usr/bin/python3
"""Writes the synthetic Llama benchmark model: a Hugging Face directory with
random F16 weights (not a trained model; only its shapes matter for speed).

  make_bench_model.py OUTDIR [--preset 853m|1b] [--dtype F16|BF16|F32] [--qat]

853m is DESIGN.md's llama.cpp comparison shape (hidden 2048, 16 layers,
32/8 heads, FFN 5632, vocab 32000, 853M parameters with an untied output
layer); 1b has 22 layers of the same width (1.1B). Tensor names and the
safetensors layout come from scripts/make_synthetic_models.py, the project's
synthetic-model script; this file only picks the size and streams the
tensors so that a multi-GB model never sits in memory. Nothing written here
belongs in git.

--qat makes the weights look quantization-aware trained, as Apple's
on-device model ships them: every linear weight (lm_head included) lies on
the balanced 2-bit grid s*{-1.5,-0.5,0.5,1.5} per group of 64 along a row,
the embedding table on the balanced 4-bit grid s*(q-7.5) per group of 64,
with scales of 6 significant bits so that every value is exact in F16 too.
fmc-compile --quantize then packs them losslessly (and fast: no scale
search), while the same files compiled without --quantize are the dense
baseline of the same model.
"""

import argparse
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


def snap_to_grid(values, bits, group=64):
    """values [rows, k] onto the balanced grid of `bits` bits per group."""
    offset = np.float32((2 ** bits - 1) / 2)
    rows, k = values.shape
    x = values.reshape(rows, k // group, group)
    amax = np.abs(x).max(axis=2, keepdims=True) / offset
    mantissa, exponent = np.frexp(amax)
    scale = np.ldexp(np.round(mantissa * 64) / 64, exponent).astype(np.float32)
    scale[scale == 0] = 1
    q = np.clip(np.rint(x / scale + offset), 0, 2 ** bits - 1).astype(np.float32)
    return (scale * (q - offset)).reshape(rows, k)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("outdir")
    parser.add_argument("--preset", choices=sorted(PRESETS), default="853m")
    parser.add_argument("--dtype", choices=sorted(BYTES), default="F16")
    parser.add_argument("--qat", action="store_true",
                        help="weights on the 2-bit (linears) / 4-bit (embedding) grid")
    args = parser.parse_args()

    config = synthetic.config("llama", max_position_embeddings=2048, **PRESETS[args.preset])
    shapes = synthetic.llama_like(config)

    def qat(name, values):
        if not args.qat or len(values.shape) != 2:
            return values
        return snap_to_grid(values, 4 if "embed_tokens" in name else 2)

    params = synthetic.write_random_model(args.outdir, config, shapes,
                                          args.dtype, scale=0.02, seed=0,
                                          transform=qat)
    print(f"{args.outdir}: {params / 1e6:.1f}M parameters, {args.dtype}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
