#!/usr/bin/env bash
# Installs the dependencies, builds with warnings as errors and runs every test: unit,
# integration (the real binary against the real mock over loopback, TLS included) and the
# official OpenAI Node SDK against the gateway.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
scripts/build.sh
ctest --test-dir build --output-on-failure -j 2 --timeout 300
