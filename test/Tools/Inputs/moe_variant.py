#!/usr/bin/env python3
"""Copy a Hugging Face-style model directory with config.json keys changed.

  moe_variant.py SRC DST key=json_value ...

MoE routing variants (top-1, norm_topk_prob on or off) of the synthetic
models need only a config change: the weights are the same tensors.
"""

import json
import os
import shutil
import sys


def main(src, dst, *changes):
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst)
    path = os.path.join(dst, "config.json")
    with open(path) as f:
        config = json.load(f)
    for change in changes:
        key, value = change.split("=", 1)
        config[key] = json.loads(value)
    with open(path, "w") as f:
        json.dump(config, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
