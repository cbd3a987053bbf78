#!/usr/bin/env bash
# Builds the libFuzzer harnesses (test/fuzz) with clang 22, ASan and UBSan
# into build/fuzz, then runs each for FMC_FUZZ_SECONDS (default 30) from its
# seeds plus the corpus earlier runs grew (build/fuzz/corpus). A finding
# (crash, leak, hang over 10 s, undefined behaviour) fails the script and
# leaves the input under build/fuzz/findings; once fixed, add it to
# test/fuzz/*/regressions/<harness>/, which every run replays first. Part of
# scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${FMC_FUZZ_SECONDS:-30}
fuzz=${FMC_FUZZ_BUILD_DIR:-build/fuzz}
main=${FMC_BUILD_DIR:-build}
for tool in clang-22 clang++-22; do
  if ! command -v "$tool" > /dev/null; then
    echo "fuzz: $tool is missing (scripts/setup.sh installs it)" >&2
    exit 1
  fi
done
if [ ! -f "$fuzz/build.ninja" ]; then
  # Only the harnesses and what they link are built here: the readers and
  # the runtime. GPU backends are not fuzzed (no device in CI).
  CC=clang-22 CXX=clang++-22 cmake -G Ninja -S . -B "$fuzz" \
      -DCMAKE_BUILD_TYPE=Release -DFMC_FUZZ=ON -DFMC_VULKAN=OFF \
      -DFMC_CUDA=OFF > /dev/null
fi
ninja -C "$fuzz" fmc-fuzz

seeds="$fuzz/seeds"
mkdir -p "$seeds" "$fuzz/corpus" "$fuzz/findings"
/usr/bin/python3 test/fuzz/import/make_seeds.py ../shared "$seeds"
/usr/bin/python3 test/fuzz/artifact/make_seeds.py "$main/bin/fmc-compile" \
    "$seeds/artifact"

run() { # harness, seed folder, extra libFuzzer flags...
  local harness=$1 folder=$2 code=0
  shift 2
  local log="$fuzz/findings/$harness.log"
  mkdir -p "$fuzz/corpus/$harness"
  # The inputs fixed so far first (test/fuzz/*/regressions), then new ones.
  local regressions
  for regressions in test/fuzz/*/regressions/"$harness"; do
    if [ -d "$regressions" ]; then
      "$fuzz/bin/$harness" -runs=0 "$regressions" > "$log" 2>&1 || code=$?
    fi
  done
  echo "== $harness for ${seconds}s"
  if [ "$code" -eq 0 ]; then
    "$fuzz/bin/$harness" "$fuzz/corpus/$harness" "$seeds/$folder" \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$fuzz/findings/$harness-" -print_final_stats=1 \
        "$@" > "$log" 2>&1 || code=$?
  fi
  grep -E "^(stat::number_of_executed_units|stat::new_units_added|SUMMARY)|ERROR|deadly|timeout after" \
      "$log" || true
  return "$code"
}

status=0
run fuzz-artifact artifact -max_len=65536 || status=1
run fuzz-safetensors safetensors -dict=test/fuzz/import/safetensors.dict || status=1
run fuzz-gguf gguf -dict=test/fuzz/import/gguf.dict || status=1
run fuzz-llama2c llama2c || status=1
run fuzz-tokenizer-json tokenizer-json -dict=test/fuzz/import/tokenizer-json.dict || status=1
if [ "$status" -ne 0 ]; then
  echo "fuzz: findings under $fuzz/findings" >&2
fi
exit "$status"
