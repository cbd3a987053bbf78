#!/usr/bin/python3
"""Writes tiny synthetic models, with random weights and fixed seeds, for every
architecture and file format fmc-import reads.

    make_synthetic_models.py OUT            # tiny models (~20 MB in all)
    make_synthetic_models.py OUT --afm-size # the full afm_on_device config,
                                            # as a sparse file (~6 GB apparent)
    make_synthetic_models.py OUT --kv-shapes # models with real KV-cache shapes
                                            # and tiny everything else (~8 MB)
    make_synthetic_models.py OUT --afm-bench # AFM on-device's 56 layers and
                                            # 35:21 KV split at reduced width

Tiny models (hidden 32-64, 2-16 layers, vocab 128) land in OUT as:
  hf/<name>/        Hugging Face directories: config.json + model.safetensors
                    (hf/llama_sharded/ is split into two shards with
                    model.safetensors.index.json; hf/llama/ has a tokenizer.json)
                    hf/afm_on_device_qat/ is afm_on_device as QAT leaves it:
                    F32, every layer linear on the balanced 2-bit grid
  bad/<name>/       Hugging Face directories with exactly one defect each, for
                    the importer's diagnostics tests (see BAD_MODELS)
  adapters/<name>/  PEFT LoRA adapters (adapter_config.json +
                    adapter_model.safetensors, F32): afm_r8 and afm_r4 for
                    hf/afm_on_device, afm_qat_r8 for hf/afm_on_device_qat
  adapters-bad/<name>/
                    afm_r8 with exactly one defect each (see bad_adapters)
  llama.gguf        GGUF v3, arch llama, F32 with Q8_0 FFN weights, an untied
                    output.weight and an embedded SentencePiece vocabulary
  llama2c.bin       a llama2.c checkpoint (tied), with tok128.bin beside it
  gguf/<name>.gguf  one GGUF per llama.cpp architecture (llama, Mixtral,
                    qwen2, qwen2moe, olmoe, gemma2, gemma3, cohere2, llama4),
                    written as convert_hf_to_gguf.py writes them from the same
                    weights as the Hugging Face twin gguf/<name>_hf/

The structure of Apple's models (../shared/AFM-CONFIGS.md) is kept at tiny
size: afm_on_device has 8 layers of which the last 3 reuse layer 4's KV
cache; afm_server has 2 tracks, blocks of depth 4, the LLLG attention pattern
and MoE every other layer (afm_server4: the same with 4 tracks).

The --afm-size directory holds the exact afm_on_device config of
AFM-CONFIGS.md (56 layers, 3,111,368,064 parameters) with BF16 tensors in one
model.safetensors whose data region is never written: the file is sparse, so
it takes no disk space, and its values do not matter for import speed.
Beside it, afm_on_device_full_unshared is the same model with a KV cache in
every layer (num_kv_reuse_layers 0).

Only the Python standard library and numpy (Debian's python3-numpy) are used.
Nothing written here belongs in git.
"""

import argparse
import json
import os
import re
import shutil
import struct
import sys

import numpy as np

# ---------------------------------------------------------------------------
# File formats
# ---------------------------------------------------------------------------

SAFETENSORS_DTYPES = {"F32": 4, "F16": 2, "BF16": 2, "I8": 1}


def to_storage(array, dtype):
    """The bytes of a float32 array stored as `dtype`."""
    array = np.ascontiguousarray(array, dtype=np.float32)
    if dtype == "F32":
        return array.tobytes()
    if dtype == "F16":
        return array.astype(np.float16).tobytes()
    if dtype == "BF16":
        # Round to nearest even on the upper 16 bits of the float32 pattern.
        bits = array.view(np.uint32).astype(np.uint64)
        rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
        return rounded.astype(np.uint16).tobytes()
    if dtype == "I8":
        return np.clip(np.round(array * 100), -127, 127).astype(np.int8).tobytes()
    raise ValueError(dtype)


