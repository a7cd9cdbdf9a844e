#!/usr/bin/env python3
"""Summarizes a scripts/bench results directory.

Reads micro.json and micro-policy.json (Google Benchmark) and the
coordinatool_bench JSON files
(one per run), writes summary.md (tables: median and min of the repetitions,
or max for throughputs) and, when gnuplot is installed, PNG plots of
throughput and per-request cost against queue size.

Usage: bench/summarize.py RESULTS_DIR
"""
import glob
import json
import os
import shutil
import statistics
import subprocess
import sys

SIZES = [1000, 10000, 100000, 1000000]
MICRO_OPS = ["Enqueue", "Dispatch", "DispatchBurst64", "Done", "Cancel",
             "Release"]
# policy_bench rows: (benchmark name, label). one_policy_dispatch runs are
# named by their policy bit (bench/micro/policy_bench.cc).
POLICY_OPS = [
    ("plain_dispatch", "Dispatch, no policy (per item)"),
    ("policy_dispatch", "**Dispatch, all policies** (per item)"),
    ("one_policy_dispatch:1", "Dispatch, fair share only"),
    ("one_policy_dispatch:2", "Dispatch, aging only"),
    ("one_policy_dispatch:4", "Dispatch, batching only"),
    ("one_policy_dispatch:8", "Dispatch, affinity only"),
    ("plain_enqueue", "Enqueue, no policy"),
    ("policy_enqueue", "Enqueue, all policies"),
]
POLICY_COUNTERS = ["per_call", "items_per_call", "slot_share", "aged_calls",
                   "u0_restore_share", "restore_owners", "restore_queues"]


def load_runs(results):
    runs = []
    for path in sorted(glob.glob(os.path.join(results, "*.json"))):
        name = os.path.basename(path)
        if name in ("micro.json", "micro-policy.json", "machine.json"):
            continue
        with open(path) as f:
            try:
                run = json.load(f)
            except json.JSONDecodeError:
                continue
        if run.get("benchmark") == "coordinatool_e2e":
            run["policy"] = policy_of(run.get("server_args", []))
            runs.append(run)
    return runs


def policy_of(args):
    for i, arg in enumerate(args):
        if arg in ("-c", "--config") and i + 1 < len(args):
            return os.path.splitext(os.path.basename(args[i + 1]))[0]
    return "default"


def group(runs, keys):
    groups = {}
    for run in runs:
        groups.setdefault(tuple(run.get(k) for k in keys), []).append(run)
    return groups


def values(runs, path):
    out = []
    for run in runs:
        v = run
        for key in path.split("."):
            v = v.get(key) if isinstance(v, dict) else None
        if isinstance(v, (int, float)):
            out.append(float(v))
    return out


def order(item):
    """Sort key of a group: numbers numerically, the rest as text."""
    return tuple((0, x, "") if isinstance(x, (int, float)) else (1, 0, str(x))
                 for x in item[0])


def med(xs):
    return statistics.median(xs) if xs else None


def fmt(x, scale=1.0, digits=0):
    if x is None:
        return "–"
    return f"{x * scale:,.{digits}f}"


def iterations(results, name):
    """The iteration runs (not aggregates) of Google Benchmark file NAME in
    RESULTS; none if it is missing or not JSON."""
    path = os.path.join(results, name)
    if not os.path.exists(path):
        return []
    try:
        with open(path) as f:
            data = json.load(f)
    except json.JSONDecodeError:
        return []
    return [b for b in data.get("benchmarks", [])
            if b.get("run_type") == "iteration"]


def micro(results):
    per_op, memory = {}, {}
    for b in iterations(results, "micro.json"):
        parts = b["run_name"].split("/")
        op, size = parts[0].removeprefix("BM_"), int(parts[1])
        if op == "Memory":
            memory.setdefault(size, []).append(b)
        elif "per_op" in b:
            per_op.setdefault((op, size), []).append(b["per_op"] * 1e9)
    return per_op, memory


def policy_micro(results):
    """{(op, size): [ns per op]} and {(op, size): [benchmark]} of
    micro-policy.json."""
    per_op, runs = {}, {}
    for b in iterations(results, "micro-policy.json"):
        if "per_op" not in b:
            continue
        parts = b["run_name"].split("/")
        op, size = parts[0], int(parts[1])
        if len(parts) > 2 and parts[2].startswith("policy:"):
            op += ":" + parts[2].removeprefix("policy:")
        per_op.setdefault((op, size), []).append(b["per_op"] * 1e9)
        runs.setdefault((op, size), []).append(b)
    return per_op, runs


