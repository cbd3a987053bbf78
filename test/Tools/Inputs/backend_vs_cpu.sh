#!/usr/bin/env bash
# backend_vs_cpu.sh BACKEND DIR NAME MODEL [fmc-compile flags...]
#
# Compiles MODEL for the cpu and BACKEND targets into DIR/NAME.fmc, runs the
# same prompt (8 tokens, 12 generated) on both backends, and checks every
# prompt row's and decode step's logits within $TOLERANCE (default 1e-4) of
# the cpu backend's and the greedy text identical. Prints "logits agree".
set -euo pipefail
backend=$1 dir=$2 name=$3 model=$4
shift 4
here=$(cd "$(dirname "$0")" && pwd)
prompt=1,5,9,3,7,2,11,4
fmc-compile "$model" "$@" --target="cpu,$backend" -o "$dir/$name.fmc" > /dev/null
for b in cpu "$backend"; do
  fmc-run "$dir/$name.fmc" --backend "$b" --prompt-ids "$prompt" -n 12 \
    --logits-out "$dir/$name-$b.logits" > "$dir/$name-$b.txt"
done
/usr/bin/python3 "$here/../../reference/diff_logits.py" "$dir/$name-cpu.logits" \
  "$dir/$name-$backend.logits" --tolerance "${TOLERANCE:-1e-4}"
cmp "$dir/$name-cpu.txt" "$dir/$name-$backend.txt"
