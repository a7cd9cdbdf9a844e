#!/usr/bin/env python3
"""Checks the Grafana dashboard: valid JSON, every panel with a title and
queries, and every metric a query names one the server exports (the list
below: docs/monitoring.md names each; a histogram's _bucket, _sum and
_count series count as the histogram).

Usage: check_dashboard.py DASHBOARD.json
"""
import json
import re
import sys

EXPORTED = {
    # coordinatool's own
    "coordinatool_requests_waiting", "coordinatool_requests_running",
    "coordinatool_requests_completed_total",
    "coordinatool_requests_received_total",
    "coordinatool_requests_cancelled_total",
    "coordinatool_requests_dropped_total", "coordinatool_requests_oversized",
    "coordinatool_oldest_waiting_age_seconds",
    "coordinatool_dispatch_wait_seconds", "coordinatool_run_seconds",
    "coordinatool_mover_connected", "coordinatool_mover_draining",
    "coordinatool_mover_completed_total", "coordinatool_store_writable",
    "coordinatool_store_write_seconds", "coordinatool_dispatch_locked",
    "coordinatool_report_errors_total", "coordinatool_locality_errors_total",
    "coordinatool_connections", "coordinatool_build_info",
    # the standard process metrics
    "process_cpu_seconds_total", "process_resident_memory_bytes",
    "process_virtual_memory_bytes", "process_open_fds", "process_max_fds",
    "process_start_time_seconds",
}
HISTOGRAMS = {"coordinatool_dispatch_wait_seconds", "coordinatool_run_seconds",
              "coordinatool_store_write_seconds"}
NAME = re.compile(r"\b((?:coordinatool|process)_[a-z_]+)\b")


def exprs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "expr" and isinstance(value, str):
                yield value
            else:
                yield from exprs(value)
            if key == "query" and isinstance(value, str):
                yield value
    elif isinstance(node, list):
        for value in node:
            yield from exprs(value)


def main(path):
    with open(path, encoding="utf-8") as f:
        dashboard = json.load(f)
    errors = []
    if not dashboard.get("title") or not dashboard.get("uid"):
        errors.append("no title or uid")
    panels = [p for p in dashboard.get("panels", []) if p.get("type") != "row"]
    if not panels:
        errors.append("no panels")
    for panel in panels:
        if not panel.get("title") or not panel.get("targets"):
            errors.append("panel %s: no title or no targets" % panel.get("id"))
    named = set()
    for expr in exprs(dashboard):
        for name in NAME.findall(expr):
            base = re.sub(r"_(bucket|sum|count)$", "", name)
            if name != base and base not in HISTOGRAMS:
                base = name
            named.add(base)
            if base not in EXPORTED:
                errors.append("%r: not a metric the server exports" % name)
            elif name != base and base not in HISTOGRAMS:
                errors.append("%r: %s is not a histogram" % (name, base))
    for error in errors:
        print("%s: %s" % (path, error))
    if errors:
        return 1
    print("%s: %d panels, %d metrics, all exported" %
          (path, len(panels), len(named)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
