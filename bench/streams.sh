#!/usr/bin/env bash
# Many concurrent SSE streams: N streams at once, each CHUNKS chunks at a fixed interval from the
# project's mock, received directly, through nginx (proxy_pass, proxy_buffering off, 1 worker)
# and through Switchyard (bench/switchyard.yaml: 1 worker, request log on), one after the other
# for each N. The interval is N / RATE seconds, so every N relays RATE events a second.
#   bench/streams.sh                                   N = 1000 5000 9900, 200 chunks (~16 min)
#   STREAMS=1000 CHUNKS=50 bench/streams.sh            a quick look
# Reported per target and N: RSS per stream (RSS while every stream is open and waiting for its
# next chunk, minus the target's idle RSS, over N), CPU µs per relayed event (the target's CPU
# time over the events it relayed), the gap between a stream's consecutive events p50/p99/p99.9
# and what the target adds to the direct gap at p50 and p99, and the streams that failed.
# Each target is started fresh for each N, so the idle RSS is its own and not a previous run's.
# Results: $BENCH_DIR/results/streams-<timestamp>.csv and the table on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
h=bench/harness
. "$h/common.sh"
# A proxy holds two descriptors a stream: where the hard limit on open files is 20,000 and cannot
# be raised (a container without CAP_SYS_RESOURCE, as the project's VM), 9,900 is the most one
# process can hold beside its listener, epoll and log.
STREAMS=${STREAMS:-"1000 5000 9900"}
CHUNKS=${CHUNKS:-200}
RATE=${RATE:-10000}
TARGETS=${TARGETS:-"direct nginx switchyard"}
mock_port=18085
sy_port=18090

scripts/install-deps.sh --bench >/dev/null
scripts/build.sh switchyard switchyard-mock switchyard-stream-load >/dev/null
# Two descriptors per proxied stream, and the client and mock hold N each.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
work=$(mktemp -d)
out_dir=$BENCH_DIR/results
mkdir -p "$out_dir"
csv=$out_dir/streams-$(date +%Y%m%d-%H%M%S).csv
echo "target,streams,chunks,interval_ms,ok,errors,events,rss_idle_kib,rss_open_kib,rss_per_stream_kib,cpu_us_per_event,gap_p50_ms,gap_p99_ms,gap_p999_ms,first_event_p99_ms" >"$csv"
pids=()
stop() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
  "$h/stop_all.sh" >/dev/null 2>&1 || true
}
trap 'stop; rm -rf "$work"' EXIT

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
result() { sed -n 's/.*RESULT.* '"$2"'=\([^ ]*\).*/\1/p' "$1"; }

sed -e "s/18080/$mock_port/" -e 's/^server:$/server:\n  max_connections: 30000/' \
  bench/switchyard.yaml >"$work/switchyard.yaml"
sed 's/"stream":false/"stream":true/' "$h/body.json" >"$work/body.json"  # the harness's request, streamed

for n in $STREAMS; do
  interval=$((n * 1000 / RATE))
  for target in $TARGETS; do
    build/switchyard-mock --listen "127.0.0.1:$mock_port" --name mock --chunks "$CHUNKS" \
      --chunk-delay-ms "$interval" >"$work/mock.log" 2>&1 &
    mock=$!
    pids+=("$mock")
    wait_port "$mock_port" 20 || die "the mock did not start"
    case $target in
      direct) pid=$mock port=$mock_port ;;
      nginx)
        NGINX_WORKER_CONNECTIONS=$((4 * n + 1024)) "$h/start_nginx_proxy.sh" 18081 "$mock_port" \
          >/dev/null 2>&1
        pid=$(pgrep -P "$(cat "$RUN_DIR/nginx_proxy_18081.pid")" | head -1)
        port=18081
        ;;
      switchyard)
        build/switchyard --config "$work/switchyard.yaml" >"$work/gateway.log" 2>&1 &
        pid=$!
        pids+=("$pid")
        port=$sy_port
        wait_port "$port" 20 || die "switchyard did not start"
        ;;
    esac
    sleep 1
    rss_idle=$(rss_kib "$pid")
    cpu0=$(cpu_ticks "$pid")
    log "$target: $n streams, $CHUNKS chunks $interval ms apart"
    build/switchyard-stream-load --target "127.0.0.1:$port" --streams "$n" \
      --body "$work/body.json" >"$work/load.out" 2>&1 &
    load=$!
    # RSS sampled every half interval while every stream is open, until the first ends.
    samples=()
    while kill -0 "$load" 2>/dev/null; do
      if grep -q '^open' "$work/load.out" && ! grep -q RESULT "$work/load.out"; then
        samples+=("$(rss_kib "$pid")")
      fi
      sleep "$(awk "BEGIN {print $interval / 2000}")"
    done
    wait "$load" || true
    cpu1=$(cpu_ticks "$pid")
    grep -q RESULT "$work/load.out" || die "the load client failed: $(tail -3 "$work/load.out")"
    # The median sample: the streams' steady state, not their ramp or their ends.
    rss_open=$(printf '%s\n' "${samples[@]:-0}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    events=$(result "$work/load.out" events)
    awk -v t="$target" -v n="$n" -v c="$CHUNKS" -v iv="$interval" -v ri="$rss_idle" \
      -v ro="$rss_open" -v ticks=$((cpu1 - cpu0)) -v ev="$events" \
      -v ok="$(result "$work/load.out" ok)" -v err="$(result "$work/load.out" errors)" \
      -v p50="$(result "$work/load.out" gap_p50_ms)" -v p99="$(result "$work/load.out" gap_p99_ms)" \
      -v p999="$(result "$work/load.out" gap_p999_ms)" \
      -v fe="$(result "$work/load.out" first_event_p99_ms)" \
      'BEGIN { printf "%s,%d,%d,%d,%d,%d,%d,%d,%d,%.1f,%.1f,%.3f,%.3f,%.3f,%.3f\n",
               t, n, c, iv, ok, err, ev, ri, ro, (ro - ri) / n, ticks * 10000 / (ev ? ev : 1),
               p50, p99, p999, fe }' >>"$csv"
    stop
  done
done

# The table: what each target adds to the direct gaps of the same N.
awk -F, 'NR == 1 { next }
  $1 == "direct" { d50[$2] = $12; d99[$2] = $13 }
  { rows[NR] = $0 }
  END {
    print "| target | streams | errors | RSS KiB idle / open | KiB per stream | CPU µs per event | gap p50 / p99 / p99.9 ms | added p50 / p99 ms |"
    print "|---|---|---|---|---|---|---|---|"
    for (i = 2; i <= NR; i++) {
      split(rows[i], f, ",")
      added = f[1] == "direct" || !(f[2] in d50) ? "–" : sprintf("%+.3f / %+.3f", f[12] - d50[f[2]], f[13] - d99[f[2]])
      printf "| %s | %d | %d | %d / %d | %.1f | %.1f | %.1f / %.1f / %.1f | %s |\n",
        f[1], f[2], f[6], f[8], f[9], f[10], f[11], f[12], f[13], f[14], added
    }
  }' "$csv"
echo "raw: $csv"
