#!/usr/bin/env python3
"""Writes a copy of an .fmc artifact with a "cuda" executable added, for the
cuda backend's tests on machines where fmc-compile has no cuda target or
no GPU exists: the artifact goes through flatc to JSON, gains an executable
of one PTX kernel (Inputs/cuda-fill.ptx: fill(out, run), 64 threads) with
one dispatch per program, and comes back as a binary in front of the
original weight segment.

  with_cuda_executable.py IN OUT --flatc FLATC --schema FBS --ptx PTX
                          [--cuda-only] [--entry-bindings N]
                          [--binding-offset N] [--workgroup N]

--entry-bindings, --binding-offset and --workgroup damage the executable
(the PTX takes 2 pointers and at most 64 threads; the first binding is the
decode logits, 256 bytes at their arena offset unless --binding-offset).
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fmc_json import edit_header  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("input")
    parser.add_argument("output")
    parser.add_argument("--flatc", required=True)
    parser.add_argument("--schema", required=True)
    parser.add_argument("--ptx", required=True)
    parser.add_argument("--cuda-only", action="store_true")
    parser.add_argument("--entry-bindings", type=int, default=2)
    parser.add_argument("--binding-offset", type=int)
    parser.add_argument("--workgroup", type=int, default=64)
    args = parser.parse_args()

    ptx = list(open(args.ptx, "rb").read())

    def add_executable(artifact):
        decode = artifact["decode"]
        offset = decode["buffers"][decode.get("logits", 0)].get("offset", 0)
        if args.binding_offset is not None:
            offset = args.binding_offset
        bindings = [{"offset": offset, "bytes": 256, "index": 0,
                     "memory": "Arena"},
                    {"offset": 0, "bytes": 16, "index": 0, "memory": "Run"}]
        bindings += [{"offset": 0, "bytes": 16, "index": 0, "memory": "Run"}
                     ] * (args.entry_bindings - 2)

        def dispatches():
            return {"dispatches": [{"entry": 0, "grid": [1, 1, 1],
                                    "bindings": bindings, "kernel": 0}],
                    "scratch_bytes": 0}
        executable = {
            "target": "cuda", "format": "ptx", "data": ptx,
            "entry_points": [{"name": "fill",
                              "workgroup_size": [args.workgroup, 1, 1],
                              "bindings": args.entry_bindings}],
            "prefill": dispatches(), "decode": dispatches()}
        if args.cuda_only:
            artifact["executables"] = []
        artifact["executables"].append(executable)

    edit_header(args.input, args.output, args.flatc, args.schema,
                add_executable)
    return 0


if __name__ == "__main__":
    sys.exit(main())
