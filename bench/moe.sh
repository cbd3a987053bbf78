#!/bin/sh
# Mixture-of-experts decode: the fused fm.moe kernel (which reads only the
# selected experts' rows) against the expert-by-expert form that runs every
# expert (fmc-compile --fuse-moe=false), on a synthetic Mixtral-style model
# (8 experts, top-2 by default). Prints medians of RUNS fmc-bench runs and the
# weight bytes each form reads per decode token against the active-parameter
# bytes. Printed, never asserted.
#
#   bench/moe.sh [BUILD_DIR] [RUNS] [THREADS]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
runs=${2:-5}
threads=${3:-$(nproc)}
out="$build/bench/moe"
bin="$build/bin"
mkdir -p "$out"

/usr/bin/python3 "$root/bench/make_moe_bench_model.py" "$out/model" > "$out/bytes.json"
"$bin/fmc-compile" "$out/model" --context 512 --prefill-tokens 128 -o "$out/fused.fmc" > /dev/null
"$bin/fmc-compile" "$out/model" --context 512 --prefill-tokens 128 --fuse-moe=false \
    -o "$out/unfused.fmc" > /dev/null

for form in fused unfused; do
  i=0
  while [ "$i" -lt "$runs" ]; do
    "$bin/fmc-bench" "$out/$form.fmc" --threads "$threads" --prefill-tokens 128 \
        --decode-tokens 64 --repeat 1 --bandwidth-mb 256 --json "$out/$form.$i.json" > /dev/null
    i=$((i + 1))
  done
done

/usr/bin/python3 - "$out" "$runs" "$threads" <<'PY'
import json, statistics, sys
out, runs, threads = sys.argv[1], int(sys.argv[2]), sys.argv[3]
bytes_ = json.load(open(f"{out}/bytes.json"))
def median(form, key):
    return statistics.median(json.load(open(f"{out}/{form}.{i}.json"))[key] for i in range(runs))
fused, unfused = median("fused", "decode_tokens_per_s"), median("unfused", "decode_tokens_per_s")
pf, pu = median("fused", "prefill_tokens_per_s"), median("unfused", "prefill_tokens_per_s")
bw = median("fused", "read_bandwidth_gb_per_s")
active = bytes_["active_bytes_per_token"]
every = bytes_["expert_by_expert_bytes_per_token"]
print(f"synthetic MoE: {bytes_['experts']} experts, top-{bytes_['top_k']}, {threads} threads, "
      f"median of {runs} runs")
print(f"  decode   fused {fused:8.1f} tok/s   unfused {unfused:8.1f} tok/s   ratio {fused / unfused:.2f}x")
print(f"  prefill  fused {pf:8.1f} tok/s   unfused {pu:8.1f} tok/s   ratio {pf / pu:.2f}x")
print(f"  weight bytes read per decode token: fused {active / 1e6:.2f} MB "
      f"(= active parameters, ratio 1.00), unfused {every / 1e6:.2f} MB "
      f"(ratio {every / active:.2f} to active)")
print(f"  achieved weight traffic: fused {active * fused / 1e9:.2f} GB/s, unfused "
      f"{every * unfused / 1e9:.2f} GB/s (read bandwidth {bw:.2f} GB/s)")
PY
