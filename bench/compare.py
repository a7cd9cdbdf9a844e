#!/usr/bin/env python3
"""Runs one workload against several coordinatool servers, alternating.

Each round runs every server once on the same backlog (N requests queued,
then drained by M null movers), so all of them see the machine in the same
state; the table shows the median and range of each figure over the rounds,
and each server's ratio to the first. Another server is any binary that
speaks the coordinatool protocol and registers with the simulator, e.g. the
original coordinatool built on it (docs/performance.md says how).

Usage:
  bench/compare.py --server ours=build/server/coordinatool \
      --server original=/path/to/lhsmd_coordinatool \
      [--sizes 10000,100000] [--movers 1,64] [--rounds 3] [--out DIR] \
      [--store none|embedded|...] \
      [--bench build/bench/e2e/coordinatool_bench] [-- EXTRA BENCH ARGS]

Writes each run's JSON to DIR (default: a new temporary directory) and the
table, in Markdown, to standard output. A run that fails is reported in the
table as failed, the others go on, and the exit status is 1.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

FIGURES = [
    # (JSON field, column title, scale)
    ("server_cpu_seconds_per_1000", "server CPU µs/request", 1000.0),
    ("requests_per_second", "drain requests/s", 1.0),
    ("bytes_per_queued_request", "bytes/queued request", 1.0),
]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", action="append", required=True,
                        metavar="NAME=PATH",
                        help="a server binary and its label (repeatable)")
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--movers", default="1,64")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--store", default="none",
                        help="store given to servers that have --store")
    parser.add_argument("--out")
    parser.add_argument("--bench", default="build/bench/e2e/coordinatool_bench")
    parser.add_argument("extra", nargs="*",
                        help="more coordinatool_bench arguments, after --")
    args = parser.parse_args()
    args.servers = []
    for spec in args.server:
        name, sep, path = spec.partition("=")
        if not sep or not name or not path:
            parser.error(f"--server wants NAME=PATH, not {spec!r}")
        if not os.access(path, os.X_OK):
            parser.error(f"{path}: not an executable")
        args.servers.append((name, path))
    args.sizes = [int(s) for s in args.sizes.split(",")]
    args.movers = [int(m) for m in args.movers.split(",")]
    return args


def run_once(args, out, name, path, size, movers, round_no):
    result = os.path.join(out, f"{name}-n{size}-m{movers}-r{round_no}.json")
    command = [args.bench, "--mode", "backlog", "-n", str(size), "-m",
               str(movers), "--store", args.store, "--server", path, "--json",
               result] + args.extra
    with open(result + ".log", "w") as log:
        code = subprocess.call(command, stdout=log, stderr=subprocess.STDOUT)
    if code != 0 or not os.path.exists(result):
        print(f"compare: {name} n={size} m={movers} round {round_no} "
              f"failed (exit {code}, log {result}.log)", file=sys.stderr)
        return None
    with open(result) as f:
        run = json.load(f)
    return run if run.get("ok") else None


def cell(values, scale):
    if not values:
        return "failed"
    values = [v * scale for v in values]
    median = statistics.median(values)
    text = f"{median:,.1f}" if median < 100 else f"{median:,.0f}"
    if len(values) > 1:
        low, high = min(values), max(values)
        fmt = (lambda v: f"{v:,.1f}") if high < 100 else (lambda v: f"{v:,.0f}")
        text += f" ({fmt(low)}–{fmt(high)})"
    return text


def main():
    args = parse_args()
    out = args.out or tempfile.mkdtemp(prefix="coordinatool-compare-")
    os.makedirs(out, exist_ok=True)
    runs = {}  # (name, size, movers) -> [run JSON]
    failures = 0
    for size in args.sizes:
        for movers in args.movers:
            for round_no in range(1, args.rounds + 1):
                for name, path in args.servers:
                    run = run_once(args, out, name, path, size, movers,
                                   round_no)
                    runs.setdefault((name, size, movers), [])
                    if run:
                        runs[(name, size, movers)].append(run)
                    else:
                        failures += 1
    first = args.servers[0][0]
    header = ["N queued", "movers", "server"] + [t for _, t, _ in FIGURES]
    header.append(f"CPU / {first}")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join(["---:"] * 2 + ["---"] + ["---:"] * (len(header) - 3))
          + "|")
    for size in args.sizes:
        for movers in args.movers:
            base = [r["server_cpu_seconds_per_1000"]
                    for r in runs[(first, size, movers)]]
            for name, _ in args.servers:
                these = runs[(name, size, movers)]
                row = [f"{size:,}", str(movers), name]
                for field, _, scale in FIGURES:
                    row.append(cell([r[field] for r in these if field in r],
                                    scale))
                cpu = [r["server_cpu_seconds_per_1000"] for r in these]
                if base and cpu:
                    row.append(f"{statistics.median(cpu) / statistics.median(base):.2f}")
                else:
                    row.append("–")
                print("| " + " | ".join(row) + " |")
    print(f"\n{args.rounds} rounds, servers alternated within each round; "
          f"median (range). Runs: {out}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
