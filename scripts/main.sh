#!/usr/bin/env bash
# The main job: set up, build, then import the bundled stories260K model
# (../shared/models/stories260K), compile it to an artifact and generate a
# story from "Once upon a time" on the best backend present (--backend auto:
# CUDA on an NVIDIA GPU, Metal on a Mac, Vulkan on another GPU, the CPU when
# there is none).
# The artifact carries every target this build compiles for.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh
./scripts/build.sh

model=../shared/models/stories260K
mkdir -p build/main
build/bin/fmc-import "$model/stories260K.bin" --tokenizer "$model/tok512.bin" \
  -o build/main/stories260K.mlir
build/bin/fmc-compile build/main/stories260K.mlir --target=cpu,cuda,vulkan,metal \
  -o build/main/stories260K.fmc
build/bin/fmc-run build/main/stories260K.fmc --backend auto \
  --prompt "Once upon a time" -n 200 --stats
