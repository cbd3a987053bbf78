"""Copies a GGUF file with tokenizer.ggml.pre's value replaced by another of
the same length (so no offset moves), for fmc-tokenize's error tests.

  gguf_set_pre.py IN OUT NEW_NAME
"""
import struct
import sys

src, dst, name = sys.argv[1], sys.argv[2], sys.argv[3].encode()
data = bytearray(open(src, "rb").read())
key = b"tokenizer.ggml.pre"
at = data.find(struct.pack("<Q", len(key)) + key)
if at < 0:
    sys.exit("no tokenizer.ggml.pre in " + src)
at += 8 + len(key)
kind, = struct.unpack_from("<I", data, at)
length, = struct.unpack_from("<Q", data, at + 4)
if kind != 8 or length != len(name):
    sys.exit("tokenizer.ggml.pre is not a string of %d bytes" % len(name))
data[at + 12:at + 12 + length] = name
open(dst, "wb").write(data)
