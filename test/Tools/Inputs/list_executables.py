#!/usr/bin/env python3
"""Prints one line per executable of an .fmc artifact, for FileCheck:

  <target> <format> arch=<arch> programmatic_dependent_launch=<true|false>

  list_executables.py ARTIFACT --flatc FLATC --schema FBS
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fmc_json import read_header  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("artifact")
    parser.add_argument("--flatc", required=True)
    parser.add_argument("--schema", required=True)
    args = parser.parse_args()
    for exe in read_header(args.artifact, args.flatc, args.schema).get(
            "executables", []):
        # flatc leaves out fields at their default.
        pdl = exe.get("programmatic_dependent_launch", False)
        print(f"{exe.get('target', '')} {exe.get('format', '')} "
              f"arch={exe.get('arch', '')} "
              f"programmatic_dependent_launch={str(pdl).lower()}")


if __name__ == "__main__":
    main()
