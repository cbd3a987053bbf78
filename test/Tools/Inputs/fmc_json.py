"""Edits the FlatBuffer header of an .fmc artifact through flatc's JSON form,
for tests that need an artifact the compiler would not write (stand-in GPU
executables, damaged fields). The weight segment is kept byte for byte; a
header that outgrows the padding before it moves it to the next page."""

import json
import os
import subprocess
import tempfile

from fmc_seal import seal


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


def _serialize(artifact, flatc, schema, tmp):
    edited = os.path.join(tmp, "edited.json")
    json.dump(artifact, open(edited, "w"))
    subprocess.run([flatc, "-b", "--size-prefixed", "-o", tmp, schema,
                    edited], check=True)
    return open(os.path.join(tmp, "edited.fmc"), "rb").read()


def edit_header(input_path, output_path, flatc, schema, edit):
    """Calls edit(artifact) on the header as a dict, then writes output_path.
    A header that outgrows the padding before the weight segment moves the
    segment to the next page boundary (its bytes are kept)."""
    original = open(input_path, "rb").read()
    with tempfile.TemporaryDirectory() as tmp:
        artifact = to_json(input_path, tmp, flatc, schema)
        segment = artifact["weights_offset"]
        edit(artifact)
        header = _serialize(artifact, flatc, schema, tmp)
        if len(header) > artifact["weights_offset"]:
            page = 4096
            artifact["weights_offset"] = (len(header) + page - 1) // page * page
            header = _serialize(artifact, flatc, schema, tmp)
    moved = artifact["weights_offset"]
    with open(output_path, "wb") as f:
        f.write(bytes(seal(bytearray(header))) + b"\0" * (moved - len(header))
                + original[segment:])
