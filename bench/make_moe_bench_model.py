#!/usr/bin/python3
"""Writes the synthetic MoE benchmark model: a Mixtral-style Hugging Face
directory (every layer a mixture of `experts` SwiGLU experts, top-k routed)
with random weights; only its shapes matter for speed.

  make_moe_bench_model.py OUTDIR [--experts 8] [--top-k 2] [--dtype F16]

Prints a JSON line with the bytes one decode token reads: the active
parameters (embedding row, attention, norms, routers, the top-k experts of
every layer, the output layer) and what an expert-by-expert run reads (all
experts of every layer). Tensor names and layout come from
scripts/make_synthetic_models.py. Nothing written here belongs in git.
"""

import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
import make_synthetic_models as synthetic  # noqa: E402

BYTES = {"F32": 4, "F16": 2, "BF16": 2}


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("outdir")
    parser.add_argument("--experts", type=int, default=8)
    parser.add_argument("--top-k", type=int, default=2)
    parser.add_argument("--hidden", type=int, default=512)
    parser.add_argument("--inter", type=int, default=1408)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--vocab", type=int, default=4096)
    parser.add_argument("--dtype", choices=sorted(BYTES), default="F16")
    args = parser.parse_args()

    h, n = args.hidden, args.experts
    config = synthetic.config(
        "mixtral", hidden_size=h, intermediate_size=args.inter,
        num_hidden_layers=args.layers, num_attention_heads=8, num_key_value_heads=2,
        vocab_size=args.vocab, max_position_embeddings=2048,
        num_local_experts=n, num_experts_per_tok=args.top_k, sliding_window=None)

    def ffn(i, p):
        t = {f"{p}.block_sparse_moe.gate.weight": (n, h)}
        t.update(synthetic.experts(f"{p}.block_sparse_moe.experts", n, h, args.inter,
                                   ("w1", "w3", "w2")))
        return t

    shapes = synthetic.llama_like(config, ffn=ffn)
    size = BYTES[args.dtype]
    synthetic.write_random_model(args.outdir, config, shapes, args.dtype)

    # Bytes one decode token reads, by parameter.
    expert_bytes = sum(int(np.prod(s)) * size for m, s in shapes.items() if ".experts." in m)
    embedding_row = h * size
    other = sum(int(np.prod(s)) * size for m, s in shapes.items()
                if ".experts." not in m and m != "model.embed_tokens.weight")
    active = embedding_row + other + expert_bytes * args.top_k // n
    all_experts = embedding_row + other + expert_bytes
    print(json.dumps({"active_bytes_per_token": active,
                      "expert_by_expert_bytes_per_token": all_experts,
                      "expert_bytes": expert_bytes, "experts": n, "top_k": args.top_k}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
