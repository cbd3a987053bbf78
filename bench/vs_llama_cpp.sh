#!/bin/sh
# fmc against llama.cpp on the same weights, in one run: the synthetic 853M
# Llama as an F16 GGUF (bench/make_gguf_bench_model.py --type F16), which
# llama-quantize turns into Q4_0 and TQ2_0 and fmc compiles as f16, as 4-bit
# (balanced grid, groups of 32, f16 scales: Q4_0's own layout of 4.5 bits a
# weight, where llama.cpp keeps a 6-bit head) and as 2-bit (balanced grid,
# groups of 64, with a 4-bit embedding and head), each at no more bits per
# weight than its llama.cpp peer. For each width the engines run in turn,
# ROUNDS times, each run measuring prefill of 512 tokens and 32 decode
# steps on THREADS threads; fmc-bench also measures the read bandwidth in
# its run. Prints the medians, the ratios fmc / llama.cpp and fmc's decode
# as a share of the read bandwidth. Printed, never asserted.
#
#   bench/vs_llama_cpp.sh LLAMA_CPP_BIN [BUILD_DIR] [ROUNDS] [THREADS]
#
# LLAMA_CPP_BIN is a directory holding llama-bench and llama-quantize of a
# llama.cpp built beside the project for this measurement only (for
# example from the git bundle node-llama-cpp@3.22.1 carries, llama.cpp
# v0.5.0: git clone llama/gitRelease.bundle, then cmake -DGGML_NATIVE=ON and
# ninja llama-bench llama-quantize). This script neither builds nor
# downloads it. Models go to BUILD_DIR/bench/vs (about 3.5 GB).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
llama=$(cd "${1:?usage: vs_llama_cpp.sh LLAMA_CPP_BIN [BUILD_DIR] [ROUNDS] [THREADS]}" && pwd)
build=$(cd "${2:-$root/build}" && pwd)
rounds=${3:-3}
threads=${4:-2}
bin="$build/bin"
out="$build/bench/vs"
mkdir -p "$out"
for tool in llama-bench llama-quantize; do
  [ -x "$llama/$tool" ] || { echo "vs_llama_cpp.sh: no $tool in $llama" >&2; exit 1; }
done

f16="$out/llama-853m-F16.gguf"
[ -f "$f16" ] || /usr/bin/python3 "$root/bench/make_gguf_bench_model.py" "$f16" --type F16
for type in Q4_0 TQ2_0; do
  [ -f "$out/llama-853m-$type.gguf" ] ||
    "$llama/llama-quantize" "$f16" "$out/llama-853m-$type.gguf" "$type" 2 > "$out/quantize-$type.log" 2>&1
done
compile() { # name, fmc-compile options...
  name=$1; shift
  [ -f "$out/fmc-$name.fmc" ] ||
    "$bin/fmc-compile" "$f16" --context 1024 --prefill-tokens 512 "$@" \
        -o "$out/fmc-$name.fmc" > /dev/null
}
compile f16
compile 4bit --quantize=linear:4:balanced:32,embedding:4:balanced:32,output:4:balanced:32
compile 2bit --quantize=afm,output:4:affine:64:f16

# One row per run: engine width prefill_tok_s decode_tok_s [bandwidth_fraction]
runs="$out/runs.txt"
: > "$runs"
for round in $(seq "$rounds"); do
  for pair in "f16 F16" "4bit Q4_0" "2bit TQ2_0"; do
    set -- $pair
    gguf="$out/llama-853m-$2.gguf"
    [ "$2" = F16 ] && gguf="$f16"
    "$llama/llama-bench" -m "$gguf" -p 512 -n 32 -t "$threads" -r 1 -o json \
        2> /dev/null > "$out/llama.json"
    /usr/bin/python3 - "$out/llama.json" "$1" >> "$runs" <<'EOF'
import json, sys
runs = json.load(open(sys.argv[1]))
pp = [r["avg_ts"] for r in runs if r["n_prompt"] > 0 and r["n_gen"] == 0]
tg = [r["avg_ts"] for r in runs if r["n_gen"] > 0 and r["n_prompt"] == 0]
print("llama.cpp", sys.argv[2], pp[0], tg[0])
EOF
    "$bin/fmc-bench" "$out/fmc-$1.fmc" --threads "$threads" --prefill-tokens 512 \
        --decode-tokens 32 --repeat 1 --bandwidth-mb 1024 --json "$out/fmc.json" > /dev/null
    /usr/bin/python3 - "$out/fmc.json" "$1" >> "$runs" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
print("fmc", sys.argv[2], r["prefill_tokens_per_s"], r["decode_tokens_per_s"],
      r["bandwidth_fraction"])
EOF
  done
done

/usr/bin/python3 - "$runs" "$out" <<'EOF'
import os, statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
def med(engine, width, column):
    return statistics.median(float(r[column]) for r in rows
                             if r[0] == engine and r[1] == width)
# Parameters: the F16 file's bytes (metadata is a rounding error) / 2.
params = os.path.getsize(os.path.join(sys.argv[2], "llama-853m-F16.gguf")) / 2
print(f"== fmc vs llama.cpp, synthetic Llama 853M, medians of "
      f"{len([r for r in rows if r[0] == 'fmc' and r[1] == 'f16'])} alternated runs")
print(f"{'width':28s} {'prefill 512 tok/s':>24s} {'decode tok/s':>22s} "
      f"{'fmc decode / read bw':>21s}")
for width, gguf in (("f16", "F16"), ("4bit", "Q4_0"), ("2bit", "TQ2_0")):
    fmc_bytes = os.path.getsize(os.path.join(sys.argv[2], f"fmc-{width}.fmc"))
    name = os.path.join(sys.argv[2], f"llama-853m-{gguf}.gguf")
    llama_bytes = os.path.getsize(name)
    label = (f"{width} ({8 * fmc_bytes / params:.2f} vs "
             f"{gguf} {8 * llama_bytes / params:.2f} bpw)")
    pf, pl = med("fmc", width, 2), med("llama.cpp", width, 2)
    df, dl = med("fmc", width, 3), med("llama.cpp", width, 3)
    share = med("fmc", width, 4)
    print(f"{label:28s} {pf:7.1f} / {pl:6.1f} = x{pf / pl:4.2f} "
          f"{df:6.1f} / {dl:5.1f} = x{df / dl:4.2f} {100 * share:20.0f}%")
EOF
