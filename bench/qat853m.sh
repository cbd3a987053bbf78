# Sourced by the benchmarks that run the synthetic 853M Llama at 2 bits
# (quantization-aware-trained weights, packed losslessly): sets root, build,
# out and bin from the script's directory and BUILD_DIR ($1), writes the
# model directory $model once and compiles $out/llama-853m-qat-2bit.fmc once.
# qat_2bit_compile DIR OUT [flags...] compiles another model the same way.
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
out="$build/bench"
bin="$build/bin"
mkdir -p "$out"
model="$out/llama-853m-qat"

qat_2bit_compile() { # model_dir artifact [fmc-compile flags...]
  dir=$1 artifact=$2; shift 2
  "$bin/fmc-compile" "$dir" --context 1024 --prefill-tokens 512 \
      --quantize=afm,output:2:balanced:64:f16 -o "$artifact" "$@"
}

if [ ! -f "$model/model.safetensors" ]; then
  /usr/bin/python3 "$root/bench/make_bench_model.py" "$model" --preset 853m --qat
fi
if [ ! -f "$out/llama-853m-qat-2bit.fmc" ]; then
  qat_2bit_compile "$model" "$out/llama-853m-qat-2bit.fmc" > /dev/null
fi
