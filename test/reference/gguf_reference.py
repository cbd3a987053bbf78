#!/usr/bin/env python3
"""Checks fmc's reading of a GGUF file against reference logits, with numpy.

  gguf_reference.py FMC_IMPORT MODEL.gguf --ref ref.f32 --prompt-ids 1,5,9
      [--tolerance T] [--work DIR]

Runs FMC_IMPORT on the file (the module and, with --config-out, the Hugging
Face config the GGUF reader translated the metadata into), decodes every
parameter the module references from the file at its offset and dtype (F32,
F16, BF16, and GGML Q8_0 / Q4_0 blocks, as ggml dequantizes them), writes
them as an f32 Hugging Face directory under those names, runs the
independent forward pass hf_forward.py on it, and compares its logits with
REF (f32, [positions, vocab], e.g. ../shared/models/gguf-quant/*/ref.f32).
So the names, slices (per-expert slabs of stacked experts), layouts and
config facts fmc derives from the GGUF file are checked together against a
reference computed from the file without fmc. Gemma norms stored with their
1 added (fmc_norm_offset_folded) are handed to hf_forward minus 1.
"""

import argparse
import json
import os
import re
import struct
import subprocess
import sys
import tempfile

import numpy as np

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hf_forward  # noqa: E402

PARAM = re.compile(r'fm\.param @(\S+) : tensor<([0-9x]+)x(?:f32|f16|bf16)> '
                   r'from <"[^"]+", offset = (\d+), dtype = (\w+)>')


def decode(raw, offset, shape, dtype):
    n = int(np.prod(shape))

    def take(count):
        return np.frombuffer(raw[offset:offset + count].tobytes(), np.uint8)

    if dtype == "f32":
        values = take(4 * n).view("<f4")
    elif dtype == "f16":
        values = take(2 * n).view("<f2").astype(np.float32)
    elif dtype == "bf16":
        values = (take(2 * n).view("<u2").astype(np.uint32) << 16).view(np.float32)
    elif dtype == "q8_0":  # Per 32 values: f16 scale, 32 int8 codes.
        blocks = take(n // 32 * 34).reshape(-1, 34)
        scale = blocks[:, :2].copy().view("<f2").astype(np.float32)
        values = blocks[:, 2:].view(np.int8).astype(np.float32) * scale
    elif dtype == "q4_0":  # f16 scale, 16 bytes: low nibbles then high, - 8.
        blocks = take(n // 32 * 18).reshape(-1, 18)
        scale = blocks[:, :2].copy().view("<f2").astype(np.float32)
        packed = blocks[:, 2:]
        codes = np.concatenate([packed & 15, packed >> 4], axis=1)
        values = (codes.astype(np.float32) - 8.0) * scale
    else:
        sys.exit(f"error: dtype {dtype} is not decoded here")
    return values.astype(np.float32).reshape(shape)


def write_safetensors(path, tensors):
    header, offset, blobs = {}, 0, []
    for name in sorted(tensors):
        blob = np.ascontiguousarray(tensors[name], dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape),
                        "data_offsets": [offset, offset + len(blob)]}
        offset += len(blob)
        blobs.append(blob)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("fmc_import")
    parser.add_argument("model")
    parser.add_argument("--ref", required=True)
    parser.add_argument("--prompt-ids", required=True)
    parser.add_argument("--tolerance", type=float, default=1e-4)
    parser.add_argument("--work")
    args = parser.parse_args()

    work = args.work or tempfile.mkdtemp(prefix="gguf_reference.")
    os.makedirs(work, exist_ok=True)
    config_path = os.path.join(work, "config.json")
    module = subprocess.run(
        [args.fmc_import, args.model, "-o", "-", "--config-out", config_path],
        capture_output=True, text=True)
    if module.returncode:
        sys.exit(module.stderr.strip())
    with open(config_path) as f:
        config = json.load(f)
    raw = np.memmap(args.model, dtype=np.uint8, mode="r")
    folded = config.get("fmc_norm_offset_folded", False)
    tensors = {}
    for match in PARAM.finditer(module.stdout):
        name, shape, offset, dtype = match.groups()
        values = decode(raw, int(offset), [int(d) for d in shape.split("x")], dtype)
        if folded and name.endswith("norm.weight"):
            values = values - np.float32(1.0)
        tensors[name] = values
    if not tensors:
        sys.exit("error: the module references no parameters")
    write_safetensors(os.path.join(work, "model.safetensors"), tensors)

    tokens = [int(t) for t in args.prompt_ids.split(",")]
    got = hf_forward.forward(work, tokens).astype(np.float64)
    want = np.fromfile(args.ref, dtype="<f4").astype(np.float64)
    if want.size != got.size:
        sys.exit(f"error: {args.ref} holds {want.size} floats, the forward "
                 f"{got.shape[0]} x {got.shape[1]}")
    want = want.reshape(got.shape)
    diff = np.abs(got - want)
    agree = int((got.argmax(axis=1) == want.argmax(axis=1)).sum())
    print(f"{len(tensors)} parameters, {got.shape[0]} positions: max |a - b| = "
          f"{diff.max():.3e} (tolerance {args.tolerance:g}), argmax agrees at "
          f"{agree} of {got.shape[0]}")
    if not diff.max() <= args.tolerance:
        print("error: logits differ from the reference")
        return 1
    print("logits match the reference")
    return 0


if __name__ == "__main__":
    sys.exit(main())
