#!/usr/bin/env bash
# One interleaved benchmark run: direct (the nginx mock upstream), nginx proxy_pass and
# Switchyard, all on loopback, with the team harness in bench/harness (see its README.md).
#   bench/run.sh                          full matrix (~12 min): REPS=3, pinned and not
#   REPS=1 PINS=1 MODES=max DURATION=5 bench/run.sh    a quick look
#   BASELINE=/path/to/older/switchyard MODES=max bench/run.sh
#                                         adds that build as target "baseline" (port 18091):
#                                         a before/after comparison inside one run
# Results: $BENCH_DIR/results/<timestamp>/{summary.md,runs.csv,setup.txt}
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
scripts/install-deps.sh --bench
scripts/build.sh switchyard >/dev/null
h=$root/bench/harness
. "$h/common.sh"
export MODES=${MODES:-"max rate:200:wrk rate:1000:wrk"}  # hey is not installed here

trap '"$h/stop_all.sh"' EXIT
"$h/start_mock.sh"
"$h/start_nginx_proxy.sh"
pidfile=$RUN_DIR/switchyard_18090.pid
port_busy 18090 && die "port 18090 already in use"
nohup "$root/build/switchyard" --config "$root/bench/switchyard.yaml" \
  >"$BENCH_DIR/switchyard.log" 2>&1 </dev/null &
echo $! >"$pidfile"
wait_port 18090 10 || die "switchyard did not come up (see $BENCH_DIR/switchyard.log)"

targets=$root/bench/targets.conf
if [ -n "${BASELINE:-}" ]; then
  port_busy 18091 && die "port 18091 already in use"
  sed 's/127.0.0.1:18090/127.0.0.1:18091/' "$root/bench/switchyard.yaml" >"$BENCH_DIR/baseline.yaml"
  nohup "$BASELINE" --config "$BENCH_DIR/baseline.yaml" >"$BENCH_DIR/baseline.log" 2>&1 </dev/null &
  echo $! >"$RUN_DIR/switchyard_18091.pid"
  wait_port 18091 10 || die "the baseline did not come up (see $BENCH_DIR/baseline.log)"
  targets=$BENCH_DIR/targets.conf
  { cat "$root/bench/targets.conf"
    echo 'baseline   | http://127.0.0.1:18091${CHAT_PATH}               | switchyard_18091.pid                | -'
  } >"$targets"
fi

about="# machine: $(nproc) cpus, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)
# switchyard $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown), $(nginx -v 2>&1)"
echo "$about"
"$h/bench.sh" -t "$targets" "$@"
# The run's machine and build, for bench/readme_table.py.
echo "$about" >>"$(ls -td "$BENCH_DIR"/results/*/ | head -1)setup.txt"
