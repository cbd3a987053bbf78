#!/usr/bin/python3
"""Writes stories260K with weights moved onto quantization grids, so that
packing them is lossless and the packed model's exact logits are the f32
model's: every q/k/v/o/gate/up/down matrix onto the 2-bit balanced grid with
f16 scales per 64 elements, the (tied) embedding onto the 4-bit balanced
grid with bf16 scales per 32.

    snap_to_grid.py MODEL.mlir SHARED OUT   # writes OUT/grid.bin, OUT/grid.mlir
"""
import re
import sys

import numpy as np


def bf16(x):
    u = x.astype(np.float32).view(np.uint32)
    u = (u + 0x7FFF + ((u >> 16) & 1)) & 0xFFFF0000
    return u.view(np.float32)


def snap(w, bits, group, scale_type):
    """w on the balanced grid s * (q - o), one scale per group of a row."""
    o = ((1 << bits) - 1) / 2.0
    w = w.copy()
    for g0 in range(0, w.shape[1], group):
        block = w[:, g0:g0 + group]
        s = np.abs(block).max(1, keepdims=True) / o
        s = s.astype(np.float16).astype(np.float32) if scale_type == "f16" else bf16(s)
        s[s == 0] = 1.0
        q = np.clip(np.round(block / s + o), 0, 2 * o)
        w[:, g0:g0 + group] = s * (q - o)
    return w


def main():
    model, shared, out = sys.argv[1:4]
    text = open(model).read()
    source = "../../../shared/models/stories260K/stories260K.bin"
    data = np.fromfile(f"{shared}/models/stories260K/stories260K.bin", dtype=np.uint8).copy()
    param = r'fm.param @"([^"]+)" : tensor<(\d+)x(\d+)xf32> from #fm.external<"[^"]+", offset = (\d+)'
    for m in re.finditer(param, text):
        name, rows, k, offset = m.group(1), int(m.group(2)), int(m.group(3)), int(m.group(4))
        if "proj" in name:
            bits, group, scale_type = 2, 64, "f16"
        elif name == "model.embed_tokens.weight":
            bits, group, scale_type = 4, 32, "bf16"
        else:
            continue
        end = offset + 4 * rows * k
        w = data[offset:end].view(np.float32).reshape(rows, k)
        data[offset:end] = np.frombuffer(snap(w, bits, group, scale_type).tobytes(), np.uint8)
    data.tofile(f"{out}/grid.bin")
    text = text.replace(f'"{source}"', f'"{out}/grid.bin"')
    text = text.replace('"../../../shared/', f'"{shared}/')
    open(f"{out}/grid.mlir", "w").write(text)


if __name__ == "__main__":
    main()