def policy_tables(per_op, runs, lines):
    if not per_op:
        return
    lines += ["## Micro: Scheduler with scheduling policies, ns per item at "
              "N queued", "", "16 movers, 30 % restores, 10 % removes, 60 % "
              "archives (1,000 hints); median (min) of the repetitions; "
              "ratio = 1e6 / 1e3 medians",
              "", "| operation | " + " | ".join(f"{n:,}" for n in SIZES) +
              " | ratio |", "|---|" + "---:|" * (len(SIZES) + 1)]
    for op, label in POLICY_OPS:
        if not any((op, n) in per_op for n in SIZES):
            continue
        cells, meds = [], {}
        for n in SIZES:
            xs = per_op.get((op, n), [])
            meds[n] = med(xs)
            cells.append(f"{fmt(meds[n])} ({fmt(min(xs) if xs else None)})")
        ratio = (meds[SIZES[-1]] / meds[SIZES[0]]
                 if meds[SIZES[0]] and meds[SIZES[-1]] else None)
        lines.append(f"| {label} | " + " | ".join(cells) +
                     f" | {fmt(ratio, digits=2)} |")
    lines.append("")
    rows = [(n, runs[("policy_dispatch", n)]) for n in SIZES
            if ("policy_dispatch", n) in runs]
    if rows:
        lines += ["### All policies: what the timed dispatches did (medians)",
                  "", "| N | " + " | ".join(POLICY_COUNTERS) + " |",
                  "|---:|" + "---:|" * len(POLICY_COUNTERS)]
        for n, bs in rows:
            cells = []
            for c in POLICY_COUNTERS:
                v = med([b[c] for b in bs if c in b])
                cells.append(fmt(v, 1e6, 2) + " us" if c == "per_call"
                             else fmt(v, digits=3 if v and v < 10 else 0))
            lines.append(f"| {n:,} | " + " | ".join(cells) + " |")
        lines.append("")


def micro_tables(per_op, memory, lines):
    if not per_op:
        return
    lines += ["## Micro: Scheduler, ns per operation at N queued",
              "", "median (min) of the repetitions; ratio = 1e6 / 1e3 medians",
              "", "| operation | " + " | ".join(f"{n:,}" for n in SIZES) +
              " | ratio |", "|---|" + "---:|" * (len(SIZES) + 1)]
    for op in MICRO_OPS:
        cells, meds = [], {}
        for n in SIZES:
            xs = per_op.get((op, n), [])
            meds[n] = med(xs)
            cells.append(f"{fmt(meds[n], digits=0)} ({fmt(min(xs) if xs else None)})")
        ratio = (meds[SIZES[-1]] / meds[SIZES[0]]
                 if meds[SIZES[0]] and meds[SIZES[-1]] else None)
        lines.append(f"| {op} | " + " | ".join(cells) +
                     f" | {fmt(ratio, digits=2)} |")
    lines.append("")
    if memory:
        lines += ["## Micro: memory per queued request (64-byte hsm data)",
                  "", "| queued | heap bytes/request | RSS bytes/request |",
                  "|---:|---:|---:|"]
        for n in sorted(memory):
            heap = med([b["heap_bytes_per_request"] for b in memory[n]])
            rss = med([b["rss_bytes_per_request"] for b in memory[n]])
            lines.append(f"| {n:,} | {fmt(heap)} | {fmt(rss)} |")
        lines.append("")


