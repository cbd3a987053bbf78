#!/bin/sh
# Speculative decoding: greedy decode tokens/s of the synthetic 853M Llama at
# 2 bits alone and with a self-similar draft (its first DRAFT_LAYERS layers,
# same embedding and head, also 2-bit) proposing K = 4 and 8 tokens per
# target pass; the acceptance rate and the speed-up over plain decode,
# alternated in one run, medians of ROUNDS rounds. Printed, never asserted.
# (The weights are random: acceptance says how alike the two models are,
# not what a trained draft would reach.)
#
#   bench/speculative.sh [BUILD_DIR] [DRAFT_LAYERS] [ROUNDS]  (default: build, 4, 3)
set -eu
layers=${2:-4}
rounds=${3:-3}
. "$(dirname "$0")/qat853m.sh"
draft="$out/llama-853m-qat-first$layers"
if [ ! -f "$draft.fmc" ]; then
  /usr/bin/python3 "$root/bench/make_truncated_model.py" "$model" "$draft" --layers "$layers"
  qat_2bit_compile "$draft" "$draft.fmc" > /dev/null
fi

run() { # [fmc-run flags...] -> "decode_tok/s acceptance"
  "$bin/fmc-run" "$out/llama-853m-qat-2bit.fmc" --prompt-ids 1,5,9,17,33,2,7,64 \
      -n 64 --ignore-eos --stats-json "$out/speculative.json" "$@" > /dev/null
  /usr/bin/python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); s=s[-1] if isinstance(s, list) else s; print(s["decode_tokens_per_s"], s.get("draft_acceptance", 1))' "$out/speculative.json"
}
results=""
i=0
while [ "$i" -lt "$rounds" ]; do
  results="$results plain:$(run | tr ' ' ':')"
  for k in 4 8; do
    results="$results k$k:$(run --draft "$draft.fmc" --draft-tokens $k | tr ' ' ':')"
  done
  i=$((i + 1))
done
/usr/bin/python3 - "$layers" $results <<'PY'
import statistics, sys
layers, runs = sys.argv[1], {}
for item in sys.argv[2:]:
    name, rate, acceptance = item.split(":")
    runs.setdefault(name, []).append((float(rate), float(acceptance)))
base = statistics.median(r for r, _ in runs["plain"])
print(f"greedy decode tok/s, 64 tokens, medians of {len(runs['plain'])} rounds "
      f"(2-bit 853M; draft: its first {layers} layers):")
for name, label in (("plain", "plain decode"), ("k4", "draft, K = 4"),
                    ("k8", "draft, K = 8")):
    rate = statistics.median(r for r, _ in runs[name])
    acc = statistics.median(a for _, a in runs[name])
    extra = "" if name == "plain" else f"   acceptance {acc:.3f}"
    print(f"  {label:14s} {rate:8.2f}   x{rate / base:.3f}{extra}")
PY
