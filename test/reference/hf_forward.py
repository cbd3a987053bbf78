#!/usr/bin/env python3
"""Independent numpy reference forward pass for Hugging Face-style models.

Reads config.json + *.safetensors directly (no fmc code) and computes the
logits of every position of a token sequence with a full causal forward (no
KV cache), for the architectures fmc's passes and runtime must reproduce:

  llama / mistral / qwen2 (q/k/v bias), afm_on_device (qk-norm, KV sharing),
  afm_server (parallel tracks of track blocks, MoE every other layer, LLLG
  local/global NoPE attention), mixtral / qwen2_moe / olmoe style MoE,
  gemma2 / gemma3 (sandwich norms, soft-caps, sliding-window layers),
  cohere2 (parallel blocks, interleaved RoPE on sliding layers, NoPE global),
  llama4 (chunked RoPE layers with qk L2 norm, tuned NoPE layers, top-1 MoE).

Options reproduce fmc's model passes applied to a model that lacks them:
  --reuse-layers N       the last N layers attend to the keys/values of the
                         last earlier layer of the same kind (fm-share-kv-cache)
  --pattern P --window W [--global-rope none]
                         local/global attention by pattern (fm-interleave-attention)
  --kv-int8              keys/values stored as int8 with one scale per token
                         and head (max |x| / 127, round half away from zero)
  --adapter DIR          a PEFT LoRA adapter merged into the base weights
  --adapter-f16          its A and scale * B rounded to f16 first, as a
                         compiled adapter (.fmca) stores them
                         (W += alpha / r * B @ A, per module)

Output: raw little-endian f32 rows of vocab size, one per position, as
`fmc-run --logits-out` writes them. Run with /usr/bin/python3 (Debian numpy).
"""

import argparse
import json
import os
import re
import struct
import sys

import numpy as np

# --------------------------------------------------------------------------
# safetensors


def _read_safetensors(path):
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length))
        base = 8 + length
    tensors = {}
    data = np.memmap(path, dtype=np.uint8, mode="r")
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        raw = np.asarray(data[base + begin : base + end])
        dtype = info["dtype"]
        if dtype == "F32":
            values = raw.view("<f4")
        elif dtype == "F16":
            values = raw.view("<f2").astype(np.float32)
        elif dtype == "BF16":
            values = (raw.view("<u2").astype(np.uint32) << 16).view(np.float32)
        else:
            raise SystemExit(f"{path}: tensor {name}: unsupported dtype {dtype}")
        tensors[name] = values.astype(np.float32).reshape(info["shape"])
    return tensors


def load_model(directory):
    with open(os.path.join(directory, "config.json")) as f:
        config = json.load(f)
    index = os.path.join(directory, "model.safetensors.index.json")
    files = []
    if os.path.exists(index):
        with open(index) as f:
            files = sorted(set(json.load(f)["weight_map"].values()))
    else:
        files = sorted(n for n in os.listdir(directory) if n.endswith(".safetensors"))
    weights = {}
    for name in files:
        weights.update(_read_safetensors(os.path.join(directory, name)))
    return config, weights


# --------------------------------------------------------------------------
# PEFT LoRA adapters, as peft/tuners/lora defines them


def _peft_pattern(pattern, module, default):
    """rank_pattern / alpha_pattern: the value of the first key that is the
    module name or a regex suffix of it after a dot; else `default`."""
    for key, value in pattern.items():
        if module == key or re.match(rf".*\.{key}$", module):
            return value
    return default


def _peft_targets(target_modules, module):
    """A string is a full-match regex on the module name; a list names
    module suffixes."""
    if isinstance(target_modules, str):
        return re.fullmatch(target_modules, module) is not None
    return any(module == t or module.endswith("." + t) for t in target_modules)


def _adapter_error(directory, message):
    sys.exit(f"hf_forward: adapter {directory}: {message}")


