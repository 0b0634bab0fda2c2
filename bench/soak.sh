#!/usr/bin/env bash
# Fault-injection soak, loopback only (docs/reliability.md): three gateway replicas (two workers
# each) behind haproxy, one Redis (append-only, so a restart keeps the spend), two mock providers
# on one failover route, and bench/soak_load.mjs sending JSON and streams through haproxy for
# DURATION seconds while, at fixed fractions of it:
#   10 %  replica 2 is killed with SIGKILL, and started again 5 s later
#   20 %  Redis is shut down and started again (2 s down)
#   30 %  Redis is stopped (SIGSTOP) for 5 s
#   40 %  provider a answers 500 for 20 s      50 %  429 with retry-after for 20 s
#   60 %  provider a answers 3 s late for 20 s 70 %  provider a cuts streams after a chunk, 20 s
#   80 %  every replica's config file is broken (a reload that fails), then restored 10 s later
# Prints the table (sent / answered / errors / lost / overshoot / RSS / fds / leaks) and writes it
# with the raw samples to $BENCH_DIR/soak/.
#   bench/soak.sh                   10 minutes
#   DURATION=120 bench/soak.sh      a quick look
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
scripts/install-deps.sh --bench
scripts/build.sh switchyard switchyard-mock >/dev/null
. bench/harness/common.sh

duration=${DURATION:-600}
dir=$BENCH_DIR/soak
rm -rf "$dir" && mkdir -p "$dir/redis"
redis_port=16379 lb_port=18210 mock_a=18201 mock_b=18202
replica_ports=(18211 18212 18213)
for p in $redis_port $lb_port $mock_a $mock_b "${replica_ports[@]}"; do
  port_busy "$p" && die "port $p already in use"
done
# The secrets: none may appear in a log line, /metrics or an answer.
provider_a_key=sk-soak-provider-a-7f3e9b21 provider_b_key=sk-soak-provider-b-c41d08aa
main_key=sk-soak-main capped_key=sk-soak-capped
cap_usd=3

