#!/usr/bin/env python3
"""Writes a copy of an .fmc artifact of stories260K (vocabulary 512) with a
"vulkan" executable added, for fmc-run's vulkan tests before fmc-compile
lowers every kernel family: the artifact goes through flatc to JSON, gains
an executable of two SPIR-V kernels (Inputs/vulkan-next-token.spvasm,
assembled with spirv-as: stash(run, tokens, scratch), next(run, scratch,
logits)) dispatched in that order by each program, and comes back as a
binary in front of the original weight segment.

  with_vulkan_executable.py IN OUT --flatc FLATC --schema FBS --spirv SPV
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fmc_json import edit_header  # noqa: E402

VOCAB = 512


def dispatch_list(program):
    buffers = program["buffers"]
    rows = program["max_tokens"]

    def offset(name):
        return buffers[program.get(name, 0)].get("offset", 0)

    run = {"offset": 0, "bytes": 16, "index": 0, "memory": "Run"}
    tokens = {"offset": offset("tokens"), "bytes": 4 * rows, "index": 0,
              "memory": "Arena"}
    scratch = {"offset": 0, "bytes": 4 * rows, "index": 0,
               "memory": "Scratch"}
    logits = {"offset": offset("logits"), "bytes": 4 * VOCAB * rows,
              "index": 0, "memory": "Arena"}
    return {"dispatches": [
        {"entry": 0, "grid": [1, rows, 1], "bindings": [run, tokens, scratch],
         "kernel": 0},
        {"entry": 1, "grid": [VOCAB // 64, rows, 1],
         "bindings": [run, scratch, logits], "kernel": 0}],
        "scratch_bytes": max(16, 4 * rows)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("input")
    parser.add_argument("output")
    parser.add_argument("--flatc", required=True)
    parser.add_argument("--schema", required=True)
    parser.add_argument("--spirv", required=True)
    args = parser.parse_args()

    spirv = list(open(args.spirv, "rb").read())

    def add_executable(artifact):
        if artifact["config"]["vocab_size"] != VOCAB:
            sys.exit(f"the stand-in kernel needs a vocabulary of {VOCAB}")
        artifact["executables"].append({
            "target": "vulkan", "format": "spirv", "data": spirv,
            "entry_points": [
                {"name": "stash", "workgroup_size": [1, 1, 1], "bindings": 3},
                {"name": "next", "workgroup_size": [64, 1, 1], "bindings": 3}],
            "prefill": dispatch_list(artifact["prefill"]),
            "decode": dispatch_list(artifact["decode"])})

    edit_header(args.input, args.output, args.flatc, args.schema,
                add_executable)

if __name__ == "__main__":
    main()
