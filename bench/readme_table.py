#!/usr/bin/env python3
"""Writes the README's performance table from one bench/run.sh run, so it is never edited by hand.

Usage: bench/readme_table.py [RESULTS_DIR] [--readme README.md]
RESULTS_DIR is a run's directory (runs.csv, setup.txt); the newest under
$BENCH_DIR/results (default /tmp/switchyard-bench/results) when omitted. The table replaces what
stands between the `<!-- perf-table:begin -->` and `<!-- perf-table:end -->` lines.

Per pinned/unpinned and target, medians over the run's repetitions: max req/s and its ratio to
nginx, CPU µs per request and its ratio to nginx (both ratios taken per repetition, in the same
slot and so under the same machine noise, then the median), latency p50 / p99 / p99.9 at
1000 req/s with what it adds to the direct call's p99, and the idle RSS.
"""
import csv
import os
import re
import statistics
import sys
from pathlib import Path

BEGIN, END = "<!-- perf-table:begin -->", "<!-- perf-table:end -->"


def newest_run():
    root = Path(os.environ.get("BENCH_DIR", "/tmp/switchyard-bench")) / "results"
    runs = sorted(p for p in root.iterdir() if (p / "runs.csv").is_file())
    if not runs:
        sys.exit(f"no bench/run.sh results under {root}")
    return runs[-1]


def p999_us(raw):
    """wrk's RESULT line in the raw output holds p99.9; runs.csv does not."""
    try:
        match = re.search(r"\bp999_us=(\d+)", Path(raw).read_text())
    except OSError:
        return None
    return float(match.group(1)) if match else None


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def ratio_median(rows, ref_rows, key):
    by_rep = {r["rep"]: float(r[key]) for r in ref_rows if float(r[key] or 0) > 0}
    return median([float(r[key]) / by_rep[r["rep"]] for r in rows if r["rep"] in by_rep])


def fmt(value, spec):
    return "–" if value is None else format(value, spec)


def table(run):
    rows = list(csv.DictReader(open(run / "runs.csv")))
    def pick(pin, target, mode, rate=None):
        return [r for r in rows if r["pin"] == pin and r["target"] == target and r["mode"] == mode
                and (rate is None or r["target_rate"] == rate)]
    setup = (run / "setup.txt").read_text()
    commit = re.search(r"# switchyard (\S+?),", setup)
    machine = re.search(r"# machine: (.+)", setup)
    reps = max(int(r["rep"]) for r in rows)
    lines = [
        f"Run {run.name} (build {commit.group(1) if commit else '?'}; "
        f"{machine.group(1) if machine else '?'}), medians of {reps} interleaved "
        f"repetition{'s' if reps > 1 else ''}; "
        "pinned = the target alone on one core, wrk and the mock on the other; latency at a fixed "
        "1000 req/s over 20 connections. Written by `bench/readme_table.py` from that run.",
        "",
        "| pinned | target | max req/s | × nginx | CPU µs/req | CPU × nginx "
        "| p50 / p99 / p99.9 ms @1000 rps | p99 added ms | RSS MiB idle |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    targets = [t for t in ("direct", "nginx", "switchyard") if any(r["target"] == t for r in rows)]
    for pin in sorted({r["pin"] for r in rows}, reverse=True):
        for target in targets:
            mx = pick(pin, target, "max")
            rate = pick(pin, target, "rate", "1000")
            if not mx and not rate:
                continue
            nginx_mx, direct_rate = pick(pin, "nginx", "max"), pick(pin, "direct", "rate", "1000")
            rps = median([float(r["rps"]) for r in mx])
            cpu = median([float(r["sut_cpu_us_per_req"]) for r in mx if r["sut_cpu_us_per_req"]])
            vs = target not in ("direct", "nginx")
            x_rps = ratio_median(mx, nginx_mx, "rps") if vs else None
            x_cpu = ratio_median(mx, nginx_mx, "sut_cpu_us_per_req") if vs else None
            p50 = median([float(r["p50_us"]) / 1000 for r in rate])
            p99 = median([float(r["p99_us"]) / 1000 for r in rate])
            p999 = median([(p999_us(r["raw"]) or 0) / 1000 for r in rate]) if rate else None
            direct_p99 = {r["rep"]: float(r["p99_us"]) for r in direct_rate}
            added = median([(float(r["p99_us"]) - direct_p99[r["rep"]]) / 1000 for r in rate
                            if r["rep"] in direct_p99]) if target != "direct" else None
            idle = [float(r["sut_rss_idle_kb"]) for r in mx + rate if r["sut_rss_idle_kb"]]
            name = f"**{target}**" if vs else target
            lines.append(
                f"| {'yes' if pin == '1' else 'no'} | {name} | {fmt(rps, '.0f')} | "
                f"{fmt(x_rps, '.2f')} | {fmt(cpu, '.1f')} | {fmt(x_cpu, '.2f')} | "
                f"{fmt(p50, '.3f')} / {fmt(p99, '.3f')} / {fmt(p999, '.3f')} | "
                f"{fmt(added, '+.3f')} | {fmt(min(idle) / 1024 if idle else None, '.1f')} |")
    return "\n".join(lines)


def main(argv):
    readme = Path("README.md")
    args = list(argv)
    if "--readme" in args:
        i = args.index("--readme")
        readme = Path(args[i + 1])
        del args[i:i + 2]
    run = Path(args[0]) if args else newest_run()
    text = readme.read_text()
    if BEGIN not in text or END not in text:
        sys.exit(f"{readme} has no {BEGIN} … {END} block")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    readme.write_text(f"{head}{BEGIN}\n{table(run)}\n{END}{tail}")
    print(f"{readme}: table from {run}")


if __name__ == "__main__":
    main(sys.argv[1:])
