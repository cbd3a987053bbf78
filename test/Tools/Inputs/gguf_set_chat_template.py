"""Copies a GGUF file with its tokenizer.chat_template set to the text of a
template file (replaced, or added), so that the chat tests can give a
vocabulary the official template of a family whose vocabulary file carries
none, or a model a template. The tensor infos and data are copied as they
are (data offsets are relative to the aligned data section).

  gguf_set_chat_template.py IN OUT TEMPLATE.jinja
"""
import struct
import sys

src, dst, template = sys.argv[1], sys.argv[2], sys.argv[3]
data = open(src, "rb").read()
if data[:4] != b"GGUF":
    sys.exit(src + " is not a GGUF file")
tensors, count = struct.unpack_from("<QQ", data, 8)
sizes = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}


def skip_string(at):
    n, = struct.unpack_from("<Q", data, at)
    return at + 8 + n


def skip_value(kind, at):
    if kind == 8:
        return skip_string(at)
    if kind == 9:
        element, n = struct.unpack_from("<IQ", data, at)
        at += 12
        if element == 8:
            for _ in range(n):
                at = skip_string(at)
            return at
        return at + sizes[element] * n
    return at + sizes[kind]


key = b"tokenizer.chat_template"
entries = []
alignment = 32
at = 24
for _ in range(count):
    start = at
    n, = struct.unpack_from("<Q", data, at)
    name = data[at + 8:at + 8 + n]
    at = skip_string(at)
    kind, = struct.unpack_from("<I", data, at)
    at = skip_value(kind, at + 4)
    if name == b"general.alignment":
        alignment, = struct.unpack_from("<I", data, at - 4)
    if name != key:
        entries.append(data[start:at])
infos_start = at
for _ in range(tensors):
    at = skip_string(at)
    dims, = struct.unpack_from("<I", data, at)
    at += 4 + 8 * dims + 4 + 8
infos = data[infos_start:at]
data_start = at + (-at % alignment)
text = open(template, "rb").read()
if text.endswith(b"\n"):
    text = text[:-1]  # The newline a file ends with is not the template's.
entries.append(struct.pack("<Q", len(key)) + key + struct.pack("<IQ", 8, len(text)) + text)
out = data[:8] + struct.pack("<QQ", tensors, len(entries)) + b"".join(entries)
out += infos
out += b"\0" * (-len(out) % alignment)
out += data[data_start:]
open(dst, "wb").write(out)
