#!/usr/bin/env bash
# Configures (once) and builds fmc into build/ with CMake + Ninja.
# Incremental: re-running rebuilds only what changed.
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir=${FMC_BUILD_DIR:-build}
if [ ! -f "$build_dir/build.ninja" ]; then
  cmake -G Ninja -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
ninja -C "$build_dir"
