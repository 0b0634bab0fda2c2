#!/usr/bin/env bash
# Start-up time and idle memory on the demo config: the gateway is started RUNS times (default 5)
# beside the demo's two mock providers; each time, the milliseconds from exec to the first
# 200 from /readyz, and the resident memory one second later (MCP servers run as their own
# processes and are not counted).
#   bench/footprint.sh            RUNS=10 bench/footprint.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh switchyard switchyard-mock >/dev/null
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
build/switchyard-mock --listen 127.0.0.1:9101 --name alpha >/dev/null 2>&1 & pids+=($!)
build/switchyard-mock --listen 127.0.0.1:9102 --name beta >/dev/null 2>&1 & pids+=($!)
RUNS=${RUNS:-5} python3 - <<'PY'
import os, socket, statistics, subprocess, time

def ready():
    try:
        with socket.create_connection(("127.0.0.1", 8080), timeout=1) as s:
            s.sendall(b"GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            return s.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False

starts, rss = [], []
for _ in range(int(os.environ["RUNS"])):
    begun = time.monotonic()
    p = subprocess.Popen(["build/switchyard", "--config", "config/demo.yaml"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while not ready():
        time.sleep(0.0005)
    starts.append((time.monotonic() - begun) * 1000)
    time.sleep(1)
    with open(f"/proc/{p.pid}/status") as status:
        rss.append(next(int(l.split()[1]) for l in status if l.startswith("VmRSS")) / 1024)
    p.terminate()
    p.wait()
print(f"ready in ms: median {statistics.median(starts):.1f} (min {min(starts):.1f}, "
      f"max {max(starts):.1f}); idle RSS MiB: median {statistics.median(rss):.1f} "
      f"(max {max(rss):.1f}); {len(starts)} runs, config/demo.yaml")
PY
