#!/usr/bin/env bash
# probe_vs_cpu.sh DIR POLICY: compiles DIR/probe.mlir (matvec_probe.py) with
# --quantize=POLICY for cpu and vulkan, runs a 7-token prompt in prefill
# runs of 4 and 3 decode steps on both, and compares every logit (1e-4).
set -euo pipefail
dir=$1 policy=$2
here=$(cd "$(dirname "$0")" && pwd)
cd "$dir"
fmc-compile probe.mlir --quantize="$policy" --target=cpu,vulkan \
  --prefill-tokens=4 -o probe.fmc > /dev/null
for b in cpu vulkan; do
  fmc-run probe.fmc --backend "$b" --prompt-ids 1,5,9,3,7,2,11 -n 3 \
    --logits-out "probe-$b.logits" > /dev/null 2>&1
done
/usr/bin/python3 "$here/../../../reference/diff_logits.py" probe-cpu.logits \
  probe-vulkan.logits --tolerance 1e-4
