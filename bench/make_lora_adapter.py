#!/usr/bin/python3
"""Writes a random PEFT LoRA adapter for a Hugging Face model directory (the
benchmark models of make_bench_model.py): adapter_config.json and
adapter_model.safetensors with lora_A [r, in] and lora_B [out, r] for every
decoder-layer projection the targets name. Only its shapes matter for speed.

  make_lora_adapter.py MODEL_DIR OUT_DIR [--rank 32] [--alpha 64]
                       [--targets q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj]

The tensor names and config come from scripts/make_synthetic_models.py.
Nothing written here belongs in git.
"""

import argparse
import json
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
import make_synthetic_models as synthetic  # noqa: E402


def tensor_shapes(model_dir):
    """{name: shape} from the safetensors header(s) of model_dir."""
    shapes = {}
    for name in sorted(os.listdir(model_dir)):
        if not name.endswith(".safetensors"):
            continue
        with open(os.path.join(model_dir, name), "rb") as f:
            (size,) = struct.unpack("<Q", f.read(8))
            header = json.loads(f.read(size))
        shapes.update({k: tuple(v["shape"]) for k, v in header.items()
                       if k != "__metadata__"})
    return shapes


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model")
    parser.add_argument("out")
    parser.add_argument("--rank", type=int, default=32)
    parser.add_argument("--alpha", type=float, default=64)
    parser.add_argument("--targets", default=",".join(synthetic.LINEAR_PROJS))
    args = parser.parse_args()
    config = synthetic.peft_config(args.rank, args.alpha, args.targets.split(","),
                                   base_model_name_or_path=args.model)
    tensors = synthetic.lora_tensors(tensor_shapes(args.model), config, seed=7)
    synthetic.write_adapter(args.out, config, tensors)
    params = sum(a.size for _, a in tensors.values())
    print(f"{args.out}: rank {args.rank}, {len(tensors) // 2} modules, "
          f"{params:,} parameters")
    return 0


if __name__ == "__main__":
    sys.exit(main())
