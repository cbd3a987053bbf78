#!/usr/bin/python3
"""Time to first token of a 512-token prompt on an AFM on-device-shaped model,
with and without KV sharing. Printed, never asserted.

    bench/kv_sharing_ttft.py [--build BUILD_DIR] [--threads N] [--runs R]

The model keeps AFM on-device's 56 layers and its 35:21 split (the last 21
layers read layer 34's cache) at reduced width (hidden 256, 4 query heads
and 2 KV heads of 64, FFN 512, vocab 512; scripts/make_synthetic_models.py
--afm-bench). Three artifacts of it:

  unshared   every layer owns a cache (the same model without sharing)
  shared     the AFM config; prefill runs layers 35-55 on the last prompt
             position only (the default)
  shared-all the AFM config compiled with --prefill-all-positions

Each runs `fmc-run --prompt-ids <512 ids> -n 1` R times (round robin over
the three); the median
ttft_ms of --stats-json is reported, and shared / unshared beside 35/56 =
0.625, the fraction of per-position prefill work left when 21 of 56 layers
compute one position (attention over a 512-token context and the logits of
one position are the same in both).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", default=os.path.join(root, "build"))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--prompt-tokens", type=int, default=512)
    args = parser.parse_args()
    bin_dir = os.path.join(args.build, "bin")
    out = os.path.join(args.build, "bench", "kv-sharing")
    os.makedirs(out, exist_ok=True)
    if not os.path.exists(os.path.join(out, "afm_bench", "config.json")):
        subprocess.run([sys.executable,
                        os.path.join(root, "scripts", "make_synthetic_models.py"),
                        out, "--afm-bench"], check=True)
    variants = {
        "unshared": (os.path.join(out, "afm_bench_unshared"), []),
        "shared": (os.path.join(out, "afm_bench"), []),
        "shared-all": (os.path.join(out, "afm_bench"),
                       ["--prefill-all-positions"]),
    }
    prompt = ",".join(str(3 + (i * 7) % 500) for i in range(args.prompt_tokens))
    artifacts = {}
    for name, (model, flags) in variants.items():
        artifacts[name] = os.path.join(out, name + ".fmc")
        subprocess.run([os.path.join(bin_dir, "fmc-compile"), model, "-o",
                        artifacts[name], "--prefill-tokens",
                        str(args.prompt_tokens), "--context", "1024"] + flags,
                       check=True, stdout=subprocess.DEVNULL)
    # Round robin over the variants, so that a shared machine's load drifts
    # over all of them alike.
    times = {name: [] for name in variants}
    for _ in range(args.runs):
        for name, artifact in artifacts.items():
            with tempfile.NamedTemporaryFile(suffix=".json") as stats:
                subprocess.run([os.path.join(bin_dir, "fmc-run"), artifact,
                                "--prompt-ids", prompt, "-n", "1",
                                "--threads", str(args.threads),
                                "--stats-json", stats.name],
                               check=True, stdout=subprocess.DEVNULL)
                with open(stats.name) as f:
                    times[name].append(json.load(f)["ttft_ms"])
    medians = {}
    for name in variants:
        medians[name] = statistics.median(times[name])
        print(f"{name:11s} ttft median {medians[name]:8.2f} ms  "
              f"(runs: {', '.join(f'{t:.1f}' for t in times[name])})")
    best = {name: min(t) for name, t in times.items()}
    print(f"shared / unshared      = {medians['shared'] / medians['unshared']:.3f}"
          f"  (expected prefill work 35/56 = 0.625; best runs: "
          f"{best['shared'] / best['unshared']:.3f})")
    print(f"shared-all / unshared  = "
          f"{medians['shared-all'] / medians['unshared']:.3f}"
          f"  (sharing without the prefill saving: only K/V projections go; "
          f"best runs: {best['shared-all'] / best['unshared']:.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
