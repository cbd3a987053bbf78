#!/bin/sh
# Fails when the given binary links a shared LLVM, MLIR, Abseil or
# FlatBuffers library, or anything beyond the C/C++ runtimes.
set -eu
binary="$1"
libs=$(ldd "$binary") || { echo "ldd failed on $binary"; exit 1; }
echo "$libs"
if echo "$libs" | grep -Ei 'llvm|mlir|absl|flatbuffers'; then
  echo "error: $binary links compiler or Abseil/FlatBuffers shared libraries"
  exit 1
fi
unexpected=$(echo "$libs" | grep '=>' | grep -Ev 'lib(c|m|stdc\+\+|gcc_s|pthread|dl|rt)\.so' || true)
if [ -n "$unexpected" ]; then
  echo "error: $binary links unexpected libraries:"
  echo "$unexpected"
  exit 1
fi
echo "ok: $binary needs only the C and C++ runtimes"
