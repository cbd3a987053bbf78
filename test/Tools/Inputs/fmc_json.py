"""Edits the FlatBuffer header of an .fmc artifact through flatc's JSON form,
for tests that need an artifact the compiler would not write (stand-in GPU
executables, damaged fields). The weight segment is kept byte for byte; the
edited header must still fit before it."""

import json
import os
import subprocess
import sys
import tempfile


def to_json(input_path, tmp, flatc, schema):
    """The header of input_path as a dict (flatc's JSON, written in tmp)."""
    subprocess.run([flatc, "--json", "--raw-binary", "--size-prefixed",
                    "--strict-json", "-o", tmp, schema, "--", input_path],
                   check=True)
    name = os.path.splitext(os.path.basename(input_path))[0]
    return json.load(open(os.path.join(tmp, name + ".json")))


def read_header(input_path, flatc, schema):
    """The header of an .fmc artifact as a dict."""
    with tempfile.TemporaryDirectory() as tmp:
        return to_json(input_path, tmp, flatc, schema)


def edit_header(input_path, output_path, flatc, schema, edit):
    """Calls edit(artifact) on the header as a dict, then writes output_path."""
    original = open(input_path, "rb").read()
    with tempfile.TemporaryDirectory() as tmp:
        artifact = to_json(input_path, tmp, flatc, schema)
        edit(artifact)
        edited = os.path.join(tmp, "edited.json")
        json.dump(artifact, open(edited, "w"))
        subprocess.run([flatc, "-b", "--size-prefixed", "-o", tmp, schema,
                        edited], check=True)
        header = open(os.path.join(tmp, "edited.fmc"), "rb").read()
    segment = artifact["weights_offset"]
    if len(header) > segment:
        sys.exit(f"the new header ({len(header)} bytes) does not fit before "
                 f"the weight segment at {segment}")
    with open(output_path, "wb") as f:
        f.write(header + b"\0" * (segment - len(header)) + original[segment:])
