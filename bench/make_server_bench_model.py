#!/usr/bin/python3
"""Writes the synthetic parallel-track benchmark model: an AFM-server-shaped
Hugging Face directory (`tracks` tracks of `blocks` blocks of depth
`depth`, the LLLG attention pattern, a mixture of experts every other layer)
with random weights, scaled so its decode fits this machine; only its shapes
matter for speed.

  make_server_bench_model.py OUTDIR [--tracks 4] [--hidden 512] ...

Prints a JSON line with the layer count and the all-reduces per token that
track parallelism needs (one per block) and that Megatron-style tensor
parallelism needs (two per layer; bench/track_ranks.sh measures both). Tensor names and layout come from
scripts/make_synthetic_models.py (its afm_server). Nothing written here
belongs in git.
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
import make_synthetic_models as synthetic  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("outdir")
    parser.add_argument("--tracks", type=int, default=4)
    parser.add_argument("--blocks", type=int, default=2)
    parser.add_argument("--depth", type=int, default=4)
    parser.add_argument("--hidden", type=int, default=512)
    parser.add_argument("--inter", type=int, default=1408)
    parser.add_argument("--experts", type=int, default=8)
    parser.add_argument("--vocab", type=int, default=4096)
    args = parser.parse_args()

    # 4 KV heads, so tensor parallelism can split them over 4 ranks.
    h, head_dim, heads, kv_heads = args.hidden, 64, args.hidden // 64, 4
    layers = args.blocks * args.depth
    config = synthetic.config(
        "afm_server", hidden_size=h, intermediate_size=args.inter,
        num_attention_heads=heads, num_key_value_heads=kv_heads,
        head_dim=head_dim, vocab_size=args.vocab, max_position_embeddings=2048,
        num_tracks=args.tracks, track_block_depth=args.depth,
        num_track_blocks=args.blocks, moe_layer_step=2,
        num_experts=args.experts, num_experts_per_tok=2,
        moe_intermediate_size=args.inter // 2, norm_topk_prob=True,
        attention_pattern="LLLG", sliding_window=256, rope_theta=500000.0,
        global_rope="none", track_combine="mean", tie_word_embeddings=True)
    config.pop("num_hidden_layers", None)
    shapes = {}
    for track in range(args.tracks):
        for j in range(layers):
            p = f"model.tracks.{track}.layers.{j}"
            shapes[f"{p}.input_layernorm.weight"] = (h,)
            shapes[f"{p}.post_attention_layernorm.weight"] = (h,)
            shapes.update(synthetic.attention_tensors(f"{p}.self_attn", h, heads,
                                                      kv_heads, head_dim))
            if (j + 1) % 2 == 0:
                shapes[f"{p}.mlp.router.weight"] = (args.experts, h)
                shapes.update(synthetic.experts(f"{p}.mlp.experts", args.experts, h,
                                                args.inter // 2))
            else:
                shapes.update(synthetic.mlp_tensors(f"{p}.mlp", h, args.inter))
    synthetic.ends(config, shapes)

    synthetic.write_random_model(args.outdir, config, shapes, "F16")
    print(json.dumps({"tracks": args.tracks, "layers_per_track": layers,
                      "blocks": args.blocks,
                      "track_parallel_all_reduces_per_token": args.blocks,
                      "tensor_parallel_all_reduces_per_token": 2 * layers}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
