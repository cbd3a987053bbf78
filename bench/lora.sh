#!/bin/sh
# LoRA adapters at run time: decode tokens/s of the synthetic 853M Llama at
# 2 bits (quantization-aware-trained weights, packed losslessly) without LoRA
# slots, with rank-R slots on the TARGETS projections of every layer and no
# adapter (zeros), and with a rank-R adapter applied; alternated in one run,
# medians of ROUNDS rounds, with the ratio to the plain base. Printed, never
# asserted. The slots are f16: at rank 32 on all seven projections they add
# 14.5% to the bytes a 2-bit decode step reads, on q_proj and v_proj (PEFT's
# usual targets) 2.8%.
#
#   bench/lora.sh [BUILD_DIR] [RANK] [ROUNDS] [TARGETS]
#   (default: build, 32, 3, q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj)
set -eu
rank=${2:-32}
rounds=${3:-3}
targets=${4:-q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj}
. "$(dirname "$0")/qat853m.sh"
tag=$(echo "$targets" | tr -d '_' | tr ',' '-')
slotted="$out/llama-853m-qat-2bit-lora$rank-$tag.fmc"
if [ ! -f "$slotted" ]; then
  qat_2bit_compile "$model" "$slotted" --lora-rank "$rank" \
      --lora-targets "$targets" | grep -E '^  (lora|total)'
fi
adapter="$out/llama-853m-lora$rank-$tag"
if [ ! -f "$adapter.fmca" ]; then
  /usr/bin/python3 "$root/bench/make_lora_adapter.py" "$model" "$adapter" \
      --rank "$rank" --targets "$targets"
  "$bin/fmc-compile" --adapter "$adapter" --base "$slotted" -o "$adapter.fmca"
fi

decode() { # artifact [fmc-bench flags...] -> decode tok/s (median of its repeats)
  artifact=$1; shift
  "$bin/fmc-bench" "$artifact" --prefill-tokens 16 --decode-tokens 32 \
      --repeat 3 --bandwidth-mb 256 --json "$out/lora.json" "$@" > /dev/null
  /usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["decode_tokens_per_s_median"])' "$out/lora.json"
}
plain="" zeros="" applied=""
i=0
while [ "$i" -lt "$rounds" ]; do
  plain="$plain $(decode "$out/llama-853m-qat-2bit.fmc")"
  zeros="$zeros $(decode "$slotted")"
  applied="$applied $(decode "$slotted" --adapter "$adapter.fmca")"
  i=$((i + 1))
done
/usr/bin/python3 - "$rank" "$targets" "$plain" "$zeros" "$applied" <<'PY'
import statistics, sys
rank, targets = sys.argv[1:3]
plain, zeros, applied = ([float(x) for x in a.split()] for a in sys.argv[3:])
base = statistics.median(plain)
print(f"decode tok/s, medians of {len(plain)} rounds (2-bit 853M, all threads; "
      f"slots on {targets}):")
for name, runs in (("2-bit base, no slots", plain),
                   (f"rank-{rank} slots, no adapter", zeros),
                   (f"rank-{rank} slots, adapter applied", applied)):
    m = statistics.median(runs)
    print(f"  {name:36s} {m:8.2f}   x{m / base:.3f} of the base   runs {runs}")
PY
