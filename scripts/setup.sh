#!/usr/bin/env bash
# Installs every Debian package fmc needs to build and test. Idempotent: when all
# packages are present it prints one line and returns in well under a second.
# The CUDA toolkit is optional and never installed here: the build uses
# /usr/local/cuda when it exists (see CMakeLists.txt) and skips what needs it.
set -euo pipefail

packages=(
  # Build tools.
  cmake ninja-build g++ git
  # MLIR/LLVM 22: libraries, mlir-tblgen, lit, FileCheck, not.
  libmlir-22-dev mlir-22-tools llvm-22-dev llvm-22-tools
  # Artifact format and runtime support.
  libflatbuffers-dev flatbuffers-compiler libabsl-dev
  # JSON Schemas for guided generation (header-only; runtime/grammar) and
  # fmc-serve's HTTP server.
  nlohmann-json3-dev libcpp-httplib-dev pkg-config
  # Pre-tokenizer regexes (PCRE2, linked statically into the runtime).
  libpcre2-dev
  # Artifact checksums (XXH3, used header-only).
  libxxhash-dev
  # SHA-256 of the source files an artifact records (OpenSSL's libcrypto).
  libssl-dev
  # SPIR-V -> MSL, SPIR-V validation, Vulkan with Mesa's lavapipe CPU driver.
  libspirv-cross-c-shared-dev spirv-tools libvulkan-dev mesa-vulkan-drivers vulkan-tools
  # clang type-checks the Objective-C++ Metal backend (test metal.backend_parses).
  clang
  # libFuzzer harnesses (scripts/fuzz.sh): clang 22 (LLVM 22's, which also
  # has _Float16 on x86) with its sanitizer and fuzzer runtimes.
  clang-22 libclang-rt-22-dev
  # Unit tests and benchmarks.
  libgtest-dev libgmock-dev libbenchmark-dev
  # Independent numerical reference forward passes (run with /usr/bin/python3).
  python3 python3-numpy
  # Real Jinja chat templates, the reference for fmc-run's chat renderer
  # (test/Tools/fmc-tokenize-chat.test).
  python3-jinja2
  # Guided generation's outputs validated against their schemas
  # (test/Tools/fmc-run-json-schema.test).
  python3-jsonschema
  # Tests that craft artifacts recompute their checksums (test/Tools/Inputs/fmc_seal.py).
  python3-xxhash
  # Track-parallel runs on CPU ranks (fmc-compile --track-ranks; mpirun -np N
  # fmc-run): Open MPI's library, headers and launcher.
  libopenmpi-dev openmpi-bin
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
else
  echo "setup: installing ${missing[*]}"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q >/dev/null
  $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  echo "setup: done"
fi

if [ -x /usr/local/cuda/bin/ptxas ]; then
  echo "setup: CUDA toolkit found at /usr/local/cuda ($(/usr/local/cuda/bin/ptxas --version | tail -1))"
else
  echo "setup: no CUDA toolkit at /usr/local/cuda; PTX assembly checks will be skipped"
fi
