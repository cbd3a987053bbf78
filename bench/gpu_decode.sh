#!/bin/sh
# Issue 8's GPU benchmark: batch-1 decode tokens/s of the AFM on-device shape
# (56 layers, hidden 2048, random weights) compiled with --target=cuda, 2-bit
# (--quantize=afm: 2-bit linears, 4-bit embedding, int8 KV cache) and f16
# (int8 KV cache too, so only the weights differ), and the fraction of HBM
# bandwidth decode achieves: (weight bytes + KV bytes read per token) x
# tokens/s / peak, against a device-to-device copy measured in the same run
# and the nominal peak (H100 SXM 3350 GB/s, H100 PCIe 2000, H200 4800).
# Medians of several runs are printed, never asserted. Then the kernel
# benchmark: the same decode with every launch timed (fmc-bench --kernels),
# one row per fused matvec shape (q/k/v 2560x2048, o 2048x2048, gate+up
# 13312x2048, down 2048x6656, logits 153600x2048) with its weight bytes per
# second against the same copy bandwidth. FMC_BENCH_TARGET=vulkan runs
# both on the Vulkan backend instead (on the GPU machine's Vulkan driver).
#
# The artifacts are ~1 GB (2-bit) and ~6 GB (f16): too large for the device
# tool, which copies at most 64 MiB. So it runs in two steps:
#
#   bench/gpu_decode.sh prepare [BUILD_DIR]
#       here (needs fmc-compile): writes the sparse model, compiles both
#       variants, keeps their headers (FlatBuffer, PTX, dispatch lists; the
#       weight segments are cut off) and copies fmc-bench, fmc-fill-weights,
#       the cuda device tests and their stories260K artifacts into
#       BUILD_DIR/gpu-bench (a few MB; build/ is git-ignored).
#   bench/gpu_decode.sh run [DIR]
#       on the GPU machine (DIR defaults to build/gpu-bench): runs the cuda
#       device tests (logits against the cpu backend) first, then writes
#       random weights behind each header (fmc-fill-weights) and runs
#       fmc-bench --backend cuda on each. Needs only libc, libstdc++ and the
#       NVIDIA driver. With the device tool:
#         run(command="sh bench/gpu_decode.sh run", carry=["build/gpu-bench"])
#       Results also land in $OUT (JSON) when OUT is set.
#
# Dry run of the whole pipeline on the CPU (no GPU needed):
#   export FMC_BENCH_TARGET=cpu FMC_BENCH_PREFILL=4 FMC_BENCH_DECODE=4 FMC_BENCH_REPEAT=1
#   bench/gpu_decode.sh prepare && bench/gpu_decode.sh run
set -eu
target=${FMC_BENCH_TARGET:-cuda}
prefill=${FMC_BENCH_PREFILL:-128}
decode=${FMC_BENCH_DECODE:-256}
repeat=${FMC_BENCH_REPEAT:-5}
root=$(cd "$(dirname "$0")/.." && pwd)
mode=${1:-}

