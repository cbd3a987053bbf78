#!/usr/bin/env bash
# Set up, build, and run every test: the lit suite (as the ctest test "lit"),
# the GoogleTest suites, then the fuzzers (scripts/fuzz.sh, deterministic).
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh
./scripts/build.sh
ctest --test-dir "${FMC_BUILD_DIR:-build}" --output-on-failure
# The libFuzzer harnesses: fixed seeds and execution counts (reproducible).
./scripts/fuzz.sh