def safetensors_header(entries):
    """entries: [(name, dtype, shape, nbytes)] -> (header bytes, data size)."""
    header, offset = {}, 0
    for name, dtype, shape, nbytes in entries:
        header[name] = {"dtype": dtype, "shape": list(shape),
                        "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
    header["__metadata__"] = {"format": "pt"}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text, offset


def write_safetensors(path, tensors):
    """tensors: {name: (dtype, float32 array)}; written sorted by name, as
    Hugging Face does, so file order differs from use order."""
    names = sorted(tensors)
    blobs = [to_storage(tensors[n][1], tensors[n][0]) for n in names]
    entries = [(n, tensors[n][0], tensors[n][1].shape, len(b))
               for n, b in zip(names, blobs)]
    header, _ = safetensors_header(entries)
    with open(path, "wb") as f:
        f.write(header)
        for blob in blobs:
            f.write(blob)


def write_random_model(outdir, config, shapes, dtype, scale=0.05, seed=0,
                       transform=None):
    """A Hugging Face directory of random weights for a benchmark, where only
    the shapes matter: norms 1, the rest normal * `scale` (then
    `transform(name, values)` when given), streamed tensor by tensor (sorted
    by name) so a large model needs no more memory than its largest tensor.
    Returns the number of parameters written."""
    names = sorted(shapes)
    size = SAFETENSORS_DTYPES[dtype]
    entries = [(n, dtype, shapes[n], int(np.prod(shapes[n])) * size) for n in names]
    header, _ = safetensors_header(entries)
    os.makedirs(outdir, exist_ok=True)
    rng = np.random.default_rng(seed)
    params = 0
    with open(os.path.join(outdir, "model.safetensors"), "wb") as f:
        f.write(header)
        for name in names:
            shape = shapes[name]
            if name.endswith("norm.weight"):
                values = np.ones(shape, dtype=np.float32)
            else:
                values = rng.standard_normal(shape, dtype=np.float32) * scale
                if transform:
                    values = transform(name, values)
            f.write(to_storage(values, dtype))
            params += values.size
    with open(os.path.join(outdir, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    return params


def write_sparse_safetensors(path, entries):
    """A safetensors file whose data region is a hole: header only, then the
    file is extended to its full size without writing the data."""
    header, size = safetensors_header(entries)
    with open(path, "wb") as f:
        f.write(header)
        f.truncate(len(header) + size)


GGUF_UINT32, GGUF_INT32, GGUF_FLOAT32, GGUF_BOOL, GGUF_STRING, GGUF_ARRAY = (
    4, 5, 6, 7, 8, 9)
GGML_F32, GGML_F16, GGML_Q8_0, GGML_BF16 = 0, 1, 8, 30
GGML_STORAGE = {GGML_F32: "F32", GGML_F16: "F16", GGML_BF16: "BF16"}


def gguf_string(text):
    data = text.encode()
    return struct.pack("<Q", len(data)) + data


def gguf_value(kind, value):
    if kind == GGUF_UINT32:
        return struct.pack("<I", value)
    if kind == GGUF_INT32:
        return struct.pack("<i", value)
    if kind == GGUF_FLOAT32:
        return struct.pack("<f", value)
    if kind == GGUF_STRING:
        return gguf_string(value)
    if kind == GGUF_BOOL:
        return struct.pack("<B", 1 if value else 0)
    raise ValueError(kind)


def quantize_q8_0(array):
    """GGML Q8_0: per 32 values, an f16 scale then 32 int8 codes."""
    blocks = np.ascontiguousarray(array, dtype=np.float32).reshape(-1, 32)
    scale = np.abs(blocks).max(axis=1) / 127.0
    scale[scale == 0] = 1.0
    codes = np.round(blocks / scale[:, None]).astype(np.int8)
    out = bytearray()
    for s, c in zip(scale.astype(np.float16), codes):
        out += s.tobytes() + c.tobytes()
    return bytes(out)


def gguf_header(metadata, tensor_count):
    """The GGUF v3 magic, counts and metadata (tensor infos follow)."""
    out = bytearray(b"GGUF")
    out += struct.pack("<IQQ", 3, tensor_count, len(metadata))
    for key, kind, value in metadata:
        out += gguf_string(key) + struct.pack("<I", kind)
        if kind == GGUF_ARRAY:
            element_kind, values = value
            out += struct.pack("<IQ", element_kind, len(values))
            for v in values:
                out += gguf_value(element_kind, v)
        else:
            out += gguf_value(kind, value)
    return out


def write_gguf(path, metadata, tensors, alignment=32):
    """metadata: [(key, kind, value)] where an array value is
    (element kind, [values]); tensors: [(name, ggml type, float32 array)]."""
    out = gguf_header(metadata, len(tensors))
    blobs, offset = [], 0
    for name, ggml_type, array in tensors:
        data = (quantize_q8_0(array) if ggml_type == GGML_Q8_0
                else to_storage(array, GGML_STORAGE[ggml_type]))
        # GGUF lists dimensions innermost first.
        dims = list(reversed(array.shape))
        out += gguf_string(name) + struct.pack("<I", len(dims))
        out += struct.pack("<%dQ" % len(dims), *dims)
        out += struct.pack("<IQ", ggml_type, offset)
        blobs.append(data)
        offset += len(data) + (-len(data) % alignment)
    out += b"\0" * (-len(out) % alignment)
    for data in blobs:
        out += data + b"\0" * (-len(data) % alignment)
    with open(path, "wb") as f:
        f.write(out)


# ---------------------------------------------------------------------------
# Tensor lists, by architecture (Hugging Face names)
# ---------------------------------------------------------------------------

def attention_tensors(p, hidden, heads, kv_heads, head_dim, bias=False,
                      o_bias=False, kv=True):
    t = {f"{p}.q_proj.weight": (heads * head_dim, hidden),
         f"{p}.o_proj.weight": (hidden, heads * head_dim)}
    if kv:
        t[f"{p}.k_proj.weight"] = (kv_heads * head_dim, hidden)
        t[f"{p}.v_proj.weight"] = (kv_heads * head_dim, hidden)
    if bias:
        t[f"{p}.q_proj.bias"] = (heads * head_dim,)
        if kv:
            t[f"{p}.k_proj.bias"] = (kv_heads * head_dim,)
            t[f"{p}.v_proj.bias"] = (kv_heads * head_dim,)
    if o_bias:
        t[f"{p}.o_proj.bias"] = (hidden,)
    return t


def mlp_tensors(p, hidden, inter, names=("gate_proj", "up_proj", "down_proj")):
    gate, up, down = names
    return {f"{p}.{gate}.weight": (inter, hidden),
            f"{p}.{up}.weight": (inter, hidden),
            f"{p}.{down}.weight": (hidden, inter)}


def head_dim_of(c):
    return c.get("head_dim", c["hidden_size"] // c["num_attention_heads"])


def ends(c, t):
    t["model.embed_tokens.weight"] = (c["vocab_size"], c["hidden_size"])
    t["model.norm.weight"] = (c["hidden_size"],)
    if not c.get("tie_word_embeddings", False):
        t["lm_head.weight"] = (c["vocab_size"], c["hidden_size"])
    return t


def llama_like(c, bias=False, o_bias=False, extra_norms=(), qk_norm=None,
               ffn=None):
    """Pre-norm decoders: llama, mistral, qwen2, gemma, cohere2, MoE, AFM."""
    h, t = c["hidden_size"], {}
    hd = head_dim_of(c)
    for i in range(c["num_hidden_layers"]):
        p = f"model.layers.{i}"
        t[f"{p}.input_layernorm.weight"] = (h,)
        for norm in ("post_attention_layernorm",) + tuple(extra_norms):
            t[f"{p}.{norm}.weight"] = (h,)
        t.update(attention_tensors(f"{p}.self_attn", h,
                                   c["num_attention_heads"],
                                   c["num_key_value_heads"], hd, bias, o_bias))
        if qk_norm:
            t.update(qk_norm(p, hd))
        if ffn:
            t.update(ffn(i, p))
        else:
            t.update(mlp_tensors(f"{p}.mlp", h, c["intermediate_size"]))
    return ends(c, t)


BASE = {"hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 2,
        "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 128,
        "max_position_embeddings": 256, "rms_norm_eps": 1e-5,
        "rope_theta": 10000.0, "hidden_act": "silu",
        "tie_word_embeddings": False, "bos_token_id": 1, "eos_token_id": 2}


def config(model_type, **overrides):
    c = dict(BASE, model_type=model_type)
    c.update(overrides)
    return c


def llama():
    c = config("llama", num_hidden_layers=3, attention_bias=False)
    return c, llama_like(c)


def mistral():
    c = config("mistral", sliding_window=32)
    return c, llama_like(c)


def qwen2():
    # Tied, q/k/v biases, sliding windows from layer 1 on.
    c = config("qwen2", num_hidden_layers=3, tie_word_embeddings=True,
               use_sliding_window=True, sliding_window=16, max_window_layers=1)
    return c, llama_like(c, bias=True)


GEMMA_NORMS = ("pre_feedforward_layernorm", "post_feedforward_layernorm")


def gemma2():
    c = config("gemma2", num_hidden_layers=4, head_dim=32,
               hidden_activation="gelu_pytorch_tanh",
               query_pre_attn_scalar=24, attn_logit_softcapping=50.0,
               final_logit_softcapping=30.0, sliding_window=16,
               tie_word_embeddings=True)
    del c["hidden_act"]
    return c, llama_like(c, extra_norms=GEMMA_NORMS)


def gemma3_qk_norm(p, hd):
    return {f"{p}.self_attn.q_norm.weight": (hd,),
            f"{p}.self_attn.k_norm.weight": (hd,)}


def gemma3():
    # sliding_window_pattern: 5 local : 1 global.
    c = config("gemma3_text", num_hidden_layers=6, head_dim=16,
               hidden_activation="gelu_pytorch_tanh", query_pre_attn_scalar=16,
               sliding_window=16, sliding_window_pattern=6,
               rope_theta=1000000.0, rope_local_base_freq=10000.0,
               final_logit_softcapping=None, attn_logit_softcapping=None,
               tie_word_embeddings=True)
    del c["hidden_act"]
    return c, llama_like(c, extra_norms=GEMMA_NORMS, qk_norm=gemma3_qk_norm)


def gemma3_layer_types():
    # The same facts spelled with layer_types (newer configs).
    c, t = gemma3()
    c = dict(c, model_type="gemma3", num_hidden_layers=4,
             layer_types=["sliding_attention", "full_attention",
                          "sliding_attention", "full_attention"])
    del c["sliding_window_pattern"]
    return c, llama_like(c, extra_norms=GEMMA_NORMS, qk_norm=gemma3_qk_norm)


def cohere2():
    # 3 local : 1 global; one LayerNorm per (parallel) layer.
    c = config("cohere2", num_hidden_layers=4, layer_norm_eps=1e-5,
               sliding_window=16, sliding_window_pattern=4, logit_scale=0.25,
               tie_word_embeddings=True)
    del c["rms_norm_eps"]
    h, t = c["hidden_size"], {}
    for i in range(c["num_hidden_layers"]):
        p = f"model.layers.{i}"
        t[f"{p}.input_layernorm.weight"] = (h,)
        t.update(attention_tensors(f"{p}.self_attn", h, 4, 2, 16))
        t.update(mlp_tensors(f"{p}.mlp", h, c["intermediate_size"]))
    return c, ends(c, t)


def experts(p, n, hidden, inter, names=("gate_proj", "up_proj", "down_proj")):
    t = {}
    for e in range(n):
        t.update(mlp_tensors(f"{p}.{e}", hidden, inter, names))
    return t


def mixtral(hidden=64, n_experts=4, inter=32):
    c = config("mixtral", hidden_size=hidden, num_local_experts=n_experts,
               num_experts_per_tok=2, intermediate_size=inter,
               sliding_window=None)

    def ffn(i, p):
        t = {f"{p}.block_sparse_moe.gate.weight": (n_experts, hidden)}
        t.update(experts(f"{p}.block_sparse_moe.experts", n_experts, hidden,
                         inter, ("w1", "w3", "w2")))
        return t
    return c, llama_like(c, ffn=ffn)


def qwen2_moe():
    # MoE on odd layers (decoder_sparse_step 2) except layer 3, which
    # mlp_only_layers keeps dense; a sigmoid-gated shared expert.
    c = config("qwen2_moe", num_hidden_layers=4, num_experts=4,
               num_experts_per_tok=2, moe_intermediate_size=32,
               shared_expert_intermediate_size=48, decoder_sparse_step=2,
               mlp_only_layers=[3], norm_topk_prob=False)

    def ffn(i, p):
        if (i + 1) % 2 != 0 or i == 3:
            return mlp_tensors(f"{p}.mlp", 64, 96)
        t = {f"{p}.mlp.gate.weight": (4, 64),
             f"{p}.mlp.shared_expert_gate.weight": (1, 64)}
        t.update(experts(f"{p}.mlp.experts", 4, 64, 32))
        t.update(mlp_tensors(f"{p}.mlp.shared_expert", 64, 48))
        return t
    return c, llama_like(c, bias=True, ffn=ffn)


def olmoe_qk_norm(p, hd):
    return {f"{p}.self_attn.q_norm.weight": (4 * hd,),
            f"{p}.self_attn.k_norm.weight": (2 * hd,)}


def olmoe():
    c = config("olmoe", num_experts=8, num_experts_per_tok=2,
               intermediate_size=32, norm_topk_prob=False, clip_qkv=None)

    def ffn(i, p):
        t = {f"{p}.mlp.gate.weight": (8, 64)}
        t.update(experts(f"{p}.mlp.experts", 8, 64, 32))
        return t
    return c, llama_like(c, qk_norm=olmoe_qk_norm, ffn=ffn)


def olmoe_stacked():
    # The same model with each layer's experts stacked in two tensors
    # ([experts, 2 * inter, hidden] gate|up and [experts, hidden, inter]).
    c, _ = olmoe()

    def ffn(i, p):
        return {f"{p}.mlp.gate.weight": (8, 64),
                f"{p}.mlp.experts.gate_up_proj": (8, 64, 64),
                f"{p}.mlp.experts.down_proj": (8, 64, 32)}
    return c, llama_like(c, qk_norm=olmoe_qk_norm, ffn=ffn)


def llama4():
    # Layers 0-2 RoPE + chunked attention + qk-norm, layer 3 NoPE global;
    # MoE every other layer (1 and 3) with a shared expert.
    c = config("llama4_text", num_hidden_layers=4, head_dim=16,
               num_local_experts=4, num_experts_per_tok=1,
               intermediate_size=32, intermediate_size_mlp=96,
               interleave_moe_layer_step=2, no_rope_layers=[1, 1, 1, 0],
               attention_chunk_size=32, use_qk_norm=True,
               attn_temperature_tuning=True, floor_scale=8192, attn_scale=0.1,
               rope_theta=500000.0, max_position_embeddings=1024)
    h, t = 64, {}
    for i in range(4):
        p = f"model.layers.{i}"
        t[f"{p}.input_layernorm.weight"] = (h,)
        t[f"{p}.post_attention_layernorm.weight"] = (h,)
        t.update(attention_tensors(f"{p}.self_attn", h, 4, 2, 16))
        f = f"{p}.feed_forward"
        if (i + 1) % 2 != 0:
            t.update(mlp_tensors(f, h, 96))
            continue
        t[f"{f}.router.weight"] = (4, h)
        t.update(experts(f"{f}.experts", 4, h, 32))
        t.update(mlp_tensors(f"{f}.shared_expert", h, 32))
    return c, ends(c, t)


def afm_on_device_config(size="tiny"):
    if size == "full":
        return {"model_type": "afm_on_device", "vocab_size": 153600,
                "hidden_size": 2048, "num_hidden_layers": 56,
                "num_attention_heads": 16, "num_key_value_heads": 2,
                "head_dim": 128, "intermediate_size": 6656,
                "hidden_act": "silu", "rms_norm_eps": 1e-5,
                "rope_theta": 500000.0, "qk_norm": True,
                "tie_word_embeddings": True, "num_kv_reuse_layers": 21,
                "max_position_embeddings": 4096, "bos_token_id": 1,
                "eos_token_id": 2}
    # 8 layers, the last 3 reading layer 4's cache (the 35:21 split scaled).
    return config("afm_on_device", num_hidden_layers=8, head_dim=16,
                  num_kv_reuse_layers=3, qk_norm=True, rope_theta=500000.0,
                  tie_word_embeddings=True)


def afm_on_device_tensors(c):
    h, hd = c["hidden_size"], c["head_dim"]
    first_reader = c["num_hidden_layers"] - c["num_kv_reuse_layers"]
    t = {}
    for i in range(c["num_hidden_layers"]):
        p = f"model.layers.{i}"
        kv = i < first_reader
        t[f"{p}.input_layernorm.weight"] = (h,)
        t[f"{p}.post_attention_layernorm.weight"] = (h,)
        t.update(attention_tensors(f"{p}.self_attn", h,
                                   c["num_attention_heads"],
                                   c["num_key_value_heads"], hd, kv=kv))
        t[f"{p}.self_attn.q_norm.weight"] = (hd,)
        if kv:
            t[f"{p}.self_attn.k_norm.weight"] = (hd,)
        t.update(mlp_tensors(f"{p}.mlp", h, c["intermediate_size"]))
    return ends(c, t)


def afm_on_device():
    c = afm_on_device_config()
    return c, afm_on_device_tensors(c)


def afm_server(tracks=2):
    # 2 tracks x 2 blocks of depth 4: 8 layers per track, LLLG, MoE on odd j.
    c = config("afm_server", num_tracks=tracks, track_block_depth=4,
               num_track_blocks=2, head_dim=16, moe_layer_step=2,
               num_experts=4, num_experts_per_tok=2, moe_intermediate_size=32,
               norm_topk_prob=True, attention_pattern="LLLG",
               sliding_window=16, rope_theta=500000.0, global_rope="none",
               track_combine="mean", tie_word_embeddings=True)
    del c["num_hidden_layers"]
    h, t = 64, {}
    for track in range(tracks):
        for j in range(8):
            p = f"model.tracks.{track}.layers.{j}"
            t[f"{p}.input_layernorm.weight"] = (h,)
            t[f"{p}.post_attention_layernorm.weight"] = (h,)
            t.update(attention_tensors(f"{p}.self_attn", h, 4, 2, 16))
            if (j + 1) % 2 == 0:
                t[f"{p}.mlp.router.weight"] = (4, h)
                t.update(experts(f"{p}.mlp.experts", 4, h, 32))
            else:
                t.update(mlp_tensors(f"{p}.mlp", h, 96))
    return c, ends(c, t)


HF_MODELS = {
    "llama": llama, "mistral": mistral, "qwen2": qwen2, "gemma2": gemma2,
    "gemma3": gemma3, "gemma3_layer_types": gemma3_layer_types,
    "cohere2": cohere2, "mixtral": mixtral, "qwen2_moe": qwen2_moe,
    "olmoe": olmoe, "olmoe_stacked": olmoe_stacked, "llama4": llama4,
    "afm_on_device": afm_on_device, "afm_server": afm_server,
    "afm_server4": lambda: afm_server(tracks=4),
}

# Storage dtype per model (default F32), so F16 and BF16 are exercised too.
HF_DTYPES = {"qwen2": "F16", "gemma2": "BF16", "afm_on_device": "BF16"}


# ---------------------------------------------------------------------------
# One defect each, for the importer's diagnostics tests
# ---------------------------------------------------------------------------

def mutate(build, config_change=None, tensor_change=None):
    def make():
        c, t = build()
        c, t = dict(c), dict(t)
        if config_change:
            config_change(c)
        if tensor_change:
            tensor_change(t)
        return c, t
    return make


def drop(name):
    return lambda t: t.pop(name)


def reshape(name, shape):
    return lambda t: t.__setitem__(name, shape)



def llama2_and_tensors():
    c = config("llama")
    return c, llama_like(c)


BAD_MODELS = {
    "unknown_arch": mutate(llama2_and_tensors,
                           lambda c: c.__setitem__("model_type", "gpt_neox")),
    "missing_model_type": mutate(llama2_and_tensors,
                                 lambda c: c.pop("model_type")),
    "missing_field": mutate(llama2_and_tensors,
                            lambda c: c.pop("intermediate_size")),
    "invalid_field": mutate(llama2_and_tensors,
                            lambda c: c.__setitem__("num_attention_heads",
                                                    "four")),
    "heads_mismatch": mutate(llama2_and_tensors,
                             lambda c: c.__setitem__("num_key_value_heads", 3)),
    "missing_tensor": mutate(llama2_and_tensors, tensor_change=drop(
        "model.layers.1.mlp.up_proj.weight")),
    "wrong_shape": mutate(llama2_and_tensors, tensor_change=reshape(
        "model.layers.0.self_attn.k_proj.weight", (64, 64))),
    "extra_layer": mutate(llama2_and_tensors,
                          lambda c: c.__setitem__("num_hidden_layers", 1)),
    "missing_lm_head": mutate(llama2_and_tensors,
                              tensor_change=drop("lm_head.weight")),
    "rope_scaling": mutate(llama2_and_tensors, lambda c: c.__setitem__(
        "rope_scaling", {"rope_type": "dynamic", "factor": 8.0})),
    "rope_scaling_llama3": mutate(llama2_and_tensors, lambda c: c.__setitem__(
        "rope_scaling", {"rope_type": "llama3", "factor": 8.0})),
    "bad_activation": mutate(llama2_and_tensors,
                             lambda c: c.__setitem__("hidden_act", "tanh")),
    # Values a double holds but the kernels' f32 does not (issue 14).
    "eps_overflows_f32": mutate(llama2_and_tensors, lambda c: c.__setitem__(
        "rms_norm_eps", 1e308)),
    "theta_underflows_f32": mutate(llama2_and_tensors, lambda c: c.__setitem__(
        "rope_theta", 1e-300)),
    "bos_outside_vocab": mutate(llama2_and_tensors, lambda c: c.__setitem__(
        "bos_token_id", 100000)),
    "afm_reuse_with_kv": mutate(afm_on_device, lambda c: c.__setitem__(
        "num_kv_reuse_layers", 4)),
    "afm_reuse_all": mutate(afm_on_device, lambda c: c.__setitem__(
        "num_kv_reuse_layers", 8)),
    "afm_server_pattern": mutate(afm_server, lambda c: c.__setitem__(
        "attention_pattern", "LLXG")),
    "llama4_top2": mutate(llama4, lambda c: c.__setitem__(
        "num_experts_per_tok", 2)),
    # Hugging Face's Llama 4 layout: experts stacked input-major.
    "llama4_stacked": mutate(llama4, tensor_change=lambda t: (
        [t.pop(n) for n in list(t) if ".feed_forward.experts." in n],
        t.update({f"model.layers.{i}.feed_forward.experts.gate_up_proj":
                  (4, 64, 64) for i in (1, 3)}),
        t.update({f"model.layers.{i}.feed_forward.experts.down_proj":
                  (4, 32, 64) for i in (1, 3)}))),
    "gemma2_layer_types": mutate(gemma2, lambda c: c.__setitem__(
        "layer_types", ["sliding_attention", "full_attention"])),
    "stacked_expert_count": mutate(olmoe_stacked, lambda c: c.__setitem__(
        "num_experts", 4), lambda t: t.update({
            f"model.layers.{i}.mlp.gate.weight": (4, 64) for i in range(2)})),
}

# The same llama with one tensor written as I8 (no scales): rejected.
BAD_MODELS["i8_tensor"] = llama2_and_tensors
BAD_DTYPES = {"i8_tensor": ("model.norm.weight", "I8")}


# ---------------------------------------------------------------------------
# Writers
# ---------------------------------------------------------------------------

def random_tensors(tensors, seed, dtype="F32", overrides=None):
    """{name: shape} -> {name: (dtype, array)}: norms near 1, others small."""
    rng = np.random.default_rng(seed)
    out = {}
    for name in sorted(tensors):
        shape = tensors[name]
        if name.endswith("norm.weight") and len(shape) == 1:
            values = 1.0 + 0.05 * rng.standard_normal(shape)
        else:
            values = 0.05 * rng.standard_normal(shape)
        out[name] = ((overrides or {}).get(name, dtype),
                     values.astype(np.float32))
    return out


def write_tokenizer_json(path, vocab_size):
    """A minimal byte-level BPE tokenizer.json: the first vocab_size tokens
    of the GPT-2 byte alphabet, no merges."""
    alphabet = [chr(c) for c in range(ord("!"), ord("~") + 1)]
    alphabet += [chr(c) for c in range(0xA1, 0xAD)] + [chr(c) for c in range(0xAE, 0x100)]
    alphabet += [chr(0x100 + i) for i in range(256 - len(alphabet))]
    vocab = {token: i for i, token in enumerate(alphabet[:vocab_size])}
    tokenizer = {"version": "1.0",
                 "added_tokens": [],
                 "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False},
                 "decoder": {"type": "ByteLevel"},
                 "model": {"type": "BPE", "vocab": vocab, "merges": []}}
    with open(path, "w") as f:
        json.dump(tokenizer, f)


def write_hf(directory, config_dict, tensors, seed, dtype="F32",
             overrides=None, shards=1, tokenizer=False):
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "config.json"), "w") as f:
        json.dump(config_dict, f, indent=1)
    data = random_tensors(tensors, seed, dtype, overrides)
    if shards == 1:
        write_safetensors(os.path.join(directory, "model.safetensors"), data)
    else:
        names = sorted(data)
        weight_map = {}
        for s in range(shards):
            part = names[s::shards]
            file = f"model-{s + 1:05d}-of-{shards:05d}.safetensors"
            write_safetensors(os.path.join(directory, file),
                              {n: data[n] for n in part})
            weight_map.update({n: file for n in part})
        with open(os.path.join(directory, "model.safetensors.index.json"),
                  "w") as f:
            json.dump({"metadata": {}, "weight_map": weight_map}, f, indent=1)
    if tokenizer:
        write_tokenizer_json(os.path.join(directory, "tokenizer.json"),
                             config_dict["vocab_size"])


def spm_vocabulary(size):
    """A SentencePiece-style vocabulary: <unk>, <s>, </s>, byte tokens, then
    letters, with descending scores."""
    tokens = ["<unk>", "<s>", "</s>"]
    tokens += [f"<0x{b:02X}>" for b in range(min(size - 3, 100))]
    letters = "abcdefghijklmnopqrstuvwxyz"
    i = 0
    while len(tokens) < size:
        tokens.append(("\u2581" if i % 2 else "") + letters[i % 26] * (1 + i // 52))
        i += 1
    return tokens[:size], [float(-i) for i in range(size)]


def spm_gguf_tokenizer(vocab_size):
    """tokenizer.ggml.* metadata of spm_vocabulary(vocab_size): <unk>
    unknown, <s> and </s> control, the byte tokens, then normal tokens."""
    tokens, scores = spm_vocabulary(vocab_size)
    return [
        ("tokenizer.ggml.model", GGUF_STRING, "llama"),
        ("tokenizer.ggml.tokens", GGUF_ARRAY, (GGUF_STRING, tokens)),
        ("tokenizer.ggml.scores", GGUF_ARRAY, (GGUF_FLOAT32, scores)),
        ("tokenizer.ggml.token_type", GGUF_ARRAY,
         (GGUF_INT32, [2, 3, 3] + [6] * 100 + [1] * (len(tokens) - 103))),
        ("tokenizer.ggml.bos_token_id", GGUF_UINT32, 1),
        ("tokenizer.ggml.eos_token_id", GGUF_UINT32, 2),
    ]


def write_gguf_llama(path, seed):
    c = config("llama", num_hidden_layers=2)
    h, hd, L = c["hidden_size"], head_dim_of(c), c["num_hidden_layers"]
    rng = np.random.default_rng(seed)

    def rand(*shape):
        return (0.05 * rng.standard_normal(shape)).astype(np.float32)

    def ones(n):
        return (1.0 + 0.05 * rng.standard_normal(n)).astype(np.float32)

    tensors = [("token_embd.weight", GGML_F32, rand(c["vocab_size"], h))]
    for i in range(L):
        b = f"blk.{i}"
        tensors += [
            (f"{b}.attn_norm.weight", GGML_F32, ones(h)),
            (f"{b}.attn_q.weight", GGML_F32, rand(4 * hd, h)),
            (f"{b}.attn_k.weight", GGML_F32, rand(2 * hd, h)),
            (f"{b}.attn_v.weight", GGML_F32, rand(2 * hd, h)),
            (f"{b}.attn_output.weight", GGML_F32, rand(h, 4 * hd)),
            (f"{b}.ffn_norm.weight", GGML_F32, ones(h)),
            (f"{b}.ffn_gate.weight", GGML_Q8_0, rand(96, h)),
            (f"{b}.ffn_down.weight", GGML_F32, rand(h, 96)),
            (f"{b}.ffn_up.weight", GGML_Q8_0, rand(96, h)),
        ]
    tensors += [("output_norm.weight", GGML_F32, ones(h)),
                ("output.weight", GGML_F32, rand(c["vocab_size"], h))]
    metadata = [
        ("general.architecture", GGUF_STRING, "llama"),
        ("general.name", GGUF_STRING, "fmc synthetic llama"),
        ("general.alignment", GGUF_UINT32, 32),
        ("llama.context_length", GGUF_UINT32, c["max_position_embeddings"]),
        ("llama.embedding_length", GGUF_UINT32, h),
        ("llama.block_count", GGUF_UINT32, L),
        ("llama.feed_forward_length", GGUF_UINT32, 96),
        ("llama.rope.dimension_count", GGUF_UINT32, hd),
        ("llama.attention.head_count", GGUF_UINT32, 4),
        ("llama.attention.head_count_kv", GGUF_UINT32, 2),
        ("llama.attention.layer_norm_rms_epsilon", GGUF_FLOAT32, 1e-5),
        ("llama.rope.freq_base", GGUF_FLOAT32, 10000.0),
    ] + spm_gguf_tokenizer(c["vocab_size"])
    write_gguf(path, metadata, tensors)


# ---------------------------------------------------------------------------
# GGUF twins: one GGUF file per llama.cpp architecture, written from the same
# weights as a Hugging Face directory beside it, as convert_hf_to_gguf.py
# writes them: llama.cpp's tensor names, experts stacked [experts, rows,
# cols], llama (and Mixtral) q/k rows permuted for llama.cpp's interleaved
# (NORM) RoPE, gemma norms stored with their 1 added, Qwen2-MoE's shared
# expert gate as a vector. The Hugging Face twin states only what the GGUF
# metadata can (llama.cpp's defaults where the GGUF has no key), so the two
# must compute the same logits.
# ---------------------------------------------------------------------------

def twin_llama():
    c = config("llama")
    return c, llama_like(c)


def twin_mixtral():
    c, t = mixtral()
    del c["sliding_window"]
    return c, t


def twin_qwen2():
    c = config("qwen2", tie_word_embeddings=True)
    return c, llama_like(c, bias=True)


def twin_qwen2_moe():
    # llama.cpp's qwen2moe: every layer MoE, no top-k renormalization.
    c = config("qwen2_moe", num_experts=4, num_experts_per_tok=2,
               moe_intermediate_size=32, shared_expert_intermediate_size=48,
               decoder_sparse_step=1, mlp_only_layers=[], norm_topk_prob=False)

    def ffn(i, p):
        t = {f"{p}.mlp.gate.weight": (4, 64),
             f"{p}.mlp.shared_expert_gate.weight": (1, 64)}
        t.update(experts(f"{p}.mlp.experts", 4, 64, 32))
        t.update(mlp_tensors(f"{p}.mlp.shared_expert", 64, 48))
        return t
    return c, llama_like(c, bias=True, ffn=ffn)


def twin_gemma2():
    # llama.cpp scales queries by head_dim^-1/2 (not 27B): query_pre_attn_scalar
    # = head_dim; soft-caps as written.
    c, t = gemma2()
    c["query_pre_attn_scalar"] = 32
    return c, t


def twin_llama4():
    # llama.cpp's llama4: 8192-position chunks on 3 of 4 layers (the 4th
    # NoPE), MoE every interleave_moe_layer_step-th layer.
    c, t = llama4()
    c.update(attention_chunk_size=8192, no_rope_layers=[1, 1, 1, 0])
    return c, t


# name: (GGUF architecture, Hugging Face twin, storage dtype).
GGUF_TWINS = {
    "llama": ("llama", twin_llama, "F32"),
    "mixtral": ("llama", twin_mixtral, "F32"),
    "qwen2": ("qwen2", twin_qwen2, "F16"),
    "qwen2_moe": ("qwen2moe", twin_qwen2_moe, "F32"),
    "olmoe": ("olmoe", olmoe, "F32"),
    "gemma2": ("gemma2", twin_gemma2, "BF16"),
    "gemma3": ("gemma3", gemma3, "F32"),
    "cohere2": ("cohere2", cohere2, "F32"),
    "llama4": ("llama4", twin_llama4, "F32"),
}

GGUF_LAYER_NAMES = {
    "input_layernorm": "attn_norm", "self_attn.q_proj": "attn_q",
    "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output", "self_attn.q_norm": "attn_q_norm",
    "self_attn.k_norm": "attn_k_norm",
    "post_attention_layernorm": "ffn_norm",
    "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down", "mlp.gate": "ffn_gate_inp",
    "mlp.shared_expert.gate_proj": "ffn_gate_shexp",
    "mlp.shared_expert.up_proj": "ffn_up_shexp",
    "mlp.shared_expert.down_proj": "ffn_down_shexp",
    "mlp.shared_expert_gate": "ffn_gate_inp_shexp",
    "block_sparse_moe.gate": "ffn_gate_inp",
    "feed_forward.gate_proj": "ffn_gate", "feed_forward.up_proj": "ffn_up",
    "feed_forward.down_proj": "ffn_down",
    "feed_forward.router": "ffn_gate_inp",
    "feed_forward.shared_expert.gate_proj": "ffn_gate_shexp",
    "feed_forward.shared_expert.up_proj": "ffn_up_shexp",
    "feed_forward.shared_expert.down_proj": "ffn_down_shexp",
}
GEMMA_LAYER_NAMES = dict(
    GGUF_LAYER_NAMES, post_attention_layernorm="post_attention_norm",
    pre_feedforward_layernorm="ffn_norm",
    post_feedforward_layernorm="post_ffw_norm")
EXPERT_PROJS = {"gate_proj": "gate", "up_proj": "up", "down_proj": "down",
                "w1": "gate", "w3": "up", "w2": "down"}


def stored_values(array, dtype):
    """The float32 values of `array` once stored as `dtype`."""
    if dtype == "F16":
        return array.astype(np.float16).astype(np.float32)
    if dtype == "BF16":
        bits = np.frombuffer(to_storage(array, "BF16"), dtype=np.uint16)
        return (bits.astype(np.uint32) << 16).view(np.float32).reshape(
            array.shape)
    return array


def permute_for_norm_rope(w, heads, head_dim):
    """convert_hf_to_gguf.py's LlamaModel.permute: rotate-half rows to
    interleaved pairs, per head."""
    return (w.reshape(heads, 2, head_dim // 2, *w.shape[1:])
            .swapaxes(1, 2).reshape(w.shape))


def gguf_twin_tensors(arch, c, data):
    """{HF name: (dtype, array)} -> [(GGUF name, ggml type, array)]."""
    gemma = arch.startswith("gemma")
    names = GEMMA_LAYER_NAMES if gemma else GGUF_LAYER_NAMES
    ggml = {"F32": GGML_F32, "F16": GGML_F16, "BF16": GGML_BF16}
    hd = head_dim_of(c)
    out, stacks = [], {}
    for name in sorted(data):
        dtype, array = data[name]
        kind = ggml[dtype]
        # The values the Hugging Face twin stores, whatever the GGUF keeps
        # them in (the converter writes 1-D tensors as F32).
        array = stored_values(array, dtype)
        if gemma and name.endswith("norm.weight"):
            # llama.cpp's converter adds Gemma's 1 (in f32: norms stay F32).
            array, kind = array + np.float32(1.0), GGML_F32
        if array.ndim == 1:
            kind = GGML_F32
        if name == "model.embed_tokens.weight":
            out.append(("token_embd.weight", kind, array))
            continue
        if name == "model.norm.weight":
            out.append(("output_norm.weight", kind, array))
            continue
        if name == "lm_head.weight":
            out.append(("output.weight", kind, array))
            continue
        parts = name.split(".")
        layer, rest, suffix = parts[2], ".".join(parts[3:-1]), parts[-1]
        if ".experts." in name:
            base, e, proj = rest.rsplit(".", 2)
            stacks.setdefault((layer, EXPERT_PROJS[proj]), {})[int(e)] = (
                kind, array)
            continue
        if arch == "llama" and rest in ("self_attn.q_proj", "self_attn.k_proj"):
            heads = c["num_attention_heads"] if rest.endswith("q_proj") else \
                c["num_key_value_heads"]
            rotary = int(round(hd * c.get("partial_rotary_factor", 1.0)))
            if rotary == hd:
                array = permute_for_norm_rope(array, heads, hd)
            else:
                # Partial rotary: only each head's first `rotary` rows pair
                # up (llama.cpp's NORM RoPE turns (2i, 2i+1) for i < r/2).
                per_head = array.reshape(heads, hd, *array.shape[1:]).copy()
                per_head[:, :rotary] = permute_for_norm_rope(
                    per_head[:, :rotary].reshape(heads * rotary, *array.shape[1:]),
                    heads, rotary).reshape(heads, rotary, *array.shape[1:])
                array = per_head.reshape(array.shape)
        if rest.endswith("shared_expert_gate"):
            array = array.reshape(-1)
            kind = GGML_F32
        out.append((f"blk.{layer}.{names[rest]}.{suffix}", kind, array))
    for (layer, proj), by_expert in sorted(stacks.items()):
        kind = by_expert[0][0]
        array = np.stack([by_expert[e][1] for e in sorted(by_expert)])
        out.append((f"blk.{layer}.ffn_{proj}_exps.weight", kind, array))
    return out


def gguf_twin_metadata(arch, c):
    u32 = lambda k, v: (f"{arch}.{k}", GGUF_UINT32, v)  # noqa: E731
    f32 = lambda k, v: (f"{arch}.{k}", GGUF_FLOAT32, v)  # noqa: E731
    hd = head_dim_of(c)
    mt = c["model_type"]
    m = [("general.architecture", GGUF_STRING, arch),
         ("general.name", GGUF_STRING, f"fmc synthetic {mt} twin"),
         ("general.file_type", GGUF_UINT32, 0),
         u32("context_length", c["max_position_embeddings"]),
         u32("embedding_length", c["hidden_size"]),
         u32("block_count", c["num_hidden_layers"]),
         u32("feed_forward_length", c["intermediate_size_mlp"]
             if mt.startswith("llama4") else c["intermediate_size"]),
         u32("attention.head_count", c["num_attention_heads"]),
         u32("attention.head_count_kv", c["num_key_value_heads"]),
         u32("attention.key_length", hd), u32("attention.value_length", hd),
         f32("rope.freq_base", c.get("rope_theta", 10000.0)),
         u32("vocab_size", c["vocab_size"])]
    if arch in ("llama", "cohere2", "llama4"):
        m.append(u32("rope.dimension_count", hd))
    if arch == "cohere2":
        m += [f32("attention.layer_norm_epsilon", c["layer_norm_eps"]),
              f32("logit_scale", c["logit_scale"]),
              u32("attention.sliding_window", c["sliding_window"]),
              (f"{arch}.rope.scaling.type", GGUF_STRING, "none")]
    else:
        m.append(f32("attention.layer_norm_rms_epsilon", c["rms_norm_eps"]))
    experts = c.get("num_local_experts", c.get("num_experts"))
    if experts:
        m += [u32("expert_count", experts),
              u32("expert_used_count", c["num_experts_per_tok"])]
    if arch == "qwen2moe":
        m += [u32("expert_feed_forward_length", c["moe_intermediate_size"]),
              u32("expert_shared_feed_forward_length",
                  c["shared_expert_intermediate_size"])]
    if arch == "llama4":
        m += [u32("expert_feed_forward_length", c["intermediate_size"]),
              u32("interleave_moe_layer_step", c["interleave_moe_layer_step"])]
    if arch == "gemma2":
        m += [u32("attention.sliding_window", c["sliding_window"]),
              f32("attn_logit_softcapping", c["attn_logit_softcapping"]),
              f32("final_logit_softcapping", c["final_logit_softcapping"])]
    if arch == "gemma3":
        m += [u32("attention.sliding_window", c["sliding_window"]),
              f32("rope.freq_base_swa", c["rope_local_base_freq"])]
    tokens, scores = spm_vocabulary(c["vocab_size"])
    m += [("tokenizer.ggml.model", GGUF_STRING, "llama"),
          ("tokenizer.ggml.tokens", GGUF_ARRAY, (GGUF_STRING, tokens)),
          ("tokenizer.ggml.scores", GGUF_ARRAY, (GGUF_FLOAT32, scores)),
          ("tokenizer.ggml.token_type", GGUF_ARRAY,
           (GGUF_INT32, [2, 3, 3] + [6] * 100 + [1] * (len(tokens) - 103))),
          ("tokenizer.ggml.bos_token_id", GGUF_UINT32, 1),
          ("tokenizer.ggml.eos_token_id", GGUF_UINT32, 2)]
    return m


def write_gguf_twins(out):
    """OUT/gguf/<name>.gguf and its Hugging Face twin OUT/gguf/<name>_hf/."""
    directory = os.path.join(out, "gguf")
    shutil.rmtree(directory, ignore_errors=True)
    for seed, (name, (arch, build, dtype)) in enumerate(
            sorted(GGUF_TWINS.items()), start=700):
        c, t = build()
        write_hf(os.path.join(directory, name + "_hf"), c, t, seed, dtype)
        data = random_tensors(t, seed, dtype)
        write_gguf(os.path.join(directory, name + ".gguf"),
                   gguf_twin_metadata(arch, c),
                   gguf_twin_tensors(arch, c, data))


# ---------------------------------------------------------------------------
# RoPE scaling twins (issue 15): OUT/rope/<name>.gguf as llama.cpp stores
# the scaling, and OUT/rope/<name>_hf/ with Hugging Face's rope_scaling /
# partial_rotary_factor. A pretraining context of 16 puts the synthetic
# frequencies on every side of the Llama 3 and YaRN bounds within a
# 40-token prompt.
# ---------------------------------------------------------------------------

LLAMA3_SCALING = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                  "high_freq_factor": 4.0, "original_max_position_embeddings": 16}


def llama3_rope_freqs(c):
    """convert_hf_to_gguf.py's LlamaModel rope_freqs: per frequency the
    divisor Llama 3 scaling applies."""
    s = c["rope_scaling"]
    hd = head_dim_of(c)
    base = c["rope_theta"] ** (-np.arange(0, hd, 2, dtype=np.float64) / hd)
    old, low, high, factor = (s["original_max_position_embeddings"],
                              s["low_freq_factor"], s["high_freq_factor"],
                              s["factor"])
    out = []
    for freq in base:
        wavelen = 2 * np.pi / freq
        if wavelen < old / high:
            out.append(1.0)
        elif wavelen > old / low:
            out.append(factor)
        else:
            smooth = (old / wavelen - low) / (high - low)
            out.append(1 / ((1 - smooth) / factor + smooth))
    return np.array(out, dtype=np.float32)


def rope_twin(model_type, bias=False, **overrides):
    def build():
        c = config(model_type, tie_word_embeddings=model_type == "qwen2",
                   **overrides)
        return c, llama_like(c, bias=bias)
    return build


# name: (GGUF architecture, Hugging Face twin, extra GGUF metadata (key
# suffix, type, value), rope_freqs.weight from the config?).
ROPE_TWINS = {
    "llama3": ("llama", rope_twin("llama", rope_scaling=LLAMA3_SCALING),
               [], True),
    "linear": ("llama", rope_twin("llama", rope_scaling={
        "rope_type": "linear", "factor": 4.0}),
        [("rope.scaling.type", GGUF_STRING, "linear"),
         ("rope.scaling.factor", GGUF_FLOAT32, 4.0)], False),
    "yarn": ("qwen2", rope_twin("qwen2", bias=True, rope_scaling={
        "rope_type": "yarn", "factor": 4.0,
        "original_max_position_embeddings": 16}),
        [("rope.scaling.type", GGUF_STRING, "yarn"),
         ("rope.scaling.factor", GGUF_FLOAT32, 4.0),
         ("rope.scaling.original_context_length", GGUF_UINT32, 16)], False),
    "partial_neox": ("qwen2", rope_twin("qwen2", bias=True,
                                        partial_rotary_factor=0.5),
                     [("rope.dimension_count", GGUF_UINT32, 8)], False),
    "partial_norm": ("llama", rope_twin("llama", partial_rotary_factor=0.5),
                     [("rope.dimension_count", GGUF_UINT32, 8)], False),
}


def write_rope_twins(out):
    directory = os.path.join(out, "rope")
    shutil.rmtree(directory, ignore_errors=True)
    for seed, (name, (arch, build, extra, freqs)) in enumerate(
            sorted(ROPE_TWINS.items()), start=760):
        c, t = build()
        write_hf(os.path.join(directory, name + "_hf"), c, t, seed)
        data = random_tensors(t, seed)
        metadata = [m for m in gguf_twin_metadata(arch, c)
                    if m[0] != f"{arch}.rope.dimension_count"
                    or not any(k == "rope.dimension_count" for k, _, _ in extra)]
        metadata += [(f"{arch}.{k}", kind, v) for k, kind, v in extra]
        tensors = gguf_twin_tensors(arch, c, data)
        if freqs:
            tensors.append(("rope_freqs.weight", GGML_F32, llama3_rope_freqs(c)))
        write_gguf(os.path.join(directory, name + ".gguf"), metadata, tensors)
    # Gemma 3 scales its global layers' RoPE only.
    c, t = gemma3()
    c["rope_scaling"] = {"rope_type": "linear", "factor": 8.0}
    write_hf(os.path.join(directory, "gemma3_linear_hf"), c, t, 790)


def write_llama2c(path, tokenizer_path, seed):
    """The legacy llama2.c format (tied classifier: positive vocab_size)."""
    dim, hidden, L, heads, kv_heads, vocab, seq = 64, 96, 2, 4, 2, 128, 256
    hd = dim // heads
    rng = np.random.default_rng(seed)

    def rand(*shape):
        return (0.05 * rng.standard_normal(shape)).astype(np.float32)

    def ones(*shape):
        return (1.0 + 0.05 * rng.standard_normal(shape)).astype(np.float32)

    arrays = [rand(vocab, dim), ones(L, dim), rand(L, dim, dim),
              rand(L, kv_heads * hd, dim), rand(L, kv_heads * hd, dim),
              rand(L, dim, dim), ones(L, dim), rand(L, hidden, dim),
              rand(L, dim, hidden), rand(L, hidden, dim), ones(dim),
              rand(seq, hd // 2), rand(seq, hd // 2)]
    with open(path, "wb") as f:
        f.write(struct.pack("<7i", dim, hidden, L, heads, kv_heads, vocab, seq))
        for array in arrays:
            f.write(array.tobytes())
    tokens, scores = spm_vocabulary(vocab)
    with open(tokenizer_path, "wb") as f:
        encoded = [t.replace("\u2581", " ").encode() for t in tokens]
        f.write(struct.pack("<i", max(len(e) for e in encoded)))
        for score, e in zip(scores, encoded):
            f.write(struct.pack("<fi", score, len(e)) + e)


def write_tiny(out):
    for seed, (name, build) in enumerate(sorted(HF_MODELS.items()), start=1):
        c, t = build()
        write_hf(os.path.join(out, "hf", name), c, t, seed,
                 HF_DTYPES.get(name, "F32"), tokenizer=(name == "llama"))
    c, t = llama()
    write_hf(os.path.join(out, "hf", "llama_sharded"), c, t, 100, shards=2)
    for seed, (name, build) in enumerate(sorted(BAD_MODELS.items()), start=200):
        c, t = build()
        overrides = {}
        if name in BAD_DTYPES:
            tensor, dtype = BAD_DTYPES[name]
            overrides[tensor] = dtype
        write_hf(os.path.join(out, "bad", name), c, t, seed,
                 overrides=overrides)
    for name, (seed, build, dtype) in sorted(EXTRA_MODELS.items()):
        c, t = build()
        write_hf(os.path.join(out, "hf", name), c, t, seed, dtype)
    write_gguf_llama(os.path.join(out, "llama.gguf"), 300)
    write_gguf_twins(out)
    write_rope_twins(out)
    write_llama2c(os.path.join(out, "llama2c.bin"),
                  os.path.join(out, "tok128.bin"), 301)
    write_afm_on_device_qat(os.path.join(out, "hf", "afm_on_device_qat"), 404)
    write_adapters(out)


def afm_wide():
    """AFM on-device's layer at a width the GPU matvecs tile like a real
    model's: hidden 256 (two blocks of 128 int8 activations), FFN 576 (four
    blocks and a 64-feature tail), heads of 64, one KV-reuse layer."""
    c = config("afm_on_device", hidden_size=256, intermediate_size=576,
               num_hidden_layers=3, num_attention_heads=4,
               num_key_value_heads=2, head_dim=64, num_kv_reuse_layers=1,
               qk_norm=True, rope_theta=500000.0, tie_word_embeddings=True)
    return c, afm_on_device_tensors(c)


def mixtral_wide():
    """Mixtral at a width the GPU's grouped expert GEMM takes (K of 128:
    one block of int8 activations, two tiles of f16): hidden 128, 8 experts
    of 128 features, top 2."""
    return mixtral(hidden=128, n_experts=8, inter=128)


# Extra models with fixed seeds (not in HF_MODELS, whose seeds follow sorted
# names) and their storage dtypes: an 8-layer llama for the KV-sharing,
# interleave and int8-KV numerics tests; the wide AFM layers for the GPU
# matvecs' vector paths; the wide Mixtral for the grouped expert GEMM.
EXTRA_MODELS = {
    "llama_8layer": (401, lambda: (lambda c: (c, llama_like(c)))(
        config("llama", num_hidden_layers=8)), "F32"),
    "afm_wide": (402, afm_wide, "F32"),
    "afm_wide_f16": (403, afm_wide, "F16"),
    "mixtral_wide": (404, mixtral_wide, "F16"),
}


# ---------------------------------------------------------------------------
# A QAT stand-in of afm_on_device and PEFT LoRA adapters for it
# ---------------------------------------------------------------------------

LINEAR_PROJS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj",
                "up_proj", "down_proj")


def is_layer_linear(name):
    """A decoder layer's linear weight (not the embedding or a norm)."""
    parts = name.split(".")
    return (name.startswith("model.layers.") and parts[-1] == "weight"
            and parts[-2] in LINEAR_PROJS)


def snap_balanced(w, bits, group):
    """w [rows, k] float32 onto the balanced grid s * (q - offset), per group
    of a row (a short tail group too): test/reference/snap_to_grid.py's
    snap, copied so that this script stays standalone."""
    offset = np.float32((2 ** bits - 1) / 2)
    out = np.empty_like(w)
    for g0 in range(0, w.shape[1], group):
        x = w[:, g0:g0 + group]
        amax = np.abs(x).max(axis=1, keepdims=True)
        s = (amax / offset).astype(np.float16).astype(np.float32)
        s[s == 0] = np.float32(1)
        q = np.clip(np.rint(x / s + offset), 0, 2 ** bits - 1)
        # The f32 product, as fmc computes it.
        out[:, g0:g0 + group] = s * (q.astype(np.float32) - offset)
    return out


def write_afm_on_device_qat(directory, seed):
    """afm_on_device as quantization-aware training leaves it: every layer
    linear exactly on the balanced 2-bit grid (groups of 32), stored as F32
    so that no rounding moves a value off the grid."""
    c, t = afm_on_device()
    data = random_tensors(t, seed)
    for name, (dtype, array) in data.items():
        if is_layer_linear(name):
            data[name] = (dtype, snap_balanced(array, 2, 32))
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "config.json"), "w") as f:
        json.dump(c, f, indent=1)
    write_safetensors(os.path.join(directory, "model.safetensors"), data)


def peft_targets(target_modules, module):
    """PEFT's check_target_module_exists: a string is a full-match regex on
    the module name; a list names module suffixes."""
    if isinstance(target_modules, str):
        return re.fullmatch(target_modules, module) is not None
    return any(module == t or module.endswith("." + t) for t in target_modules)


def peft_pattern(pattern, module, default):
    """rank_pattern / alpha_pattern: the first key that is the module name
    or a regex suffix of it after a dot; else `default`."""
    for key, value in pattern.items():
        if module == key or re.match(rf".*\.{key}$", module):
            return value
    return default


def peft_config(r, alpha, target_modules, **changes):
    """adapter_config.json as PEFT's LoraConfig.save_pretrained writes it
    (the keys fmc reads, and a few it must ignore)."""
    c = {"peft_type": "LORA", "task_type": "CAUSAL_LM", "r": r,
         "lora_alpha": alpha, "target_modules": target_modules,
         "rank_pattern": {}, "alpha_pattern": {}, "bias": "none",
         "use_rslora": False, "use_dora": False, "fan_in_fan_out": False,
         "base_model_name_or_path": "afm_on_device", "inference_mode": True,
         "lora_dropout": 0.0, "modules_to_save": None,
         "layers_to_transform": None, "layers_pattern": None}
    c.update(changes)
    return c


def lora_tensors(base, config, seed, rank=None):
    """{PEFT tensor name: ("F32", array)} for every base linear the config
    targets: lora_A [r, in] and lora_B [out, r], both random (std 0.1) as
    after training, so that the adapter moves the logits. `rank` overrides
    every module's rank."""
    rng = np.random.default_rng(seed)
    out = {}
    for name in sorted(base):
        module = name[:-len(".weight")]
        if not is_layer_linear(name) or not peft_targets(
                config["target_modules"], module):
            continue
        rows, cols = base[name]
        r = rank or peft_pattern(config["rank_pattern"], module, config["r"])
        p = f"base_model.model.{module}"
        out[f"{p}.lora_A.weight"] = (
            "F32", (0.1 * rng.standard_normal((r, cols))).astype(np.float32))
        out[f"{p}.lora_B.weight"] = (
            "F32", (0.1 * rng.standard_normal((rows, r))).astype(np.float32))
    return out


def write_adapter(directory, config, tensors):
    """A PEFT adapter directory; config None leaves adapter_config.json out."""
    os.makedirs(directory, exist_ok=True)
    if config is not None:
        with open(os.path.join(directory, "adapter_config.json"), "w") as f:
            json.dump(config, f, indent=2)
    write_safetensors(os.path.join(directory, "adapter_model.safetensors"),
                      tensors)


R8 = peft_config(8, 16, ["q_proj", "v_proj", "o_proj", "gate_proj",
                         "down_proj"],
                 rank_pattern={"model.layers.2.self_attn.q_proj": 4},
                 alpha_pattern={"down_proj": 32})
R8_SEED = 901


def bad_adapters(base):
    """name: (config or None, tensors), each afm_r8 with exactly one defect
    (the tensors are afm_r8's unless the defect is in them)."""
    good = lora_tensors(base, R8, R8_SEED)

    def extra_module(t):
        rng = np.random.default_rng(910)
        p = "base_model.model.model.layers.0.self_attn.x_proj"
        t[f"{p}.lora_A.weight"] = ("F32", (0.1 * rng.standard_normal(
            (8, 64))).astype(np.float32))
        t[f"{p}.lora_B.weight"] = ("F32", (0.1 * rng.standard_normal(
            (64, 8))).astype(np.float32))
        return t

    def wide_a(t):
        name = "base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight"
        a = t[name][1]
        t[name] = ("F32", np.concatenate([a, a[:, :1]], axis=1))
        return t

    def drop_b(t):
        del t["base_model.model.model.layers.0.mlp.down_proj.lora_B.weight"]
        return t

    # Rank 64 everywhere: rank_pattern's 4 would contradict the tensors.
    rank64 = dict(R8, r=64, rank_pattern={})
    return {
        "unknown-module": (R8, extra_module(dict(good))),
        "shape-mismatch": (R8, wide_a(dict(good))),
        "no-config": (None, good),
        "dora": (dict(R8, use_dora=True), good),
        "bias": (dict(R8, bias="all"), good),
        "rank-64": (rank64, lora_tensors(base, rank64, 911, rank=64)),
        "missing-b": (R8, drop_b(dict(good))),
        "fan-in-fan-out": (dict(R8, fan_in_fan_out=True), good),
    }


def write_adapters(out):
    """OUT/adapters/<name>/ (PEFT LoRA adapters of afm_on_device and its QAT
    stand-in) and OUT/adapters-bad/<name>/ (one defect each)."""
    _, base = afm_on_device()
    good = {
        "afm_r8": (R8, R8_SEED),
        "afm_r4": (peft_config(4, 8, r".*\.(q_proj|k_proj|up_proj)$"), 902),
        "afm_qat_r8": (peft_config(
            8, 16, list(LINEAR_PROJS),
            base_model_name_or_path="afm_on_device_qat"), 903),
    }
    for name, (config, seed) in good.items():
        write_adapter(os.path.join(out, "adapters", name), config,
                      lora_tensors(base, config, seed))
    # Two adapters of hf/llama (which has a tokenizer.json), for fmc-serve's
    # adapter switching.
    _, llama_base = llama()
    for name, seed in (("llama_a", 904), ("llama_b", 905)):
        config = peft_config(4, 8, ["q_proj", "v_proj", "down_proj"],
                             base_model_name_or_path="llama")
        write_adapter(os.path.join(out, "adapters", name), config,
                      lora_tensors(llama_base, config, seed))
    for name, (config, tensors) in bad_adapters(base).items():
        write_adapter(os.path.join(out, "adapters-bad", name), config, tensors)


def kv_shape_models():
    """Real KV-cache shapes, tiny weights: AFM on-device's 56 layers with 2 KV
    heads of 128 (with and without its 21 reuse layers), and an 8-layer
    llama with the same KV heads and a 32K context for 3:1 interleaving."""
    afm = config("afm_on_device", hidden_size=32, intermediate_size=32,
                 num_hidden_layers=56, num_attention_heads=2,
                 num_key_value_heads=2, head_dim=128, num_kv_reuse_layers=21,
                 qk_norm=True, rope_theta=500000.0, tie_word_embeddings=True,
                 max_position_embeddings=4096)
    unshared = dict(afm, num_kv_reuse_layers=0)
    long = config("llama", hidden_size=32, intermediate_size=32,
                  num_hidden_layers=8, num_attention_heads=2,
                  num_key_value_heads=2, head_dim=128,
                  max_position_embeddings=32768)
    return {"afm_kv_shared": (afm, afm_on_device_tensors(afm)),
            "afm_kv_unshared": (unshared, afm_on_device_tensors(unshared)),
            "llama_kv_32k": (long, llama_like(long))}


def afm_bench_model():
    """AFM on-device's depth and 35:21 KV split (56 layers, the last 21
    reading layer 34's cache) at reduced width, for the TTFT benchmark."""
    c = config("afm_on_device", hidden_size=256, intermediate_size=512,
               num_hidden_layers=56, num_attention_heads=4,
               num_key_value_heads=2, head_dim=64, num_kv_reuse_layers=21,
               qk_norm=True, rope_theta=500000.0, tie_word_embeddings=True,
               vocab_size=512, max_position_embeddings=2048)
    return c, afm_on_device_tensors(c)


def write_afm_size(out):
    c = afm_on_device_config("full")
    write_afm_size_dir(out, "afm_on_device_full", c)
    # The same model with a cache in every layer, for KV-sharing comparisons.
    write_afm_size_dir(out, "afm_on_device_full_unshared",
                       dict(c, num_kv_reuse_layers=0))


def write_afm_size_dir(out, name, c):
    tensors = afm_on_device_tensors(c)
    params = sum(int(np.prod(s)) for s in tensors.values())
    directory = os.path.join(out, name)
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "config.json"), "w") as f:
        json.dump(c, f, indent=1)
    entries = [(n, "BF16", tensors[n], int(np.prod(tensors[n])) * 2)
               for n in sorted(tensors)]
    write_sparse_safetensors(os.path.join(directory, "model.safetensors"),
                             entries)
    print(f"{directory}: {len(tensors)} tensors, {params:,} parameters "
          f"({params * 2 / 2**30:.2f} GiB as BF16, sparse)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", help="directory to write into (created)")
    parser.add_argument("--afm-size", action="store_true",
                        help="write only the full-size afm_on_device "
                             "directory, as a sparse file")
    parser.add_argument("--kv-shapes", action="store_true",
                        help="write only the models with real KV-cache "
                             "shapes (OUT/kv/)")
    parser.add_argument("--afm-bench", action="store_true",
                        help="write only the reduced-width AFM on-device "
                             "benchmark model (OUT/afm_bench, and "
                             "OUT/afm_bench_unshared without KV sharing)")
    args = parser.parse_args()
    if args.afm_size:
        write_afm_size(args.out)
        return 0
    if args.kv_shapes:
        for seed, (name, (c, t)) in enumerate(
                sorted(kv_shape_models().items()), start=500):
            write_hf(os.path.join(args.out, "kv", name), c, t, seed, "BF16")
        return 0
    if args.afm_bench:
        c, t = afm_bench_model()
        write_hf(os.path.join(args.out, "afm_bench"), c, t, 600, "BF16")
        c = dict(c, num_kv_reuse_layers=0)
        write_hf(os.path.join(args.out, "afm_bench_unshared"), c,
                 afm_on_device_tensors(c), 600, "BF16")
        return 0
    # Start clean so that a model removed from this script does not linger.
    for sub in ("hf", "bad", "adapters", "adapters-bad"):
        shutil.rmtree(os.path.join(args.out, sub), ignore_errors=True)
    os.makedirs(args.out, exist_ok=True)
    write_tiny(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