def e2e_table(runs, lines):
    conc = [r for r in runs if r.get("mode") == "concurrent" and r.get("ok")]
    if not conc:
        return
    lines += ["## End to end: requests injected at full speed, null movers",
              "", "median (best) of the repetitions; latency = server first "
              "sight to reception by the mover; CPU = server CPU seconds "
              "(user + system) per 1,000 requests",
              "", "| store | policy | inject | N | movers | requests/s | "
              "CPU s/1000 | latency p50 ms | p99 ms | max ms | peak RSS MiB | "
              "store bytes/request |",
              "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    keys = ("store", "policy", "inject", "requests", "movers")
    for key, rs in sorted(group(conc, keys).items(), key=order):
        rate = values(rs, "requests_per_second")
        lines.append(
            f"| {key[0]} | {key[1]} | {key[2]} | {key[3]:,} | {key[4]} | "
            f"{fmt(med(rate))} ({fmt(max(rate))}) | "
            f"{fmt(med(values(rs, 'server_cpu_seconds_per_1000')), digits=4)} | "
            f"{fmt(med(values(rs, 'dispatch_latency_ns.p50')), 1e-6, 1)} | "
            f"{fmt(med(values(rs, 'dispatch_latency_ns.p99')), 1e-6, 1)} | "
            f"{fmt(med(values(rs, 'dispatch_latency_ns.max')), 1e-6, 1)} | "
            f"{fmt(med(values(rs, 'server_peak_rss_bytes')), 2**-20, 1)} | "
            f"{fmt(med(values(rs, 'server_write_bytes_per_request')), digits=0)} |")
    lines.append("")


def backlog_table(runs, lines):
    back = [r for r in runs if r.get("mode") == "backlog" and r.get("ok")]
    if not back:
        return
    lines += ["## Backlog: N queued with no mover, then drained by 64 null "
              "movers", "", "median (best) of the repetitions",
              "", "| store | N queued | drain requests/s | drain CPU s/1000 | "
              "inject requests/s | inject CPU s/1000 | bytes/queued request "
              "(RSS) | RSS at N MiB | peak RSS MiB |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for key, rs in sorted(group(back, ("store", "requests")).items(),
                          key=order):
        rate = values(rs, "requests_per_second")
        inject = values(rs, "inject_requests_per_second")
        lines.append(
            f"| {key[0]} | {key[1]:,} | {fmt(med(rate))} ({fmt(max(rate))}) | "
            f"{fmt(med(values(rs, 'server_cpu_seconds_per_1000')), digits=4)} | "
            f"{fmt(med(inject))} | "
            f"{fmt(med(values(rs, 'inject_server_cpu_seconds_per_1000')), digits=4)} | "
            f"{fmt(med(values(rs, 'bytes_per_queued_request')))} | "
            f"{fmt(med(values(rs, 'queued_rss_bytes')), 2**-20, 1)} | "
            f"{fmt(med(values(rs, 'server_peak_rss_bytes')), 2**-20, 1)} |")
    lines.append("")


def restart_table(runs, lines):
    rest = [r for r in runs if r.get("mode") == "restart"]
    if not rest:
        lines += ["## Restart", "", "No restart run (no store available).", ""]
        return
    lines += ["## Restart: N queued, server killed (SIGKILL) and started again",
              "", "median (min) seconds until the status shows all N",
              "", "| store | N | recovery s | listening after s | RSS after MiB |",
              "|---|---:|---:|---:|---:|"]
    for key, rs in sorted(group(rest, ("store", "requests")).items(),
                          key=order):
        if any("skipped" in r for r in rs):
            lines.append(f"| {key[0]} | {key[1]} | skipped: "
                         f"{rs[0]['skipped']} | | |")
            continue
        rec = values([r for r in rs if r.get("ok")], "recovery_seconds")
        lines.append(
            f"| {key[0]} | {key[1]:,} | {fmt(med(rec), digits=2)} "
            f"({fmt(min(rec) if rec else None, digits=2)}) | "
            f"{fmt(med(values(rs, 'listen_seconds')), digits=2)} | "
            f"{fmt(med(values(rs, 'recovered_rss_bytes')), 2**-20, 1)} |")
    lines.append("")


def gnuplot(results, name, script, series):
    """Writes NAME.png from `series` {title: [(x, y)...]} with `script`."""
    if not shutil.which("gnuplot") or not any(series.values()):
        return False
    plot = []
    for i, (title, points) in enumerate(sorted(series.items())):
        if not points:
            continue
        data = os.path.join(results, f"{name}-{i}.dat")
        with open(data, "w") as f:
            for x, y in sorted(points):
                f.write(f"{x} {y}\n")
        plot.append(f"'{data}' using 1:2 with linespoints lw 2 title '{title}'")
    text = ("set terminal pngcairo size 900,540 noenhanced\n"
            f"set output '{os.path.join(results, name + '.png')}'\n"
            "set grid\nset key outside right\n" + script +
            "\nplot " + ", ".join(plot) + "\n")
    subprocess.run(["gnuplot"], input=text.encode(), check=False)
    return True


def plots(results, per_op, runs, policy_per_op):
    made = []
    series = {label.strip("*"): [(n, med(policy_per_op[(op, n)]))
                                 for n in SIZES if (op, n) in policy_per_op]
              for op, label in POLICY_OPS if op.endswith("dispatch")
              or op.startswith("one_policy")}
    if gnuplot(results, "micro_policy_per_op", "set logscale x\nset xlabel "
               "'queued requests'\nset ylabel 'ns per dispatched item'\n"
               "set yrange [0:*]\nset title 'Scheduler dispatch with "
               "policies: cost per item vs queue size'", series):
        made.append("micro_policy_per_op.png")
    series = {op: [(n, med(per_op[(op, n)])) for n in SIZES if (op, n) in per_op]
              for op in MICRO_OPS}
    if gnuplot(results, "micro_per_op", "set logscale x\nset xlabel 'queued requests'"
               "\nset ylabel 'ns per operation'\nset yrange [0:*]\n"
               "set title 'Scheduler: cost per operation vs queue size'", series):
        made.append("micro_per_op.png")
    back = [r for r in runs if r.get("mode") == "backlog" and r.get("ok")]
    by = group(back, ("store", "requests"))
    rate, cost, mem = {}, {}, {}
    for (store, n), rs in by.items():
        rate.setdefault(store, []).append((n, med(values(rs, "requests_per_second"))))
        cost.setdefault(store, []).append(
            (n, med(values(rs, "server_cpu_seconds_per_1000")) * 1000))
        mem.setdefault(store, []).append(
            (n, med(values(rs, "bytes_per_queued_request"))))
    common = "set logscale x\nset xlabel 'queued requests'\nset yrange [0:*]\n"
    if gnuplot(results, "backlog_throughput", common +
               "set ylabel 'requests/s'\nset title "
               "'Drain throughput (64 null movers) vs queue size'", rate):
        made.append("backlog_throughput.png")
    if gnuplot(results, "backlog_cpu_per_request", common +
               "set ylabel 'server CPU us per request'\nset title "
               "'Server CPU per request (drain) vs queue size'", cost):
        made.append("backlog_cpu_per_request.png")
    if gnuplot(results, "backlog_bytes_per_request", common +
               "set ylabel 'RSS bytes per queued request'\nset title "
               "'Memory per queued request vs queue size'", mem):
        made.append("backlog_bytes_per_request.png")
    conc = [r for r in runs if r.get("mode") == "concurrent" and r.get("ok")]
    series = {}
    for (store, policy, inject, movers), rs in group(
            conc, ("store", "policy", "inject", "movers")).items():
        title = f"{store} {inject}" + ("" if policy == "default" else f" {policy}")
        series.setdefault(title, []).append(
            (movers, med(values(rs, "requests_per_second"))))
    if gnuplot(results, "e2e_throughput", "set logscale x 2\nset xlabel "
               "'null movers'\nset ylabel 'requests/s'\nset yrange [0:*]\n"
               "set title 'End-to-end throughput vs movers'", series):
        made.append("e2e_throughput.png")
    return made


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    results = sys.argv[1]
    machine = {}
    if os.path.exists(os.path.join(results, "machine.json")):
        with open(os.path.join(results, "machine.json")) as f:
            machine = json.load(f)
    per_op, memory = micro(results)
    runs = load_runs(results)
    lines = [f"# Benchmark summary: {os.path.basename(os.path.abspath(results))}",
             "", f"commit {machine.get('commit', '?')}"
             f"{' (with local changes)' if machine.get('dirty') else ''}, "
             f"{machine.get('nproc', '?')} CPUs ({machine.get('cpu', '?')}), "
             f"{machine.get('reps', '?')} repetitions", ""]
    micro_tables(per_op, memory, lines)
    policy_per_op, policy_runs = policy_micro(results)
    policy_tables(policy_per_op, policy_runs, lines)
    e2e_table(runs, lines)
    backlog_table(runs, lines)
    restart_table(runs, lines)
    failed = [r for r in runs if not r.get("ok")]
    if failed:
        lines += ["## Failed runs", ""]
        lines += [f"- {r.get('mode')} {r.get('store')} {r.get('requests')}: "
                  f"{r.get('error', '')[:200]}" for r in failed]
        lines.append("")
    made = plots(results, per_op, runs, policy_per_op)
    lines += [f"![{m}]({m})" for m in made]
    with open(os.path.join(results, "summary.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
