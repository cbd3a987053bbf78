#!/usr/bin/env bash
# The main job: set up, build, then run the fm pipeline on the bundled
# stories260K model (a hand-written fm module whose parameters point into
# ../shared/models/stories260K/stories260K.bin) and print the result.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh
./scripts/build.sh
build/bin/fmc-opt test/Models/stories260k.mlir --fm-cleanup