pids=()
cleanup() {
  for p in "${pids[@]}" $(cat "$dir"/*.pid 2>/dev/null); do kill -CONT "$p" 2>/dev/null || true; kill "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

start_redis() {
  redis-server --port $redis_port --bind 127.0.0.1 --dir "$dir/redis" --appendonly yes --save "" \
    >>"$dir/redis.log" 2>&1 &
  echo $! >"$dir/redis.pid"
  wait_port $redis_port 10 || die "redis did not start"
}
start_mock() {  # name port key
  build/switchyard-mock --listen 127.0.0.1:$2 --name "$1" --api-key "$3" --threads 2 \
    >"$dir/mock-$1.log" 2>&1 &
  pids+=($!)
  wait_port "$2" 10 || die "mock $1 did not start"
}
write_config() {  # replica index
  cat >"$dir/replica$1.yaml" <<EOF
server: { listen: "127.0.0.1:${replica_ports[$1]}", workers: 2, drain_timeout: 2s }
log: { level: info, requests: true }
providers:
  a: { type: openai, base_url: "http://127.0.0.1:$mock_a/v1", api_key: $provider_a_key }
  b: { type: openai, base_url: "http://127.0.0.1:$mock_b/v1", api_key: $provider_b_key }
# Input is free and output dear, so a request (max_tokens 8, answered in 3) reserves \$0.08
# and costs \$0.03: the capped key's \$$cap_usd an hour is spent within the first minute.
models:
  chat-a: { provider: a, name: m, input: 0, output: 10000 }
  chat-b: { provider: b, name: m, input: 0, output: 10000 }
routes:
  chat:
    targets: [chat-a, chat-b]
    retry: { attempts: 2, backoff_base: 50ms, backoff_cap: 200ms }
keys:
  main: { sha256: $(printf %s "$main_key" | sha256sum | cut -d' ' -f1) }
  capped: { sha256: $(printf %s "$capped_key" | sha256sum | cut -d' ' -f1), budget: { usd_per_hour: $cap_usd } }
redis: { url: "redis://127.0.0.1:$redis_port" }
EOF
}
start_replica() {  # index
  build/switchyard --config "$dir/replica$1.yaml" >>"$dir/replica$1.log" 2>&1 &
  echo $! >"$dir/replica$1.pid"
  wait_port "${replica_ports[$1]}" 10 || die "replica $1 did not start"
}

start_redis
start_mock a $mock_a $provider_a_key
start_mock b $mock_b $provider_b_key
for i in 0 1 2; do write_config $i; start_replica $i; done
cat >"$dir/haproxy.cfg" <<EOF
global
  maxconn 4096
defaults
  mode http
  timeout connect 2s
  timeout client 90s
  timeout server 90s
  # A replica that refuses the connection is passed over; a request already sent is never
  # sent again (an LLM call is not idempotent).
  retries 2
  option redispatch
  retry-on conn-failure
frontend gateways
  bind 127.0.0.1:$lb_port
  default_backend replicas
backend replicas
  balance roundrobin
  option httpchk GET /readyz
  default-server inter 500ms fall 2 rise 2
  server r0 127.0.0.1:${replica_ports[0]} check
  server r1 127.0.0.1:${replica_ports[1]} check
  server r2 127.0.0.1:${replica_ports[2]} check
EOF
haproxy -f "$dir/haproxy.cfg" >"$dir/haproxy.log" 2>&1 &
pids+=($!)
wait_port $lb_port 10 || die "haproxy did not start"
sleep 2

start=$(date +%s%3N)
mark() { echo "$(($(date +%s%3N))) $*" >>"$dir/faults.txt"; log "$*"; }
at() {  # waits until that fraction of the duration has passed
  local wait_ms
  wait_ms=$(awk -v f="$1" -v d="$duration" -v s="$start" -v now="$(date +%s%3N)" \
    'BEGIN { w = s + f * d * 1000 - now; printf "%d", (w > 0 ? w : 0) }')
  sleep "$((wait_ms / 1000)).$(printf %03d $((wait_ms % 1000)))"
}
mock_defaults() { curl -s -o /dev/null -X POST "http://127.0.0.1:$mock_a/_mock/$1" ${2:+-d "$2"}; }

# RSS and open files of every replica, every 5 s.
(
  while true; do
    for i in 0 1 2; do
      p=$(cat "$dir/replica$i.pid")
      [ -d "/proc/$p" ] || continue
      echo "$(($(date +%s%3N) - start)),$i,$p,$(awk '/VmRSS/ {print $2}' "/proc/$p/status"),$(ls "/proc/$p/fd" | wc -l)"
    done
    sleep 5
  done
) >"$dir/samples.csv" 2>/dev/null &
pids+=($!)

(
  at 0.10; mark "kill -9 replica 1"; kill -9 "$(cat "$dir/replica1.pid")"
  sleep 5; start_replica 1; mark "replica 1 back"
  at 0.20; mark "redis shut down"; redis-cli -p $redis_port shutdown >/dev/null 2>&1 || true
  sleep 2; start_redis; mark "redis back"
  at 0.30; mark "redis stopped"; kill -STOP "$(cat "$dir/redis.pid")"
  sleep 5; kill -CONT "$(cat "$dir/redis.pid")"; mark "redis continued"
  at 0.40; mark "provider a: 500"; mock_defaults defaults '{"status":500}'
  sleep 20; mock_defaults reset; mark "provider a: well"
  at 0.50; mark "provider a: 429"; mock_defaults defaults '{"status":429,"retry-after":"1"}'
  sleep 20; mock_defaults reset; mark "provider a: well"
  at 0.60; mark "provider a: slow"; mock_defaults defaults '{"delay-ms":3000}'
  sleep 20; mock_defaults reset; mark "provider a: well"
  at 0.70; mark "provider a: cuts streams"; mock_defaults defaults '{"drop-after":1}'
  sleep 20; mock_defaults reset; mark "provider a: well"
  at 0.80; mark "configs broken"
  for i in 0 1 2; do cp "$dir/replica$i.yaml" "$dir/replica$i.good"; echo "routes: [" >>"$dir/replica$i.yaml"; done
  sleep 10
  for i in 0 1 2; do cp "$dir/replica$i.good" "$dir/replica$i.yaml"; done; mark "configs restored"
) &
pids+=($!)

URL="http://127.0.0.1:$lb_port/v1/chat/completions" DURATION=$duration EVENTS="$dir/events.jsonl" \
  SECRETS="$provider_a_key,$provider_b_key,$main_key,$capped_key" \
  node bench/soak_load.mjs >"$dir/load.json"
touch "$dir/events.jsonl"

# After the load: the secrets in every log and in each replica's /metrics.
leaks_in_logs=0
for i in 0 1 2; do curl -s "http://127.0.0.1:${replica_ports[$i]}/metrics" >"$dir/metrics$i.txt" || true; done
for s in $provider_a_key $provider_b_key $main_key $capped_key; do
  n=$(cat "$dir"/replica*.log "$dir"/metrics*.txt | grep -c -- "$s" || true)
  leaks_in_logs=$((leaks_in_logs + n))
done
crashed=$(cat "$dir"/replica*.log | grep -c -E 'AddressSanitizer|terminate called|Segmentation|core dumped' || true)
alive=0
for i in 0 1 2; do [ -d "/proc/$(cat "$dir/replica$i.pid")" ] && alive=$((alive + 1)); done

python3 - "$dir" "$cap_usd" "$duration" "$leaks_in_logs" "$crashed" "$alive" <<'EOF' | tee "$dir/summary.md"
import json, sys, csv
d, cap, duration, log_leaks, crashed, alive = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
load = json.load(open(f"{d}/load.json"))
events = [json.loads(l) for l in open(f"{d}/events.jsonl")]
faults = [l.split(" ", 1) for l in open(f"{d}/faults.txt").read().splitlines()]
fault_at = {what: int(t) for t, what in faults}
kill = fault_at.get("kill -9 replica 1", 0)
lost = [e for e in events if e["kind"] == "lost"]
# A request in flight on the killed replica is lost with it: those fail within 2 s of the kill.
lost_kill = [e for e in lost if kill <= e["t"] <= kill + 2000]
costs = [e for e in events if e["kind"] == "capped_cost"]
redis_down = [(fault_at["redis shut down"], fault_at["redis back"] + 3000),
              (fault_at["redis stopped"], fault_at["redis continued"] + 3000)]
spent = sum(e["usd"] for e in costs)
spent_redis_up = sum(e["usd"] for e in costs if not any(a <= e["t"] <= b for a, b in redis_down))
samples = list(csv.reader(open(f"{d}/samples.csv")))
def trend(replica):
    rows = [r for r in samples if int(r[1]) == replica and int(r[0]) >= 60_000]
    pid_rows = [r for r in rows if r[2] == rows[-1][2]] if rows else []  # the process at the end
    if not pid_rows: return "–", "–"
    a, b = pid_rows[0], pid_rows[-1]
    return f"{int(a[3]) // 1024} → {int(b[3]) // 1024}", f"{a[4]} → {b[4]}"
print(f"| sent | answered 2xx | proper errors | lost | lost on the killed replica | bad answers |")
print(f"|---|---|---|---|---|---|")
print(f"| {load['sent']} | {load['ok']} | {load['error']} | {len(lost)} | {len(lost_kill)} | {load['bad']} |")
print()
print(f"| budget | spent (Redis answering) | spent (all) | overshoot (Redis answering) | overshoot (all) |")
print(f"|---|---|---|---|---|")
print(f"| ${cap:.2f}/h | ${spent_redis_up:.2f} | ${spent:.2f} | ${max(0, spent_redis_up - cap):.2f} | ${max(0, spent - cap):.2f} |")
print()
print("| replica | RSS MiB (1 min → end) | open files (1 min → end) |")
print("|---|---|---|")
for i in range(3):
    rss, fds = trend(i)
    print(f"| {i} | {rss} | {fds} |")
print()
print(f"duration {duration} s; crashes: {crashed}; replicas alive at the end: {alive}/3; secrets in logs and /metrics: {log_leaks}; in answers: {load['leaks']}")
print(f"proper errors by status and code: {json.dumps(load['error_codes'], sort_keys=True)}")
EOF
