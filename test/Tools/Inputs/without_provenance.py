#!/usr/bin/env python3
"""Writes a copy of an .fmc artifact without the fields fmc-compile records
about how it was made (compile_command, compile_options, source_files), as
fmc-compile wrote artifacts before it recorded them: for fmc-inspect's
"not recorded" test. A flatc JSON round trip (fmc_json.py), resealed.

  without_provenance.py IN OUT --flatc FLATC --schema fmc.fbs
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
    args = parser.parse_args()

    def strip(artifact):
        for field in ("compile_command", "compile_options", "source_files"):
            artifact.pop(field, None)

    edit_header(args.input, args.output, args.flatc, args.schema, strip)


if __name__ == "__main__":
    main()
