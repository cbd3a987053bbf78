#!/usr/bin/env python3
"""Lists the parameter tensors of an .fmc artifact with their bits per weight.

  fmc_tensors.py ARTIFACT [--match REGEX] [--json]

Prints one line per tensor whose name matches: name, dtype number, shape,
bytes (the tensor table's declared size, which the runtime checks against
the packed layout when it loads) and 8 * bytes / elements; then the total
over the matched tensors (--json: a JSON list of {name, dtype, shape,
bytes} instead, for bench/moe.sh). Reads the FlatBuffers layout with corrupt_fmc.py's
helpers; needs no fmc code.
"""

import argparse
import json
import os
import re
import struct
import sys

sys.dont_write_bytecode = True  # no __pycache__ beside the tests
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corrupt_fmc as fb  # noqa: E402

# vtable offsets of Tensor's fields (runtime/schema/fmc.fbs).
NAME, DTYPE, SHAPE, BYTES = 4, 6, 8, 12


def optional(data, table, vt_offset):
    vtable = table - struct.unpack_from("<i", data, table)[0]
    if vt_offset >= struct.unpack_from("<H", data, vtable)[0]:
        return None
    at = struct.unpack_from("<H", data, vtable + vt_offset)[0]
    return table + at if at else None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("artifact")
    parser.add_argument("--match", default="")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    data = open(args.artifact, "rb").read()
    tensors = fb.field(data, fb.root(data), fb.ARTIFACT["tensors"])
    count = fb.u32(data, fb.deref(data, tensors))
    total_bytes = total_elements = 0
    listed = []
    for i in range(count):
        t, _ = fb.element(data, tensors, i)
        name_at = fb.deref(data, fb.field(data, t, NAME))
        name = data[name_at + 4:name_at + 4 + fb.u32(data, name_at)].decode()
        if not re.search(args.match, name):
            continue
        dtype_at = optional(data, t, DTYPE)
        dtype = data[dtype_at] if dtype_at else 0
        shape_at = fb.deref(data, fb.field(data, t, SHAPE))
        shape = [struct.unpack_from("<q", data, shape_at + 4 + 8 * j)[0]
                 for j in range(fb.u32(data, shape_at))]
        nbytes = struct.unpack_from("<Q", data, fb.field(data, t, BYTES))[0]
        elements = 1
        for d in shape:
            elements *= d
        total_bytes += nbytes
        total_elements += elements
        listed.append({"name": name, "dtype": dtype, "shape": shape, "bytes": nbytes})
        if args.json:
            continue
        print(f"{name} dtype {dtype} shape {shape} bytes {nbytes} "
              f"bits/weight {8 * nbytes / elements:.3f}")
    if args.json:
        print(json.dumps(listed))
    elif total_elements:
        print(f"total {total_elements} elements {total_bytes} bytes "
              f"bits/weight {8 * total_bytes / total_elements:.3f}")


if __name__ == "__main__":
    main()
