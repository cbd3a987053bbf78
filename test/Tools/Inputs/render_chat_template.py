"""Renders a conversation with a real Jinja chat template, as Hugging Face
transformers' apply_chat_template does (a sandboxed jinja2 environment with
trim_blocks and lstrip_blocks, bos_token and eos_token, the generation
prompt), for comparison with fmc's renderer (fmc-tokenize --chat).

  render_chat_template.py VOCAB.gguf CONVERSATION.json [TEMPLATE.jinja]

BOS and EOS text come from the GGUF vocabulary; the template is its
tokenizer.chat_template unless TEMPLATE.jinja is given. The rendered text is
written to standard output as it is (no newline added).
"""
import json
import struct
import sys

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment


def gguf_metadata(path):
    data = open(path, "rb").read()
    if data[:4] != b"GGUF":
        sys.exit(path + " is not a GGUF file")
    at = 8
    sizes = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
    formats = {4: "<I", 5: "<i", 10: "<Q", 11: "<q"}

    def u32():
        nonlocal at
        at += 4
        return struct.unpack_from("<I", data, at - 4)[0]

    def u64():
        nonlocal at
        at += 8
        return struct.unpack_from("<Q", data, at - 8)[0]

    def string():
        nonlocal at
        n = u64()
        at += n
        return data[at - n:at].decode("utf-8")

    def value(kind):
        nonlocal at
        if kind == 8:
            return string()
        if kind == 9:
            element, n = u32(), u64()
            if element == 8:
                return [string() for _ in range(n)]
            at += sizes[element] * n
            return None
        v = struct.unpack_from(formats[kind], data, at)[0] if kind in formats else None
        at += sizes[kind]
        return v

    at += 8  # tensor count
    count = u64()
    meta = {}
    for _ in range(count):
        key = string()
        meta[key] = value(u32())
    return meta


def main():
    meta = gguf_metadata(sys.argv[1])
    messages = json.load(open(sys.argv[2], encoding="utf-8"))
    if len(sys.argv) > 3:
        source = open(sys.argv[3], encoding="utf-8").read()
    else:
        source = meta["tokenizer.chat_template"]
    tokens = meta["tokenizer.ggml.tokens"]

    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    env.globals["raise_exception"] = raise_exception
    text = env.from_string(source).render(
        messages=messages,
        bos_token=tokens[meta["tokenizer.ggml.bos_token_id"]],
        eos_token=tokens[meta["tokenizer.ggml.eos_token_id"]],
        add_generation_prompt=True,
    )
    sys.stdout.buffer.write(text.encode("utf-8"))


main()