def apply_lora(weights, directory, f16=False):
    """Merges the LoRA adapter in `directory` into `weights` in place:
    W += scale * (B @ A), in float64, with scale = alpha / r (alpha /
    sqrt(r) under use_rslora); with `f16`, A and scale * B are first
    rounded to f16 as fmc's .fmca stores them. What the reference does not model (DoRA,
    trained biases, transposed weights) is refused rather than ignored, so
    that it cannot pass for a match."""
    try:
        with open(os.path.join(directory, "adapter_config.json")) as f:
            config = json.load(f)
    except OSError as e:
        _adapter_error(directory, f"no adapter_config.json ({e.strerror})")
    if config.get("peft_type") != "LORA":
        _adapter_error(directory, f"peft_type {config.get('peft_type')!r} is not LORA")
    for key, fine in (("use_dora", False), ("bias", "none"), ("fan_in_fan_out", False)):
        if config.get(key, fine) != fine:
            _adapter_error(directory, f"{key} {config[key]!r} is not modelled")
    path = os.path.join(directory, "adapter_model.safetensors")
    if not os.path.exists(path):
        _adapter_error(directory, "no adapter_model.safetensors")
    tensors = _read_safetensors(path)
    pairs = {}
    for name, value in tensors.items():
        match = re.fullmatch(r"base_model\.model\.(.+)\.lora_([AB])\.weight", name)
        if not match:
            _adapter_error(directory, f"tensor {name} is not a LoRA A or B weight")
        pairs.setdefault(match.group(1), {})[match.group(2)] = value
    for module in sorted(pairs):
        base = f"{module}.weight"
        if base not in weights:
            _adapter_error(directory, f"module {module} has no base weight {base}")
        if set(pairs[module]) != {"A", "B"}:
            _adapter_error(directory, f"module {module} has lora_A or lora_B only")
        if not _peft_targets(config["target_modules"], module):
            _adapter_error(directory, f"module {module} is not in target_modules")
        r = _peft_pattern(config.get("rank_pattern") or {}, module, config["r"])
        alpha = _peft_pattern(config.get("alpha_pattern") or {}, module, config["lora_alpha"])
        a, b = pairs[module]["A"], pairs[module]["B"]
        out, inputs = weights[base].shape
        if a.shape != (r, inputs) or b.shape != (out, r):
            _adapter_error(directory, f"module {module}: lora_A {list(a.shape)} and lora_B "
                           f"{list(b.shape)} do not fit rank {r} and base {[out, inputs]}")
        scale = alpha / np.sqrt(r) if config.get("use_rslora") else alpha / r
        a, b = a.astype(np.float64), scale * b.astype(np.float64)
        if f16:
            # As a compiled adapter stores them: A and scale * B rounded
            # to f16 (through f32, as fmc converts them).
            a = a.astype(np.float32).astype(np.float16).astype(np.float64)
            b = b.astype(np.float32).astype(np.float16).astype(np.float64)
        merged = weights[base].astype(np.float64) + b @ a
        weights[base] = merged.astype(np.float32)


# --------------------------------------------------------------------------
# building blocks


def rms_norm(x, w, eps, offset=0.0, group=None):
    shape = x.shape
    if group is not None:
        x = x.reshape(shape[0], -1, group)
    y = x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps)
    if w is not None:
        y = y * (w + offset)
    return y.reshape(shape)


