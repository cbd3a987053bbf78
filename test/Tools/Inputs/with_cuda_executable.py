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
import json
import os
import subprocess
import sys
import tempfile


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

    original = open(args.input, "rb").read()
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([args.flatc, "--json", "--raw-binary", "--size-prefixed",
                        "--strict-json", "-o", tmp, args.schema, "--",
                        args.input], check=True)
        name = os.path.splitext(os.path.basename(args.input))[0]
        artifact = json.load(open(os.path.join(tmp, name + ".json")))
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
            "target": "cuda", "format": "ptx",
            "data": list(open(args.ptx, "rb").read()),
            "entry_points": [{"name": "fill",
                              "workgroup_size": [args.workgroup, 1, 1],
                              "bindings": args.entry_bindings}],
            "prefill": dispatches(), "decode": dispatches()}
        if args.cuda_only:
            artifact["executables"] = []
        artifact["executables"].append(executable)
        edited = os.path.join(tmp, "edited.json")
        json.dump(artifact, open(edited, "w"))
        subprocess.run([args.flatc, "-b", "--size-prefixed", "-o", tmp,
                        args.schema, edited], check=True)
        header = open(os.path.join(tmp, "edited.fmc"), "rb").read()
    segment = artifact["weights_offset"]
    if len(header) > segment:
        sys.exit(f"the new header ({len(header)} bytes) does not fit before "
                 f"the weight segment at {segment}")
    with open(args.output, "wb") as f:
        f.write(header + b"\0" * (segment - len(header)) + original[segment:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
