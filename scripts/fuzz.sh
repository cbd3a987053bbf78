#!/usr/bin/env bash
# Builds the libFuzzer harnesses (test/fuzz) with clang 22, ASan and UBSan
# into build/fuzz, replays the inputs fixed so far (test/fuzz/*/regressions/
# <harness>/), then fuzzes each harness from generated seeds.
#
# In the test command (scripts/test.sh) the runs are bounded and repeatable:
# a fixed seed, a fixed number of executions per harness (about 20 s each
# here) and a fresh corpus, so CI does the same work a developer's run did
# (up to Abseil's per-process hash seeds); 60 s per harness is a guard for
# slow machines.
# FMC_FUZZ_SECONDS=N instead fuzzes each harness for N seconds with random
# seeds, growing build/fuzz/corpus across runs (a campaign, not a test).
# A finding (crash, leak, hang over 10 s, undefined behaviour) fails the
# script and leaves the input under build/fuzz/findings; once fixed, add it
# to test/fuzz/*/regressions/<harness>/.
set -euo pipefail
cd "$(dirname "$0")/.."

campaign=${FMC_FUZZ_SECONDS:-}
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

run() { # harness, seed folder, executions, extra libFuzzer flags...
  local harness=$1 folder=$2 runs=$3 code=0
  shift 3
  local log="$fuzz/findings/$harness.log" corpus
  local regressions
  for regressions in test/fuzz/*/regressions/"$harness"; do
    if [ -d "$regressions" ]; then
      "$fuzz/bin/$harness" -runs=0 "$regressions" > "$log" 2>&1 || code=$?
    fi
  done
  if [ -n "$campaign" ]; then
    echo "== $harness for ${campaign}s"
    corpus="$fuzz/corpus/$harness"
    set -- -max_total_time="$campaign" "$@"
  else
    echo "== $harness: $runs executions, seed 1"
    corpus=$(mktemp -d)
    set -- -runs="$runs" -seed=1 -max_total_time=60 "$@"
  fi
  mkdir -p "$corpus"
  if [ "$code" -eq 0 ]; then
    "$fuzz/bin/$harness" "$corpus" "$seeds/$folder" -timeout=10 \
        -rss_limit_mb=2048 -artifact_prefix="$fuzz/findings/$harness-" \
        -print_final_stats=1 "$@" > "$log" 2>&1 || code=$?
  fi
  [ -n "$campaign" ] || rm -rf "$corpus"
  grep -E "^(stat::number_of_executed_units|stat::new_units_added|SUMMARY)|ERROR|deadly|timeout after" \
      "$log" || true
  return "$code"
}

status=0
run fuzz-artifact artifact 150000 -max_len=65536 || status=1
run fuzz-safetensors safetensors 200000 -dict=test/fuzz/import/safetensors.dict || status=1
run fuzz-gguf gguf 80000 -dict=test/fuzz/import/gguf.dict || status=1
run fuzz-llama2c llama2c 1000000 || status=1
run fuzz-tokenizer-json tokenizer-json 500000 -dict=test/fuzz/import/tokenizer-json.dict || status=1
if [ "$status" -ne 0 ]; then
  echo "fuzz: findings under $fuzz/findings" >&2
fi
exit "$status"
