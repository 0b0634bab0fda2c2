#!/usr/bin/env bash
# Installs what Switchyard needs from Debian 12 packages. Used by the README, CI and the
# Dockerfile. `--test` adds what the test suite needs (openssl for the test CA, redis-server for
# the shared-state tests, prometheus for promtool, Node.js + npm for the OpenAI SDK test); `--bench` adds the load harness
# (wrk, nginx, haproxy, redis-server, Node.js); `--clang` clang with its sanitizer and libFuzzer runtimes
# (scripts/sanitize.sh, scripts/fuzz.sh).
set -euo pipefail

packages=(build-essential cmake ninja-build pkg-config
          libboost1.81-dev libssl-dev nlohmann-json3-dev libyaml-cpp-dev libhiredis-dev
          libspdlog-dev libfmt-dev)
for arg in "$@"; do
  case $arg in
    --test) packages+=(libgtest-dev openssl ca-certificates curl redis-server prometheus)
            command -v node >/dev/null && command -v npm >/dev/null || packages+=(nodejs npm) ;;
    --bench) packages+=(wrk nginx-light haproxy curl python3 redis-server)
             command -v node >/dev/null || packages+=(nodejs) ;;
    --clang) packages+=(clang-14 libclang-rt-14-dev) ;;
    *) echo "usage: $0 [--test] [--bench] [--clang]" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
