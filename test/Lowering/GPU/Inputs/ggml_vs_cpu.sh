#!/usr/bin/env bash
# ggml_vs_cpu.sh DIR TYPE TOLERANCE
#
# DIR/TYPE.gguf (ggml_blocks.py write) for the cpu, cuda and vulkan targets
# with the executables dumped to DIR/TYPE/: prints the PTX entry points,
# whether any libdevice (__nv_) call is left, ptxas's verdict for sm_90
# ($PTXAS, else /usr/local/cuda/bin/ptxas; "no ptxas" without one), then
# runs a 6-token prompt and 4 decode steps on the cpu and vulkan backends
# and compares every logits row relative to the largest logit
# (ggml_blocks.py compare) and the greedy text. The cpu side uses the f32
# product (FMC_GGML_PRODUCT=f32), the one the GPU kernels compute: its
# integer decode product rounds activations to int16 and differs by ~1e-5.
set -euo pipefail
dir=$1 type=$2 tolerance=$3
here=$(cd "$(dirname "$0")" && pwd)
out="$dir/$type"
fmc-compile "$dir/$type.gguf" --target=cpu,cuda,vulkan --cuda-arch=sm_90 \
  --dump-executables="$out" -o "$out.fmc" > /dev/null
ptx="$out/cuda.sm_90.ptx"
echo "$type entries:" $(grep -o '^\.visible \.entry [a-z0-9_]*' "$ptx" \
  | awk '{print $3}' | grep -E 'embedding|matvec' | sort -u)
if grep -q '__nv_' "$ptx"; then echo "$type libdevice calls"; else
  echo "$type no libdevice calls"; fi
ptxas=${PTXAS:-/usr/local/cuda/bin/ptxas}
if [ -x "$ptxas" ]; then
  "$ptxas" -arch=sm_90 "$ptx" -o "$out/sm_90.cubin"
  echo "$type ptxas sm_90: ok"
else
  echo "$type ptxas sm_90: no ptxas"
fi
prompt=1,5,9,3,7,2
for b in cpu vulkan; do
  FMC_GGML_PRODUCT=f32 fmc-run "$out.fmc" --backend "$b" \
    --prompt-ids "$prompt" -n 4 --logits-out "$out-$b.logits" > "$out-$b.txt"
done
echo -n "$type "
/usr/bin/python3 "$here/ggml_blocks.py" compare "$out-cpu.logits" \
  "$out-vulkan.logits" "$tolerance"
cmp "$out-cpu.txt" "$out-vulkan.txt"
