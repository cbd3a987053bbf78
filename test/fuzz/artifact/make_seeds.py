#!/usr/bin/python3
"""Writes the artifact fuzzer's seeds: a tiny Llama (2 layers, hidden 16,
vocabulary 16, context 16; about 20 KB) compiled by fmc-compile in a few
variants that reach different kernels (f32 and int8 caches, local/global
attention with a ring cache, a last-row prefill).

Usage: make_seeds.py FMC_COMPILE OUT_DIR
"""
import json
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np

HIDDEN, INTER, LAYERS, HEADS, KV_HEADS, VOCAB = 16, 24, 2, 2, 1, 16
HEAD_DIM = HIDDEN // HEADS


def tensors():
    shapes = {"model.embed_tokens.weight": (VOCAB, HIDDEN),
              "model.norm.weight": (HIDDEN,),
              "lm_head.weight": (VOCAB, HIDDEN)}
    for i in range(LAYERS):
        p = f"model.layers.{i}"
        shapes.update({
            f"{p}.input_layernorm.weight": (HIDDEN,),
            f"{p}.post_attention_layernorm.weight": (HIDDEN,),
            f"{p}.self_attn.q_proj.weight": (HEADS * HEAD_DIM, HIDDEN),
            f"{p}.self_attn.k_proj.weight": (KV_HEADS * HEAD_DIM, HIDDEN),
            f"{p}.self_attn.v_proj.weight": (KV_HEADS * HEAD_DIM, HIDDEN),
            f"{p}.self_attn.o_proj.weight": (HIDDEN, HEADS * HEAD_DIM),
            f"{p}.mlp.gate_proj.weight": (INTER, HIDDEN),
            f"{p}.mlp.up_proj.weight": (INTER, HIDDEN),
            f"{p}.mlp.down_proj.weight": (HIDDEN, INTER)})
    return shapes


def write_model(directory):
    rng = np.random.default_rng(14)
    header, blobs, offset = {}, [], 0
    for name, shape in sorted(tensors().items()):
        data = (rng.standard_normal(shape) * 0.2).astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    with open(os.path.join(directory, "model.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))
    config = {"model_type": "llama", "hidden_size": HIDDEN,
              "intermediate_size": INTER, "num_hidden_layers": LAYERS,
              "num_attention_heads": HEADS, "num_key_value_heads": KV_HEADS,
              "vocab_size": VOCAB, "max_position_embeddings": 16,
              "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
              "hidden_act": "silu", "tie_word_embeddings": False,
              "bos_token_id": 1, "eos_token_id": 2}
    with open(os.path.join(directory, "config.json"), "w") as f:
        json.dump(config, f)


VARIANTS = {
    "f32.fmc": [],
    "int8-cache.fmc": ["--kv-cache-type=i8"],
    "local-ring.fmc": ["--attention-pattern=LG", "--window=4"],
}


def main():
    compiler, out = sys.argv[1:3]
    os.makedirs(out, exist_ok=True)
    with tempfile.TemporaryDirectory() as model:
        write_model(model)
        for name, flags in VARIANTS.items():
            subprocess.run([compiler, model, "--context", "16",
                            "--prefill-tokens", "4", *flags,
                            "-o", os.path.join(out, name)],
                           check=True, stdout=subprocess.DEVNULL)


if __name__ == "__main__":
    main()
