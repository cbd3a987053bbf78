#!/usr/bin/python3
"""Writes the first N decoder layers of a Hugging Face model directory (one
model.safetensors, as make_bench_model.py writes) as a model of its own: the
same embedding, final norm and head, so that it predicts like a shallow copy
of the original. That is the self-similar draft of the speculative-decoding
benchmark (bench/speculative.sh).

  make_truncated_model.py MODEL_DIR OUT_DIR --layers N

Tensor bytes are copied, never decoded. Nothing written here belongs in git.
"""

import argparse
import json
import os
import re
import shutil
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
import make_synthetic_models as synthetic  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model")
    parser.add_argument("out")
    parser.add_argument("--layers", type=int, required=True)
    args = parser.parse_args()
    with open(os.path.join(args.model, "config.json")) as f:
        config = json.load(f)
    if not 0 < args.layers <= config["num_hidden_layers"]:
        sys.exit(f"--layers must be in [1, {config['num_hidden_layers']}]")
    source = os.path.join(args.model, "model.safetensors")
    with open(source, "rb") as f:
        (size,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(size))
    data_start = 8 + size
    header.pop("__metadata__", None)

    def kept(name):
        m = re.match(r"model\.layers\.(\d+)\.", name)
        return not m or int(m.group(1)) < args.layers

    names = [n for n in sorted(header, key=lambda n: header[n]["data_offsets"][0])
             if kept(n)]
    entries = [(n, header[n]["dtype"], header[n]["shape"],
                header[n]["data_offsets"][1] - header[n]["data_offsets"][0])
               for n in names]
    new_header, _ = synthetic.safetensors_header(entries)
    os.makedirs(args.out, exist_ok=True)
    with open(source, "rb") as src, \
            open(os.path.join(args.out, "model.safetensors"), "wb") as dst:
        dst.write(new_header)
        for name in names:
            begin, end = header[name]["data_offsets"]
            src.seek(data_start + begin)
            remaining = end - begin
            while remaining:
                chunk = src.read(min(remaining, 64 << 20))
                dst.write(chunk)
                remaining -= len(chunk)
    total = config["num_hidden_layers"]
    config["num_hidden_layers"] = args.layers
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    for extra in ("tokenizer.json", "tokenizer_config.json"):
        if os.path.exists(os.path.join(args.model, extra)):
            shutil.copy(os.path.join(args.model, extra), args.out)
    print(f"{args.out}: the first {args.layers} of {total} layers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
