"""Runs fmc-run under JSON schemas at temperature 1 for many seeds and checks
every output with Python's jsonschema (an independent validator).

usage: guided_generation.py MODEL.fmc SEEDS SCHEMA.json... [-- fmc-run args]
Prints one line per schema, "NAME: N of N valid", and exits 1 on the first
output that is not JSON or does not validate, showing it.
"""
import json
import os
import subprocess
import sys

import jsonschema


def main():
    args = sys.argv[1:]
    extra = []
    if "--" in args:
        extra = args[args.index("--") + 1:]
        args = args[:args.index("--")]
    model, seeds, schemas = args[0], int(args[1]), args[2:]
    for path in schemas:
        with open(path) as f:
            schema = json.load(f)
        valid = 0
        for seed in range(1, seeds + 1):
            run = subprocess.run(
                ["fmc-run", model, "--json-schema", path, "--temperature", "1",
                 "--seed", str(seed), "-n", "500"] + extra,
                capture_output=True, text=True)
            if run.returncode != 0:
                print(f"{path} seed {seed}: fmc-run failed: {run.stderr}")
                return 1
            text = run.stdout
            try:
                jsonschema.validate(json.loads(text), schema)
            except (ValueError, jsonschema.ValidationError) as e:
                print(f"{path} seed {seed}: invalid output {text!r}: {e}")
                return 1
            valid += 1
        print(f"{os.path.basename(path)}: {valid} of {seeds} valid")
    return 0


if __name__ == "__main__":
    sys.exit(main())