case "$mode" in
prepare)
  build=$(cd "${2:-$root/build}" && pwd)
  bin="$build/bin"
  work="$build/bench/gpu"
  dest="$build/gpu-bench"
  mkdir -p "$work" "$dest/bin"
  if [ ! -f "$work/afm_on_device_f16/model.safetensors" ]; then
    /usr/bin/python3 "$root/bench/make_gpu_bench_model.py" "$work"
  fi
  for variant in 2bit f16; do
    case $variant in
    2bit) flags="--quantize=afm" ;;
    f16) flags="" ;;
    esac
    echo "== compiling the AFM on-device shape ($variant) for $target"
    # shellcheck disable=SC2086
    "$bin/fmc-compile" "$work/afm_on_device_f16" --target="$target" $flags \
        --kv-cache-type=i8 --context 4096 --prefill-tokens 128 \
        -o "$work/afm-$variant.fmc" > "$work/afm-$variant.compile.log"
    # Keep the header only: [size][FlatBuffer] padded to the weight segment,
    # whose offset is the artifact's weights_offset (read back by fmc-fill-
    # weights); cut at the FlatBuffer's end, the padding is zeros anyway.
    size=$(od -An -tu4 -N4 "$work/afm-$variant.fmc" | tr -d ' ')
    head -c $((size + 4)) "$work/afm-$variant.fmc" > "$dest/afm-$variant.header"
    rm -f "$work/afm-$variant.fmc"
  done
  cp "$bin/fmc-bench" "$bin/fmc-fill-weights" "$bin/fmc-run" "$dest/bin/"
  tests="$build/test/unit/runtime"
  if [ "$target" = cuda ] && [ -x "$bin/FmcCudaDeviceTests" ]; then
    "$bin/fmc-compile" "$root/test/Models/stories260k.mlir" \
        -o "$tests/stories260k.fmc" > /dev/null
    "$bin/fmc-compile" "$root/test/Models/stories260k.mlir" --target=cuda \
        --prefill-tokens 64 -o "$tests/stories260k-cuda.fmc" > /dev/null
    cp "$bin/FmcCudaDeviceTests" "$dest/bin/"
    cp "$tests/stories260k.fmc" "$tests/stories260k-cuda.fmc" "$dest/"
  fi
  du -sh "$dest"
  echo "ready: run 'sh bench/gpu_decode.sh run' on the GPU machine with $dest carried"
  ;;
run)
  dest=$(cd "${2:-$root/build/gpu-bench}" && pwd)
  out=${OUT:-$dest/results}
  scratch=${TMPDIR:-/tmp}/fmc-gpu-bench
  mkdir -p "$out" "$scratch"
  name=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1 || true)
  case "$name" in
  *H200*) peak=4800 ;;
  *H100*PCIe*) peak=2000 ;;
  *H100*) peak=3350 ;;
  *) peak=0 ;;
  esac
  echo "== device: ${name:-unknown} (nominal peak ${peak} GB/s; 0: unknown)"
  if [ "$target" = cuda ] && [ -x "$dest/bin/FmcCudaDeviceTests" ]; then
    # The device tests read the artifacts where ctest's fixture wrote them;
    # point them at the carried copies instead.
    echo "== cuda device tests (logits and greedy tokens against the cpu backend)"
    (cd "$dest" && FMC_TEST_ARTIFACT_DIR="$dest" ./bin/FmcCudaDeviceTests) \
        2>&1 | tee "$out/device-tests.log" | tail -n 25
    echo "== stories260K greedy text, cpu and cuda"
    "$dest/bin/fmc-run" "$dest/stories260k.fmc" --backend cpu -n 40 --temperature 0 \
        --prompt "Once upon a time" 2>/dev/null | tee "$out/stories-cpu.txt"
    "$dest/bin/fmc-run" "$dest/stories260k-cuda.fmc" --backend cuda -n 40 \
        --temperature 0 --prompt "Once upon a time" | tee "$out/stories-cuda.txt"
  fi
  for variant in 2bit f16; do
    echo "== AFM on-device shape, $variant weights, int8 KV, $target backend"
    "$dest/bin/fmc-fill-weights" "$dest/afm-$variant.header" \
        "$scratch/afm-$variant.fmc" --seed 8
    "$dest/bin/fmc-bench" "$scratch/afm-$variant.fmc" --backend "$target" \
        --prefill-tokens "$prefill" --decode-tokens "$decode" --repeat "$repeat" \
        --bandwidth-mb 4096 --peak-gbs "$peak" --json "$out/afm-$variant.json"
    echo "== the same decode, launches timed one by one (the kernel benchmark)"
    "$dest/bin/fmc-bench" "$scratch/afm-$variant.fmc" --backend "$target" \
        --kernels --prefill-tokens 0 --decode-tokens 32 --repeat 3 \
        --bandwidth-mb 4096 --peak-gbs "$peak" \
        --json "$out/afm-$variant-kernels.json" | sed -n '/decode launches/,$p'
    rm -f "$scratch/afm-$variant.fmc"
  done
  ;;
*)
  echo "usage: bench/gpu_decode.sh prepare [BUILD_DIR] | run [DIR]" >&2
  exit 2
  ;;
esac
