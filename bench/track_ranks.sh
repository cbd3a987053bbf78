#!/bin/sh
# Track parallelism against tensor parallelism on CPU ranks over loopback:
# the AFM-server-shaped model of bench/make_server_bench_model.py (4
# tracks, 2 blocks of depth 4) as one process, split by tracks over 2 and 4
# ranks (fmc-compile --track-ranks) and Megatron-style over 2 and 4 ranks
# (--tensor-ranks), run with mpirun -np N, each rank with THREADS/N threads
# (at least 1). Prints, per form, the medians of RUNS runs of decode tok/s,
# the all-reduces per token (track-parallel: one per block, L/D;
# tensor-parallel: two per layer, 2L, the tracks' batched into one
# exchange) and the bytes each rank sends per token, as read from each
# run's --stats-json. Printed, never asserted. Ranks share this machine's
# cores and memory bandwidth: the figures measure the synchronization
# cost, not a speed-up from more hardware.
#
#   bench/track_ranks.sh [BUILD_DIR] [RUNS] [THREADS]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
runs=${2:-5}
threads=${3:-$(nproc)}
out="$build/bench/track_ranks"
bin="$build/bin"
mkdir -p "$out"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

if [ ! -f "$out/model/model.safetensors" ]; then
  /usr/bin/python3 "$root/bench/make_server_bench_model.py" "$out/model" > "$out/model.json"
fi
compile() { # artifact [flags...]
  artifact=$1; shift
  [ -f "$artifact" ] || [ -f "${artifact%.fmc}.rank0.fmc" ] ||
    "$bin/fmc-compile" "$out/model" --context 512 --prefill-tokens 64 -o "$artifact" "$@" > /dev/null
}
compile "$out/whole.fmc"
compile "$out/two.fmc" --track-ranks 2
compile "$out/four.fmc" --track-ranks 4
compile "$out/tp2.fmc" --tensor-ranks 2
compile "$out/tp4.fmc" --tensor-ranks 4

run() { # form ranks
  form=$1 ranks=$2
  per=$((threads / ranks)); [ "$per" -ge 1 ] || per=1
  i=0
  while [ "$i" -lt "$runs" ]; do
    if [ "$ranks" = 1 ]; then
      "$bin/fmc-run" "$out/$form.fmc" --prompt-ids 1,5,9,2,7,3,8,4 -n 64 --ignore-eos \
          --seed 1 --threads "$per" --stats-json "$out/$form.$i.json" > /dev/null
    else
      mpirun --oversubscribe -np "$ranks" "$bin/fmc-run" "$out/$form.fmc" \
          --prompt-ids 1,5,9,2,7,3,8,4 -n 64 --ignore-eos --seed 1 --threads "$per" \
          --stats-json "$out/$form.$i.json" > /dev/null
    fi
    i=$((i + 1))
  done
}
run whole 1
run two 2
run four 4
run tp2 2
run tp4 4

/usr/bin/python3 - "$out" "$runs" <<'PY'
import json, statistics, sys
out, runs = sys.argv[1], int(sys.argv[2])
model = json.load(open(f"{out}/model.json"))
print(f"AFM-server-shaped model: {model['tracks']} tracks, {model['blocks']} blocks, "
      f"{model['layers_per_track']} layers per track; medians of {runs} runs")
print(f"{'form':<26}{'decode tok/s':>13}{'all-reduces/token':>19}{'bytes/token/rank':>18}")
base = None
measured = {}
for form, label in (("whole", "1 process"), ("two", "track-parallel, 2 ranks"),
                    ("four", "track-parallel, 4 ranks"),
                    ("tp2", "tensor-parallel, 2 ranks"),
                    ("tp4", "tensor-parallel, 4 ranks")):
    stats = [json.load(open(f"{out}/{form}.{i}.json")) for i in range(runs)]
    tps = statistics.median(s["decode_tokens_per_s"] for s in stats)
    base = base or tps
    reduces = stats[0].get("all_reduces_per_token", 0)
    sent = stats[0].get("all_reduce_bytes_per_token", 0)
    print(f"{label:<26}{tps:>13.1f}{reduces:>19}{sent:>18}   x{tps / base:.2f} of 1 process")
    measured[form] = (tps, reduces)
for ranks in (2, 4):
    track = measured[{2: "two", 4: "four"}[ranks]]
    tensor = measured[f"tp{ranks}"]
    print(f"{ranks} ranks: track-parallel makes {track[1]} all-reduces a token, "
          f"tensor-parallel {tensor[1]} ({100 * (1 - track[1] / tensor[1]):.1f}% fewer; "
          f"model: L/D = {model['track_parallel_all_reduces_per_token']}, "
          f"2L = {model['tensor_parallel_all_reduces_per_token']}); decode "
          f"x{track[0] / tensor[0]:.2f} of tensor-parallel")
PY
