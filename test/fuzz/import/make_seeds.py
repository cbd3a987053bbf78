#!/usr/bin/env python3
"""Writes seed corpora for the reader fuzzers (see CMakeLists.txt).

Usage: make_seeds.py SHARED_DIR OUT_DIR

Seeds are the parsed part of the stories260K files (headers and metadata,
not tensor data) in the fuzzers' input format: the file's leading bytes, then
a little-endian u32 of how many more bytes the file has (FuzzInput.h); plus
a few small synthetic inputs for paths the model files do not reach.
"""
import os
import struct
import sys


def seed(out, harness, name, data):
    folder = os.path.join(out, harness)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def prefix_seed(data, keep):
    return data[:keep] + struct.pack("<I", len(data) - keep)


def gguf_data_start(data):
    """Offset of the tensor data of a GGUF file (alignment 32)."""
    pos = 24
    n_tensors, n_kv = struct.unpack_from("<QQ", data, 8)
    sizes = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}

    def skip_value(t, pos):
        if t == 8:
            (n,) = struct.unpack_from("<Q", data, pos)
            return pos + 8 + n
        if t == 9:
            et, n = struct.unpack_from("<IQ", data, pos)
            pos += 12
            for _ in range(n):
                pos = skip_value(et, pos)
            return pos
        return pos + sizes[t]

    for _ in range(n_kv):
        pos = skip_value(8, pos)
        (t,) = struct.unpack_from("<I", data, pos)
        pos = skip_value(t, pos + 4)
    for _ in range(n_tensors):
        pos = skip_value(8, pos)
        (n_dims,) = struct.unpack_from("<I", data, pos)
        pos += 4 + 8 * n_dims + 4 + 8
    return (pos + 31) // 32 * 32


def gguf_string(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def gguf_kv_string(key, value):
    return gguf_string(key) + struct.pack("<I", 8) + gguf_string(value)


def main():
    shared, out = sys.argv[1], sys.argv[2]
    models = os.path.join(shared, "models", "stories260K")
    read = lambda name: open(os.path.join(models, name), "rb").read()

    st = read("hf/model.safetensors")
    (header,) = struct.unpack_from("<Q", st)
    seed(out, "safetensors", "stories260K", prefix_seed(st, 8 + header))
    small = b'{"__metadata__":{"format":"pt"},"a":{"dtype":"BF16","shape":[2,3],"data_offsets":[0,12]},"b":{"dtype":"F16","shape":[],"data_offsets":[12,14]}}'
    seed(out, "safetensors", "small", struct.pack("<Q", len(small)) + small + struct.pack("<I", 14))

    for name in ["stories260K.gguf", "stories260K-Q8_0.gguf", "stories260K-Q4_0.gguf"]:
        data = read(name)
        seed(out, "gguf", name, prefix_seed(data, gguf_data_start(data)))
    kvs = [
        gguf_kv_string("general.architecture", "llama"),
        gguf_kv_string("tokenizer.ggml.model", "gpt2"),
        gguf_string("tokenizer.ggml.tokens") + struct.pack("<IIQ", 9, 8, 3)
        + gguf_string("a") + gguf_string("b") + gguf_string("ab"),
        gguf_string("tokenizer.ggml.merges") + struct.pack("<IIQ", 9, 8, 1) + gguf_string("a b"),
        gguf_string("general.alignment") + struct.pack("<II", 4, 64),
        gguf_string("tokenizer.ggml.add_bos_token") + struct.pack("<IB", 7, 1),
    ]
    gpt2 = b"GGUF" + struct.pack("<IQQ", 3, 0, len(kvs)) + b"".join(kvs)
    seed(out, "gguf", "gpt2-tokenizer", gpt2 + struct.pack("<I", 0))

    seed(out, "llama2c", "stories260K.bin", prefix_seed(read("stories260K.bin"), 28))
    seed(out, "llama2c", "tok512.bin", read("tok512.bin"))
    untied = struct.pack("<7i", 4, 8, 1, 2, 1, -3, 2)
    seed(out, "llama2c", "untied", untied + struct.pack("<I", 184 * 4))

    byte_level = b'''{"added_tokens":[{"id":5,"content":"<|end|>","special":true}],
"pre_tokenizer":{"type":"Sequence","pretokenizers":[{"type":"ByteLevel"}]},
"post_processor":{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<|begin|>"}}]},
"model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2,"\\u0120":3,"<|begin|>":4},
"merges":["a b",["\\u0120","ab"]]}}'''
    config = b'{"bos_token":"<|begin|>","eos_token":{"content":"<|end|>"},"add_bos_token":true}'
    seed(out, "tokenizer-json", "byte-level", byte_level + b"\0" + config)
    spm = '''{"decoder":{"type":"Sequence","decoders":[{"type":"ByteFallback"}]},
"model":{"type":"BPE","byte_fallback":true,"unk_token":"<unk>",
"vocab":{"<unk>":0,"<s>":1,"<0x0A>":2,"\u2581":3,"a":4,"\u2581a":5},"merges":["\u2581 a"]}}'''.encode()
    seed(out, "tokenizer-json", "sentencepiece", spm)


if __name__ == "__main__":
    main()
