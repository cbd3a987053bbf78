"""Writes a tiny byte-level BPE Hugging Face directory (tokenizer.json and
tokenizer_config.json) whose pre_tokenizer is chosen by name, for
fmc-tokenize's tests:

  make_hf_tokenizer.py DIR {llama3,gpt2,unknown}

The merges make the split visible: "3 4" ranks first, so GPT-2's split
("12345" is one word) gives 12 34 5 where Llama 3's digit groups ("123",
"45") give 123 45.
"""
import json
import os
import sys

out, style = sys.argv[1], sys.argv[2]


def byte_map():
    printable = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
    chars, n = {}, 0
    for b in range(256):
        if b in printable:
            chars[b] = chr(b)
        else:
            chars[b] = chr(256 + n)
            n += 1
    return chars


chars = byte_map()
vocab = {chars[b]: b for b in range(256)}
merges = [("3", "4"), ("1", "2"), ("12", "3"), ("4", "5")]
for a, b in merges:
    vocab.setdefault(a + b, len(vocab))
special = {"<|begin_of_text|>": len(vocab), "<|eot_id|>": len(vocab) + 1}

llama3_regex = ("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|"
                "\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|"
                "\\s+(?!\\S)|\\s+")
if style == "llama3":
    pre = {"type": "Sequence", "pretokenizers": [
        {"type": "Split", "pattern": {"Regex": llama3_regex},
         "behavior": "Isolated", "invert": False},
        {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
         "use_regex": False}]}
elif style == "gpt2":
    pre = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
           "use_regex": True}
else:
    pre = {"type": "Sequence", "pretokenizers": [
        {"type": "Split", "pattern": {"Regex": "[0-9]+|[a-z]+"},
         "behavior": "Isolated", "invert": False},
        {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
         "use_regex": False}]}

tokenizer = {
    "version": "1.0",
    "added_tokens": [
        {"id": i, "content": t, "single_word": False, "lstrip": False,
         "rstrip": False, "normalized": False, "special": True}
        for t, i in special.items()],
    "normalizer": None,
    "pre_tokenizer": pre,
    "post_processor": None,
    "decoder": {"type": "ByteLevel"},
    "model": {"type": "BPE", "ignore_merges": style == "llama3",
              "vocab": vocab, "merges": [a + " " + b for a, b in merges]},
}
os.makedirs(out, exist_ok=True)
with open(os.path.join(out, "tokenizer.json"), "w") as f:
    json.dump(tokenizer, f, ensure_ascii=False)
with open(os.path.join(out, "tokenizer_config.json"), "w") as f:
    json.dump({"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>",
               "add_bos_token": True}, f)
