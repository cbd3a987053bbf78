#!/usr/bin/env bash
# probe_vs_cpu.sh DIR POLICY: compiles DIR/probe.mlir (matvec_probe.py or
# moe_probe.py) with --quantize=POLICY (none: as stored) for cpu and vulkan,
# runs a 7-token prompt in prefill runs of 4 and 3 decode steps on both, and
# compares every logit (1e-4).
# PROMPT (token ids) and PREFILL (--prefill-tokens) override the prompt and
# the prefill runs; PROMPT_TOKENS=N makes the prompt N tokens long (ids
# 1..60 in turn); BACKEND (default vulkan) is the backend against the cpu;
# STEPS (default 3) is how many tokens to generate (1: the prompt's rows
# only); TOLERANCE (default 1e-4) is the largest difference allowed.
set -euo pipefail
dir=$1 policy=$2
here=$(cd "$(dirname "$0")" && pwd)
cd "$dir"
prompt=${PROMPT:-1,5,9,3,7,2,11}
if [ -n "${PROMPT_TOKENS:-}" ]; then
  prompt=$(seq 0 $((PROMPT_TOKENS - 1)) | awk '{printf "%s%d", (NR > 1 ? "," : ""), $1 % 60 + 1}')
fi
quantize=()
[ "$policy" = none ] || quantize=(--quantize="$policy")
fmc-compile probe.mlir "${quantize[@]}" --target="cpu,${BACKEND:-vulkan}" \
  --prefill-tokens="${PREFILL:-4}" -o probe.fmc > /dev/null
for b in cpu "${BACKEND:-vulkan}"; do
  fmc-run probe.fmc --backend "$b" --prompt-ids "$prompt" -n "${STEPS:-3}" \
    --logits-out "probe-$b.logits" > /dev/null 2>&1
done
/usr/bin/python3 "$here/../../../reference/diff_logits.py" probe-cpu.logits \
  "probe-${BACKEND:-vulkan}.logits" --tolerance "${TOLERANCE:-1e-4}"
