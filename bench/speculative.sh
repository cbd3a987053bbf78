#!/bin/sh
# Speculative decoding: greedy decode tokens/s of the synthetic 853M Llama in
# f16 alone and with two drafts proposing K = 4 and 8 tokens per target pass,
# alternated in one run, medians of ROUNDS rounds: the same weights packed at
# 2 bits (self-similar: they are quantization-aware trained, so the draft
# predicts what the target does, at a sixth of its bytes), and the first
# DRAFT_LAYERS layers at 2 bits (dissimilar: with random weights a truncated
# model agrees with the whole one by chance only, so this is the cost of
# proposals that fail). Acceptance and the speed-up over plain decode are
# printed, never asserted.
#
#   bench/speculative.sh [BUILD_DIR] [DRAFT_LAYERS] [ROUNDS]  (default: build, 4, 3)
set -eu
layers=${2:-4}
rounds=${3:-3}
. "$(dirname "$0")/qat853m.sh"
target="$out/llama-853m-qat-f16.fmc"
if [ ! -f "$target" ]; then
  "$bin/fmc-compile" "$model" --context 1024 --prefill-tokens 512 \
      -o "$target" > /dev/null
fi
truncated="$out/llama-853m-qat-first$layers"
if [ ! -f "$truncated.fmc" ]; then
  /usr/bin/python3 "$root/bench/make_truncated_model.py" "$model" "$truncated" \
      --layers "$layers"
  qat_2bit_compile "$truncated" "$truncated.fmc" > /dev/null
fi

run() { # [fmc-run flags...] -> "decode_tok/s:acceptance"
  "$bin/fmc-run" "$target" --prompt-ids 1,5,9,17,33,2,7,64 -n 64 --ignore-eos \
      --stats-json "$out/speculative.json" "$@" > /dev/null
  /usr/bin/python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print(s["decode_tokens_per_s"], s.get("draft_acceptance", 1), sep=":")' "$out/speculative.json"
}
results=""
i=0
while [ "$i" -lt "$rounds" ]; do
  results="$results plain:$(run)"
  for k in 4 8; do
    results="$results 2bit-k$k:$(run --draft "$out/llama-853m-qat-2bit.fmc" --draft-tokens $k)"
    results="$results first$layers-k$k:$(run --draft "$truncated.fmc" --draft-tokens $k)"
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
print(f"greedy decode tok/s of the f16 853M, 64 tokens, medians of "
      f"{len(runs['plain'])} rounds:")
labels = [("plain", "no draft")]
for k in (4, 8):
    labels += [(f"2bit-k{k}", f"draft: itself at 2 bits, K = {k}"),
               (f"first{layers}-k{k}", f"draft: its first {layers} layers, K = {k}")]
for name, label in labels:
    rate = statistics.median(r for r, _ in runs[name])
    acc = statistics.median(a for _, a in runs[name])
    extra = "" if name == "plain" else f"   acceptance {acc:.3f}"
    print(f"  {label:34s} {rate:8.2f}   x{rate / base:.3f}{extra}")
PY