def rope_scaling(config, theta, rotated):
    """transformers' modeling_rope_utils: (inverse frequencies, attention
    factor) of config's rope_scaling (or rope_parameters), written out here
    from the formulas, independently of fmc's import/builder/RopeScaling.cpp."""
    inv = theta ** (-np.arange(0, rotated // 2, dtype=np.float64) * 2.0 / rotated)
    s = config.get("rope_scaling") or config.get("rope_parameters") or {}
    kind = s.get("rope_type", s.get("type", "default"))
    if kind == "default":
        return inv, 1.0
    factor = s["factor"]
    if kind == "linear":
        return inv / factor, 1.0
    if kind == "llama3":
        old = s["original_max_position_embeddings"]
        low, high = s["low_freq_factor"], s["high_freq_factor"]
        wavelen = 2 * np.pi / inv
        scaled = np.where(wavelen > old / low, inv / factor, inv)
        smooth = (old / wavelen - low) / (high - low)
        smoothed = (1 - smooth) * scaled / factor + smooth * scaled
        medium = ~(wavelen < old / high) & ~(wavelen > old / low)
        return np.where(medium, smoothed, scaled), 1.0
    if kind == "yarn":
        old = s.get("original_max_position_embeddings") or config["max_position_embeddings"]
        dim = rotated

        def corr(rotations):
            return dim * np.log(old / (rotations * 2 * np.pi)) / (2 * np.log(theta))
        low = max(np.floor(corr(s.get("beta_fast") or 32)), 0)
        high = min(np.ceil(corr(s.get("beta_slow") or 1)), dim - 1)
        if low == high:
            high += 0.001
        ramp = np.clip((np.arange(dim // 2) - low) / (high - low), 0, 1)
        extrapolation = 1 - ramp
        scaled = inv / factor * (1 - extrapolation) + inv * extrapolation
        mscale = 1.0 if factor <= 1 else 0.1 * np.log(factor) + 1.0
        return scaled, s.get("attention_factor") or mscale
    raise SystemExit(f"hf_forward: rope_type {kind} is not modelled")


def rope(x, positions, head_dim, theta, layout="rotate_half", fraction=1.0,
         config=None):
    tokens = x.shape[0]
    heads = x.reshape(tokens, -1, head_dim).copy()
    rotated = int(round(head_dim * fraction))
    half = rotated // 2
    inv, factor = rope_scaling(config or {}, theta, rotated)
    angles = positions[:, None].astype(np.float64) * inv[None, :]
    cos = (np.cos(angles) * factor)[:, None, :].astype(np.float32)
    sin = (np.sin(angles) * factor)[:, None, :].astype(np.float32)
    if layout == "rotate_half":
        a = heads[..., :half].copy()
        b = heads[..., half:rotated].copy()
        heads[..., :half] = a * cos - b * sin
        heads[..., half:rotated] = b * cos + a * sin
    else:
        a = heads[..., 0:rotated:2].copy()
        b = heads[..., 1:rotated:2].copy()
        heads[..., 0:rotated:2] = a * cos - b * sin
        heads[..., 1:rotated:2] = b * cos + a * sin
    return heads.reshape(x.shape)


def quantize_int8(x, kv_heads):
    """Per-token, per-head symmetric int8 round trip."""
    tokens = x.shape[0]
    h = x.reshape(tokens, kv_heads, -1)
    scale = np.max(np.abs(h), axis=-1, keepdims=True) / 127.0
    safe = np.where(scale == 0, 1.0, scale)
    q = np.clip(np.sign(h) * np.floor(np.abs(h) / safe + 0.5), -127, 127)
    return (q * scale).reshape(x.shape).astype(np.float32)


def attention(q, k, v, heads, kv_heads, head_dim, kind="global", window=None,
              scale=None, softcap=None):
    tokens = q.shape[0]
    scale = 1.0 / np.sqrt(head_dim) if scale is None else scale
    qh = q.reshape(tokens, heads, head_dim)
    kh = k.reshape(tokens, kv_heads, head_dim)
    vh = v.reshape(tokens, kv_heads, head_dim)
    group = heads // kv_heads
    i = np.arange(tokens)[:, None]
    j = np.arange(tokens)[None, :]
    visible = j <= i
    if kind == "local":
        visible &= (i - j) < window
    elif kind == "chunked":
        visible &= (i // window) == (j // window)
    out = np.zeros_like(qh)
    for h in range(heads):
        s = (qh[:, h, :] @ kh[:, h // group, :].T) * scale
        if softcap:
            s = softcap * np.tanh(s / softcap)
        s = np.where(visible, s, -np.inf)
        s = s - s.max(axis=-1, keepdims=True)
        p = np.exp(s)
        p /= p.sum(axis=-1, keepdims=True)
        out[:, h, :] = p @ vh[:, h // group, :]
    return out.reshape(tokens, heads * head_dim)


def silu(x):
    return x / (1.0 + np.exp(-x))


def ffn(x, gate, up, down):
    return (silu(x @ gate.T) * (x @ up.T)) @ down.T


def moe(x, router, experts, top_k, norm_topk, scoring="softmax", shared=None,
        shared_gate=None):
    """experts: list of (gate, up, down); shared: (gate, up, down) or None."""
    logits = x @ router.T
    if scoring == "softmax":
        z = logits - logits.max(axis=-1, keepdims=True)
        scores = np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)
    else:
        scores = 1.0 / (1.0 + np.exp(-logits))
    # Highest scores first; ties go to the lower expert index.
    order = np.argsort(-scores, axis=-1, kind="stable")[:, :top_k]
    weights = np.take_along_axis(scores, order, axis=-1)
    if norm_topk:
        weights = weights / weights.sum(axis=-1, keepdims=True)
    y = np.zeros_like(x)
    for t in range(x.shape[0]):
        for slot in range(top_k):
            gate, up, down = experts[order[t, slot]]
            y[t] += weights[t, slot] * ffn(x[t : t + 1], gate, up, down)[0]
    if shared is not None:
        s = ffn(x, *shared)
        if shared_gate is not None:
            s = s * (1.0 / (1.0 + np.exp(-(x @ shared_gate.T))))
        y = y + s
    return y


# --------------------------------------------------------------------------
# models


class Options:
    def __init__(self, reuse_layers=0, pattern=None, window=None,
                 global_rope="rope", kv_int8=False, adapter=None,
                 adapter_f16=False):
        self.reuse_layers = reuse_layers
        self.pattern = pattern
        self.window = window
        self.global_rope = global_rope
        self.kv_int8 = kv_int8
        self.adapter = adapter  # a PEFT LoRA directory merged into the weights
        self.adapter_f16 = adapter_f16  # its A and scale * B rounded to f16


def _layer_kind(config, options, j):
    """(kind, window, uses_rope) of layer j (counted within a track)."""
    pattern = options.pattern or config.get("attention_pattern")
    if pattern:
        letter = pattern[j % len(pattern)]
        window = options.window or config.get("sliding_window")
        if letter == "L":
            return "local", window, True
        nope = (options.global_rope if options.pattern else config.get("global_rope", "rope")) == "none"
        return "global", None, not nope
    # Hugging Face's own sliding windows: Mistral's on every layer, Qwen 2's
    # (use_sliding_window) on the layers from max_window_layers on.
    window = config.get("sliding_window")
    if window and config.get("model_type") == "mistral":
        return "local", window, True
    if (window and config.get("model_type") == "qwen2" and config.get("use_sliding_window")
            and j >= config.get("max_window_layers", 0)):
        return "local", window, True
    return "global", None, True


def _mlp(w, prefix, x, config, j):
    """Dense SwiGLU or one of the MoE layouts, by the tensors present."""
    if f"{prefix}.mlp.router.weight" in w:  # afm_server
        n = config["num_experts"]
        experts = [tuple(w[f"{prefix}.mlp.experts.{e}.{p}_proj.weight"] for p in ("gate", "up", "down"))
                   for e in range(n)]
        return moe(x, w[f"{prefix}.mlp.router.weight"], experts, config["num_experts_per_tok"],
                   config.get("norm_topk_prob", False))
    if f"{prefix}.block_sparse_moe.gate.weight" in w:  # mixtral
        n = config["num_local_experts"]
        experts = [tuple(w[f"{prefix}.block_sparse_moe.experts.{e}.{p}.weight"] for p in ("w1", "w3", "w2"))
                   for e in range(n)]
        return moe(x, w[f"{prefix}.block_sparse_moe.gate.weight"], experts,
                   config["num_experts_per_tok"], True)
    if f"{prefix}.mlp.gate.weight" in w:  # qwen2_moe / olmoe
        n = config["num_experts"]
        experts = [tuple(w[f"{prefix}.mlp.experts.{e}.{p}_proj.weight"] for p in ("gate", "up", "down"))
                   for e in range(n)]
        shared = None
        if f"{prefix}.mlp.shared_expert.gate_proj.weight" in w:
            shared = tuple(w[f"{prefix}.mlp.shared_expert.{p}_proj.weight"] for p in ("gate", "up", "down"))
        return moe(x, w[f"{prefix}.mlp.gate.weight"], experts, config["num_experts_per_tok"],
                   config.get("norm_topk_prob", False), shared=shared,
                   shared_gate=w.get(f"{prefix}.mlp.shared_expert_gate.weight"))
    return ffn(x, w[f"{prefix}.mlp.gate_proj.weight"], w[f"{prefix}.mlp.up_proj.weight"],
               w[f"{prefix}.mlp.down_proj.weight"])


def _run_layers(w, config, options, prefixes, h, positions, caches, layer_offset=0):
    """Runs the decoder layers named by `prefixes` (layer j = index in the list
    plus layer_offset, for patterns). caches[i] holds layer i's (k, v, kind)."""
    heads = config["num_attention_heads"]
    kv_heads = config["num_key_value_heads"]
    head_dim = config.get("head_dim") or config["hidden_size"] // heads
    eps = config["rms_norm_eps"]
    theta = config.get("rope_theta", 10000.0)
    layout = config.get("fmc_rope_layout", "rotate_half")
    fraction = config.get("partial_rotary_factor", 1.0)
    count = len(prefixes) + layer_offset
    total = config.get("num_hidden_layers", count)
    reuse = options.reuse_layers or config.get("num_kv_reuse_layers", 0)
    for index, prefix in enumerate(prefixes):
        j = index + layer_offset
        kind, window, uses_rope = _layer_kind(config, options, j)
        x = rms_norm(h, w[f"{prefix}.input_layernorm.weight"], eps)
        q = x @ w[f"{prefix}.self_attn.q_proj.weight"].T
        if f"{prefix}.self_attn.q_proj.bias" in w:
            q = q + w[f"{prefix}.self_attn.q_proj.bias"]
        if f"{prefix}.self_attn.q_norm.weight" in w:
            qn = w[f"{prefix}.self_attn.q_norm.weight"]
            # Per head (Qwen3, AFM), or over the whole projection (OLMoE).
            q = rms_norm(q, qn, eps, group=head_dim if qn.size == head_dim else None)
        if uses_rope:
            q = rope(q, positions, head_dim, theta, layout, fraction, config)
        is_reader = reuse and j >= total - reuse
        if is_reader:
            # The last earlier layer of the same kind that owns a cache.
            source = max(i for i, c in caches.items() if i < total - reuse and c[2] == kind)
            k, v, _ = caches[source]
        else:
            k = x @ w[f"{prefix}.self_attn.k_proj.weight"].T
            v = x @ w[f"{prefix}.self_attn.v_proj.weight"].T
            if f"{prefix}.self_attn.k_proj.bias" in w:
                k = k + w[f"{prefix}.self_attn.k_proj.bias"]
                v = v + w[f"{prefix}.self_attn.v_proj.bias"]
            if f"{prefix}.self_attn.k_norm.weight" in w:
                kn = w[f"{prefix}.self_attn.k_norm.weight"]
                k = rms_norm(k, kn, eps, group=head_dim if kn.size == head_dim else None)
            if uses_rope:
                k = rope(k, positions, head_dim, theta, layout, fraction, config)
            if options.kv_int8:
                k = quantize_int8(k, kv_heads)
                v = quantize_int8(v, kv_heads)
            caches[j] = (k, v, kind)
        a = attention(q, k, v, heads, kv_heads, head_dim, kind, window)
        h = h + a @ w[f"{prefix}.self_attn.o_proj.weight"].T
        x = rms_norm(h, w[f"{prefix}.post_attention_layernorm.weight"], eps)
        h = h + _mlp(w, prefix, x, config, j)
    return h


def _qkv(w, prefix, x):
    """The q, k and v projections (no biases) of layer `prefix`."""
    return tuple(x @ w[f"{prefix}.self_attn.{n}_proj.weight"].T for n in "qkv")


def gelu_tanh(x):
    return 0.5 * x * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (x + 0.044715 * x ** 3)))


def _gemma_forward(config, w, tokens, positions):
    """Gemma 2 and Gemma 3 (text) as Hugging Face's modeling files define
    them: embeddings scaled by sqrt(hidden); RMSNorm weights applied as
    1 + w; norms before and after both attention and MLP; GeLU-tanh;
    scores scaled by query_pre_attn_scalar^-1/2 and soft-capped; sliding-
    window layers (Gemma 2: the even ones; Gemma 3: all but every
    sliding_window_pattern-th, with RoPE base rope_local_base_freq); per-head
    q/k norms on Gemma 3; a soft-capped final logit."""
    gemma3 = config["model_type"].startswith("gemma3")
    heads = config["num_attention_heads"]
    kv_heads = config["num_key_value_heads"]
    head_dim = config.get("head_dim") or config["hidden_size"] // heads
    eps = config["rms_norm_eps"]
    scale = config["query_pre_attn_scalar"] ** -0.5
    softcap = config.get("attn_logit_softcapping")
    h = w["model.embed_tokens.weight"][tokens] * np.float32(np.sqrt(config["hidden_size"]))

    def norm(x, name, group=None):
        return rms_norm(x, w[name], eps, offset=1.0, group=group)

    for i in range(config["num_hidden_layers"]):
        p = f"model.layers.{i}"
        if gemma3:
            sliding = (i + 1) % config.get("sliding_window_pattern", 6) != 0
            theta = config.get("rope_local_base_freq", 10000.0) if sliding else config["rope_theta"]
        else:
            sliding = i % 2 == 0
            theta = config["rope_theta"]
        x = norm(h, f"{p}.input_layernorm.weight")
        q, k, v = _qkv(w, p, x)
        if gemma3:
            q = norm(q, f"{p}.self_attn.q_norm.weight", group=head_dim)
            k = norm(k, f"{p}.self_attn.k_norm.weight", group=head_dim)
        q = rope(q, positions, head_dim, theta)
        k = rope(k, positions, head_dim, theta)
        a = attention(q, k, v, heads, kv_heads, head_dim,
                      "local" if sliding else "global",
                      config["sliding_window"] if sliding else None,
                      scale=scale, softcap=softcap)
        h = h + norm(a @ w[f"{p}.self_attn.o_proj.weight"].T,
                     f"{p}.post_attention_layernorm.weight")
        x = norm(h, f"{p}.pre_feedforward_layernorm.weight")
        m = (gelu_tanh(x @ w[f"{p}.mlp.gate_proj.weight"].T) *
             (x @ w[f"{p}.mlp.up_proj.weight"].T)) @ w[f"{p}.mlp.down_proj.weight"].T
        h = h + norm(m, f"{p}.post_feedforward_layernorm.weight")
    h = norm(h, "model.norm.weight")
    logits = h @ w.get("lm_head.weight", w["model.embed_tokens.weight"]).T
    final = config.get("final_logit_softcapping")
    if final:
        logits = final * np.tanh(logits / final)
    return logits.astype(np.float32)


def layer_norm(x, w, eps):
    mean = np.mean(x, axis=-1, keepdims=True)
    var = np.mean((x - mean) ** 2, axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * w


def _cohere2_forward(config, w, tokens, positions):
    """Cohere 2 as Hugging Face's modeling file defines it: parallel blocks
    (one LayerNorm without bias feeds attention and the SwiGLU MLP, both
    added to the residual); sliding-window layers with interleaved RoPE and
    every sliding_window_pattern-th layer global with no positions; tied
    output embedding scaled by logit_scale."""
    heads = config["num_attention_heads"]
    kv_heads = config["num_key_value_heads"]
    head_dim = config.get("head_dim") or config["hidden_size"] // heads
    eps = config["layer_norm_eps"]
    pattern = config.get("sliding_window_pattern", 4)
    h = w["model.embed_tokens.weight"][tokens]
    for i in range(config["num_hidden_layers"]):
        p = f"model.layers.{i}"
        sliding = (i + 1) % pattern != 0
        x = layer_norm(h, w[f"{p}.input_layernorm.weight"], eps)
        q, k, v = _qkv(w, p, x)
        if sliding:
            q = rope(q, positions, head_dim, config["rope_theta"], "interleaved")
            k = rope(k, positions, head_dim, config["rope_theta"], "interleaved")
        a = attention(q, k, v, heads, kv_heads, head_dim,
                      "local" if sliding else "global",
                      config["sliding_window"] if sliding else None)
        m = ffn(x, w[f"{p}.mlp.gate_proj.weight"], w[f"{p}.mlp.up_proj.weight"],
                w[f"{p}.mlp.down_proj.weight"])
        h = h + a @ w[f"{p}.self_attn.o_proj.weight"].T + m
    h = layer_norm(h, w["model.norm.weight"], eps)
    logits = (h @ w["model.embed_tokens.weight"].T) * config.get("logit_scale", 1.0)
    return logits.astype(np.float32)


def _llama4_forward(config, w, tokens, positions):
    """Llama 4 (text) as Hugging Face's modeling file defines it: RoPE
    layers (no_rope_layers[i] = 1) with interleaved (complex) RoPE, an
    L2 norm of q and k after it (use_qk_norm) and chunked attention; NoPE
    layers with global attention whose queries are scaled by
    log(floor((p + 1) / floor_scale) + 1) * attn_scale + 1; MoE every
    interleave_moe_layer_step-th layer: the top-1 expert applied to the
    input scaled by its sigmoid router score, plus a shared expert."""
    heads = config["num_attention_heads"]
    kv_heads = config["num_key_value_heads"]
    head_dim = config.get("head_dim") or config["hidden_size"] // heads
    eps = config["rms_norm_eps"]
    step = config.get("interleave_moe_layer_step", 1)
    h = w["model.embed_tokens.weight"][tokens]
    for i in range(config["num_hidden_layers"]):
        p = f"model.layers.{i}"
        uses_rope = bool(config["no_rope_layers"][i])
        x = rms_norm(h, w[f"{p}.input_layernorm.weight"], eps)
        q, k, v = _qkv(w, p, x)
        if uses_rope:
            q = rope(q, positions, head_dim, config["rope_theta"], "interleaved")
            k = rope(k, positions, head_dim, config["rope_theta"], "interleaved")
            if config.get("use_qk_norm"):
                q = rms_norm(q, None, eps, group=head_dim)
                k = rms_norm(k, None, eps, group=head_dim)
        elif config.get("attn_temperature_tuning"):
            scales = np.log(np.floor((positions + 1.0) / config["floor_scale"]) + 1.0)
            q = q * (scales * config["attn_scale"] + 1.0)[:, None].astype(np.float32)
        a = attention(q, k, v, heads, kv_heads, head_dim,
                      "chunked" if uses_rope else "global",
                      config["attention_chunk_size"] if uses_rope else None)
        h = h + a @ w[f"{p}.self_attn.o_proj.weight"].T
        x = rms_norm(h, w[f"{p}.post_attention_layernorm.weight"], eps)
        f = f"{p}.feed_forward"
        if (i + 1) % step == 0:
            logits = x @ w[f"{f}.router.weight"].T
            top = np.argmax(logits, axis=-1)  # Ties: the lower expert.
            score = 1.0 / (1.0 + np.exp(-logits[np.arange(len(x)), top]))
            out = ffn(x, w[f"{f}.shared_expert.gate_proj.weight"],
                      w[f"{f}.shared_expert.up_proj.weight"],
                      w[f"{f}.shared_expert.down_proj.weight"])
            for t in range(len(x)):
                e = f"{f}.experts.{top[t]}"
                out[t] += ffn((x[t] * score[t])[None, :], w[f"{e}.gate_proj.weight"],
                              w[f"{e}.up_proj.weight"], w[f"{e}.down_proj.weight"])[0]
        else:
            out = ffn(x, w[f"{f}.gate_proj.weight"], w[f"{f}.up_proj.weight"],
                      w[f"{f}.down_proj.weight"])
        h = h + out
    h = rms_norm(h, w["model.norm.weight"], eps)
    head = w.get("lm_head.weight", w["model.embed_tokens.weight"])
    return (h @ head.T).astype(np.float32)


def forward(directory, tokens, options=None):
    """The logits [positions, vocab] of `tokens` for the model in `directory`,
    with options.adapter (a PEFT LoRA directory) merged first when given."""
    options = options or Options()
    config, w = load_model(directory)
    if options.adapter:
        apply_lora(w, options.adapter, options.adapter_f16)
    tokens = np.asarray(tokens, dtype=np.int64)
    positions = np.arange(len(tokens))
    if config.get("model_type") in ("gemma2", "gemma3", "gemma3_text"):
        return _gemma_forward(config, w, tokens, positions)
    if config.get("model_type") == "cohere2":
        return _cohere2_forward(config, w, tokens, positions)
    if config.get("model_type") in ("llama4", "llama4_text"):
        return _llama4_forward(config, w, tokens, positions)
    h = w["model.embed_tokens.weight"][tokens]
    if config.get("model_type") == "afm_server":
        tracks = config["num_tracks"]
        depth = config["track_block_depth"]
        blocks = config["num_track_blocks"]
        track_caches = [dict() for _ in range(tracks)]
        for b in range(blocks):
            outs = []
            for t in range(tracks):
                prefixes = [f"model.tracks.{t}.layers.{b * depth + d}" for d in range(depth)]
                outs.append(_run_layers(w, config, options, prefixes, h, positions,
                                        track_caches[t], layer_offset=b * depth))
            h = np.mean(outs, axis=0) if config.get("track_combine", "mean") == "mean" else np.sum(outs, axis=0)
    else:
        layers = config["num_hidden_layers"]
        h = _run_layers(w, config, options, [f"model.layers.{i}" for i in range(layers)],
                        h, positions, {})
    h = rms_norm(h, w["model.norm.weight"], config["rms_norm_eps"])
    head = w.get("lm_head.weight", w["model.embed_tokens.weight"])
    return (h @ head.T).astype(np.float32)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", help="Hugging Face-style model directory")
    parser.add_argument("--tokens", required=True, help="comma-separated token ids")
    parser.add_argument("--out", required=True, help="raw f32 logits file to write")
    parser.add_argument("--reuse-layers", type=int, default=0)
    parser.add_argument("--pattern")
    parser.add_argument("--window", type=int)
    parser.add_argument("--global-rope", default="rope", choices=["rope", "none"])
    parser.add_argument("--kv-int8", action="store_true")
    parser.add_argument("--adapter", help="PEFT LoRA adapter directory to merge")
    parser.add_argument("--adapter-f16", action="store_true",
                        help="round A and scale * B to f16 first, as .fmca stores them")
    args = parser.parse_args(argv)
    options = Options(args.reuse_layers, args.pattern, args.window, args.global_rope, args.kv_int8,
                      args.adapter, args.adapter_f16)
    tokens = [int(t) for t in args.tokens.split(",") if t]
    logits = forward(args.model, tokens, options)
    logits.astype("<f4").tofile(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
