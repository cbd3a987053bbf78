#!/bin/sh
# Mixture-of-experts decode: the fused fm.moe kernel (which reads only the
# selected experts' rows) against the expert-by-expert form that runs every
# expert (fmc-compile --fuse-moe=false), on a synthetic Mixtral-style model
# (8 experts, top-2 by default). Prints medians of RUNS fmc-bench runs and the
# weight bytes each form reads per decode token against the active-parameter
# bytes. Then the fused form with 2-bit experts and linears
# (--quantize=linear:2:balanced:64:f16; router, embedding and head f16)
# against the fused f16 form: decode tok/s, and the weight bytes the 2-bit
# kernels read per decode token (from the artifact's tensor table: every
# dense tensor, one embedding row, top-k/experts of each packed expert
# stack, since the kernel reads only the selected experts' slices of codes
# and scales) against the active-parameter bytes at 16 bits. Printed, never
# asserted.
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
"$bin/fmc-compile" "$out/model" --context 512 --prefill-tokens 128 \
    --quantize=linear:2:balanced:64:f16 -o "$out/fused2.fmc" > /dev/null
/usr/bin/python3 "$root/test/Tools/Inputs/fmc_tensors.py" "$out/fused2.fmc" --json \
    > "$out/fused2.tensors.json"

for form in fused unfused fused2; do
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
# The 2-bit fused form: what one decode token reads, from the tensor table.
tensors = json.load(open(f"{out}/fused2.tensors.json"))
cfg = json.load(open(f"{out}/model/config.json"))
experts, top_k = bytes_["experts"], bytes_["top_k"]
read2 = 0
for t in tensors:
    if t["name"] == "model.embed_tokens.weight":
        read2 += t["bytes"] // t["shape"][0]
    elif len(t["shape"]) == 3 and ".experts." in t["name"]:
        read2 += t["bytes"] * top_k // experts
    else:
        read2 += t["bytes"]
q2 = median("fused2", "decode_tokens_per_s")
print(f"  decode   fused 2-bit {q2:8.1f} tok/s   fused f16 {fused:8.1f} tok/s   ratio {q2 / fused:.2f}x")
print(f"  weight bytes read per decode token, fused 2-bit: {read2 / 1e6:.2f} MB "
      f"(active parameters at f16: {active / 1e6:.2f} MB, ratio {read2 / active:.3f}; "
      f"all experts at 2 bits would be {(read2 + sum(t['bytes'] * (experts - top_k) // experts for t in tensors if len(t['shape']) == 3 and '.experts.' in t['name'])) / 1e6:.2f} MB)")
print(f"  achieved weight traffic: fused {active * fused / 1e9:.2f} GB/s, unfused "
      f"{every * unfused / 1e9:.2f} GB/s (read bandwidth {bw:.2f} GB/s)")
PY
