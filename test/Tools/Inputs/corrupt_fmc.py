#!/usr/bin/env python3
"""Writes a damaged copy of an .fmc artifact, for fmc-run's error tests.

Reads just enough of the FlatBuffers layout (size prefix, root table,
vtables, vectors) to patch one field in place; the artifact writer stores
every scalar field explicitly, so each field exists to be patched.

  corrupt_fmc.py IN OUT [--identifier XXXX] [--truncate N] [--format-version V]
                        [--tensor-offset I:V] [--buffer-offset PROGRAM:I:V]
                        [--kernel-input PROGRAM:K:V] [--flip-byte N]
                        [--spec-field PROGRAM:TYPE:VT:SIZE:V]
                        [--tensor-bytes NAME:V] [--unsealed]
                        [--flip-weight-byte N] (N into the weight segment)
                        [--weights-bytes V]

--spec-field patches the first kernel of PROGRAM whose spec has union type
TYPE: its spec table's field at vtable offset VT, SIZE (4 or 8) bytes.
                        [--cache-field I:FIELD:V ...] (FIELD: a KVCache
                        long/ulong field: capacity, bytes, scale_bytes)

Field patches are sealed (the header checksum recomputed, fmc_seal.py), as a
crafted file would be, unless --unsealed; --flip-byte and --truncate model
accidents and are never sealed.
"""

import argparse
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fmc_seal import seal  # noqa: E402

# vtable offsets from runtime/schema/fmc.fbs (4 + 2 * field index).
ARTIFACT = {"format_version": 4, "tensors": 12, "kv_caches": 14,
            "prefill": 16, "decode": 18, "weights_offset": 22,
            "weights_bytes": 24}
KV_CACHE = {"capacity": 8, "bytes": 16, "scale_bytes": 18}
TENSOR = {"name": 4, "offset": 10, "bytes": 12}
PROGRAM = {"buffers": 10, "kernels": 12}
BUFFER = {"offset": 10}
KERNEL = {"spec_type": 4, "spec": 6, "inputs": 8}
PREFIX = 4  # size prefix before the FlatBuffer


def u32(data, at):
    return struct.unpack_from("<I", data, at)[0]


def field(data, table, vt_offset):
    vtable = table - struct.unpack_from("<i", data, table)[0]
    if vt_offset >= struct.unpack_from("<H", data, vtable)[0]:
        sys.exit(f"field {vt_offset} absent")
    at = struct.unpack_from("<H", data, vtable + vt_offset)[0]
    if at == 0:
        sys.exit(f"field {vt_offset} absent")
    return table + at


def deref(data, at):
    return at + u32(data, at)


def element(data, vector_field, index):
    vector = deref(data, vector_field)
    if index >= u32(data, vector):
        sys.exit(f"index {index} beyond the vector's {u32(data, vector)} elements")
    slot = vector + 4 + 4 * index
    return deref(data, slot), vector + 4 + 4 * index


def root(data):
    return PREFIX + u32(data, PREFIX)


def program(data, name):
    return deref(data, field(data, root(data), ARTIFACT[name]))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("input")
    parser.add_argument("output")
    parser.add_argument("--identifier")
    parser.add_argument("--truncate", type=int)
    parser.add_argument("--format-version", type=int)
    parser.add_argument("--tensor-offset")
    parser.add_argument("--buffer-offset")
    parser.add_argument("--kernel-input")
    parser.add_argument("--flip-byte", type=int)
    parser.add_argument("--spec-field")
    parser.add_argument("--cache-field", action="append", default=[])
    parser.add_argument("--tensor-bytes")
    parser.add_argument("--unsealed", action="store_true")
    parser.add_argument("--flip-weight-byte", type=int)
    parser.add_argument("--weights-bytes", type=int)
    args = parser.parse_args()
    data = bytearray(open(args.input, "rb").read())

    if args.identifier:
        data[8:12] = args.identifier.encode()[:4].ljust(4, b"\0")
    if args.format_version is not None:
        struct.pack_into("<I", data, field(data, root(data), ARTIFACT["format_version"]),
                         args.format_version)
    if args.tensor_offset:
        index, value = (int(v) for v in args.tensor_offset.split(":"))
        tensor, _ = element(data, field(data, root(data), ARTIFACT["tensors"]), index)
        struct.pack_into("<Q", data, field(data, tensor, TENSOR["offset"]), value)
    if args.buffer_offset:
        name, index, value = args.buffer_offset.split(":")
        prog = program(data, name)
        buffer, _ = element(data, field(data, prog, PROGRAM["buffers"]), int(index))
        struct.pack_into("<Q", data, field(data, buffer, BUFFER["offset"]), int(value))
    if args.kernel_input:
        name, index, value = args.kernel_input.split(":")
        prog = program(data, name)
        kernel, _ = element(data, field(data, prog, PROGRAM["kernels"]), int(index))
        inputs = deref(data, field(data, kernel, KERNEL["inputs"]))
        struct.pack_into("<I", data, inputs + 4, int(value))
    if args.spec_field:
        name, kind, vt, size, value = args.spec_field.split(":")
        prog = program(data, name)
        kernels = field(data, prog, PROGRAM["kernels"])
        for index in range(u32(data, deref(data, kernels))):
            kernel, _ = element(data, kernels, index)
            if data[field(data, kernel, KERNEL["spec_type"])] == int(kind):
                spec = deref(data, field(data, kernel, KERNEL["spec"]))
                struct.pack_into("<q" if size == "8" else "<i", data,
                                 field(data, spec, int(vt)), int(value))
                break
        else:
            sys.exit(f"no kernel of spec type {kind} in program {name}")
    for patch in args.cache_field:
        index, name, value = patch.split(":")
        cache, _ = element(data, field(data, root(data), ARTIFACT["kv_caches"]), int(index))
        struct.pack_into("<Q", data, field(data, cache, KV_CACHE[name]), int(value))
    if args.tensor_bytes:
        name, value = args.tensor_bytes.rsplit(":", 1)
        tensors = field(data, root(data), ARTIFACT["tensors"])
        for index in range(u32(data, deref(data, tensors))):
            tensor, _ = element(data, tensors, index)
            at = deref(data, field(data, tensor, TENSOR["name"]))
            if data[at + 4:at + 4 + u32(data, at)].decode() == name:
                struct.pack_into("<Q", data, field(data, tensor, TENSOR["bytes"]), int(value))
                break
        else:
            sys.exit(f"no tensor named {name}")
    if args.weights_bytes is not None:
        struct.pack_into("<Q", data, field(data, root(data), ARTIFACT["weights_bytes"]),
                         args.weights_bytes)
    if not args.unsealed and not args.identifier:
        seal(data)
    if args.flip_byte is not None:
        data[args.flip_byte] ^= 0xFF
    if args.flip_weight_byte is not None:
        offset = struct.unpack_from("<Q", data, field(data, root(data), ARTIFACT["weights_offset"]))[0]
        data[offset + args.flip_weight_byte] ^= 0x01
    if args.truncate is not None:
        data = data[:args.truncate]
    open(args.output, "wb").write(data)


if __name__ == "__main__":
    main()
