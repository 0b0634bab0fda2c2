#!/usr/bin/env bash
# Configures and builds into build/ (Release, warnings as errors).
#   scripts/build.sh                      everything, tests included
#   scripts/build.sh switchyard ...       only these targets (tests are not configured then)
set -euo pipefail
cd "$(dirname "$0")/.."
tests=ON
[ $# -gt 0 ] && tests=OFF
[ -f build/CMakeCache.txt ] && grep -q "SWITCHYARD_TESTS:BOOL=ON" build/CMakeCache.txt && tests=ON
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DSWITCHYARD_WERROR=ON \
  -DSWITCHYARD_TESTS=$tests >/dev/null
targets=()
for t in "$@"; do targets+=(--target "$t"); done
cmake --build build -j "$(nproc)" "${targets[@]}"
