#!/bin/sh
# fmc's benchmarks: prefill and decode tokens/s of stories260K (1 thread) and
# of the synthetic 853M-parameter Llama (all threads), with the memory read
# bandwidth measured in the same run. Printed, never asserted.
#
#   bench/run.sh [BUILD_DIR]     (default: build; models go to BUILD_DIR/bench)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
out="$build/bench"
bin="$build/bin"
shared="$root/../shared/models/stories260K"
mkdir -p "$out"

echo "== stories260K (f32), 1 thread"
"$bin/fmc-compile" "$shared/stories260K.bin" --tokenizer "$shared/tok512.bin" \
    -o "$out/stories260k.fmc" > /dev/null
"$bin/fmc-bench" "$out/stories260k.fmc" --threads 1 --prefill-tokens 128 \
    --decode-tokens 500 --repeat 5 --bandwidth-mb 512 --json "$out/stories260k.json"

echo "== synthetic Llama 853M (f16), all threads"
if [ ! -f "$out/llama-853m/model.safetensors" ]; then
  /usr/bin/python3 "$root/bench/make_bench_model.py" "$out/llama-853m" --preset 853m
fi
if [ ! -f "$out/llama-853m.fmc" ]; then
  "$bin/fmc-compile" "$out/llama-853m" --context 1024 --prefill-tokens 512 \
      -o "$out/llama-853m.fmc"
fi
"$bin/fmc-bench" "$out/llama-853m.fmc" --prefill-tokens 512 --decode-tokens 32 \
    --repeat 2 --bandwidth-mb 2048 --json "$out/llama-853m.json"

echo "== synthetic Llama 853M at 2 bits vs f16, same weights, all threads"
# Quantization-aware-trained weights (make_bench_model.py --qat): linears on
# the balanced 2-bit grid, the embedding on the 4-bit one. Compiled as
# they are (f16) and packed losslessly (--quantize=afm plus a 2-bit head).
if [ ! -f "$out/llama-853m-qat/model.safetensors" ]; then
  /usr/bin/python3 "$root/bench/make_bench_model.py" "$out/llama-853m-qat" --preset 853m --qat
fi
if [ ! -f "$out/llama-853m-qat-f16.fmc" ]; then
  "$bin/fmc-compile" "$out/llama-853m-qat" --context 1024 --prefill-tokens 512 \
      -o "$out/llama-853m-qat-f16.fmc" > /dev/null
fi
if [ ! -f "$out/llama-853m-qat-2bit.fmc" ]; then
  "$bin/fmc-compile" "$out/llama-853m-qat" --context 1024 --prefill-tokens 512 \
      --quantize=afm,output:2:balanced:64:f16 -o "$out/llama-853m-qat-2bit.fmc" \
      --report-json "$out/llama-853m-qat-2bit.report.json" | grep -v '^    '
fi
for variant in f16 2bit; do
  echo "-- $variant"
  "$bin/fmc-bench" "$out/llama-853m-qat-$variant.fmc" --prefill-tokens 128 \
      --decode-tokens 32 --repeat 5 --bandwidth-mb 2048 \
      --json "$out/llama-853m-qat-$variant.json"
done

echo "== synthetic Llama 853M as GGUF Q8_0, Q4_K_M and TQ2_0 (ggml blocks), all threads"
# Random blocks with small scales (make_gguf_bench_model.py): decode takes
# integer dot products per block against int16 activations (GgmlDot.h;
# AVX-512 VNNI tiles of 4 rows where the CPU has them), prefill the same
# integer products in token tiles of 32 rows x 6 tokens (AVX-512 VNNI;
# elsewhere each row decoded to f32 with ggml's formulas); fmc-ggml-bench
# times both alone.
for type in Q8_0 Q4_K_M TQ2_0; do
  if [ ! -f "$out/llama-853m-$type.gguf" ]; then
    /usr/bin/python3 "$root/bench/make_gguf_bench_model.py" \
        "$out/llama-853m-$type.gguf" --type "$type"
  fi
  if [ ! -f "$out/llama-853m-$type.fmc" ]; then
    "$bin/fmc-compile" "$out/llama-853m-$type.gguf" --target=cpu --context 1024 \
        --prefill-tokens 128 -o "$out/llama-853m-$type.fmc" > /dev/null
  fi
  echo "-- $type"
  "$bin/fmc-bench" "$out/llama-853m-$type.fmc" --prefill-tokens 128 \
      --decode-tokens 32 --repeat 5 --bandwidth-mb 2048 \
      --json "$out/llama-853m-$type.json"
done

echo "== GGUF blocks vs fmc's packed 4 and 2 bits: medians of 5 runs, all threads"
# The same 853M shapes at 4 bits (affine, groups of 64) next to the 2-bit
# artifact above, and the GGUF runs above (each fraction is of the read
# bandwidth measured in its own fmc-bench run).
if [ ! -f "$out/llama-853m-qat-4bit.fmc" ]; then
  "$bin/fmc-compile" "$out/llama-853m-qat" --context 1024 --prefill-tokens 128 \
      --quantize=linear:4:affine:64:f16,embedding:4:affine:32,output:4:affine:64:f16 \
      -o "$out/llama-853m-qat-4bit.fmc" > /dev/null
fi
echo "-- 4bit"
"$bin/fmc-bench" "$out/llama-853m-qat-4bit.fmc" --prefill-tokens 128 \
    --decode-tokens 32 --repeat 5 --bandwidth-mb 2048 \
    --json "$out/llama-853m-qat-4bit.json"
/usr/bin/python3 - "$out" <<'PY'
import json, os, sys
out = sys.argv[1]
print(f"  {'format':8} {'prefill tok/s':>13} {'decode tok/s':>12} "
      f"{'of read bw':>10} {'read bw GB/s':>12}")
for name in ["qat-4bit", "qat-2bit", "Q4_K_M", "Q8_0", "TQ2_0"]:
    with open(os.path.join(out, f"llama-853m-{name}.json")) as f:
        r = json.load(f)
    print(f"  {name:8} {r['prefill_tokens_per_s_median']:13.1f} "
          f"{r['decode_tokens_per_s_median']:12.1f} "
          f"{100 * r['decode_bandwidth_fraction_median']:9.0f}% "
          f"{r['read_bandwidth_gb_per_s']:12.1f}")
PY

echo "== KV sharing: time to first token, AFM on-device shape (56 layers, 35:21), 1 thread"
/usr/bin/python3 "$root/bench/kv_sharing_ttft.py" --build "$build" --threads 1 --runs 7

echo "== packed-weight kernels alone (853M shapes), 1 thread and all threads"
"$bin/fmc-quant-bench" --threads 1
"$bin/fmc-quant-bench" --threads "$(nproc)"

echo "== ggml block dot products alone (rows and tiles, from L2), 1 thread"
"$bin/fmc-ggml-bench"
