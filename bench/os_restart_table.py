#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Prints the OS restart table from JSON lines (os_restart_compare.sh's output)."""
import json
import sys


def main(path):
    recs = {}
    for line in open(path):
        line = line.strip()
        if not line.startswith("{"):
            continue
        r = json.loads(line)
        recs.setdefault((r["bench"], r["impl"]), r)
    floor = recs.get(("calib_fork_exec", "c-bench")) or recs.get(("calib_fork_exec", "c"))
    print("| what | restart after a long life: median | p99 | after a quick death: median | p99 | idle CPU | RSS |")
    print("|---|---|---|---|---|---|---|")
    impls = []
    for (bench, impl) in recs:
        if bench in ("restart_long", "restart_quick") and impl not in impls:
            impls.append(impl)
    for impl in impls:
        lo = recs.get(("restart_long", impl), {})
        qu = recs.get(("restart_quick", impl), {})
        idle = recs.get(("sup_idle", impl), {})
        cpu = f"{idle['per_op_ns'] / 1e6:.2f} ms/s" if idle else ""
        rss = f"{idle.get('rss_kb', lo.get('rss_kb', 0)) / 1024:.1f} MiB"
        print(f"| {impl} | {lo.get('p50_ms', '')} ms | {lo.get('p99_ms', '')} ms | "
              f"{qu.get('p50_ms', '')} ms | {qu.get('p99_ms', '')} ms | {cpu} | {rss} |")
    for key, label in ((("calib_fork_exec", "c"), "fork+exec floor (anchors' calib.c)"),
                       (("calib_fork_exec", "c-bench"), "fork+exec floor (same process as Vigil)"),
                       (("calib_launch", "vigil"), "Vigil's launcher alone")):
        r = recs.get(key)
        if r:
            p50 = r.get("p50_ms", r["per_op_ns"] / 1e6)
            p99 = r.get("p99_ms", r.get("p99_ns", 0) / 1e6)
            print(f"| {label} | {p50:.3f} ms | {p99:.3f} ms | | | | |")
    ours = recs.get(("restart_long", "vigil"))
    if floor and ours:
        floor_ms = floor.get("p50_ms", floor["per_op_ns"] / 1e6)
        quick = recs.get(("restart_quick", "vigil"), {})
        print(f"\nVigil's median restart - fork+exec floor median: {ours['p50_ms'] - floor_ms:+.3f} ms"
              f" after a long life, {quick.get('p50_ms', 0) - floor_ms:+.3f} ms after a quick death"
              " (target <= +0.5 ms)")
    for bench in ("restart_long_death", "restart_quick_death"):
        r = recs.get((bench, "vigil"))
        if r:
            print(f"{bench}: SIGKILL until the exit shows on a pidfd, median {r['p50_ms']:.3f} ms,"
                  f" p99 {r['p99_ms']:.3f} ms (kernel; in every supervisor's latency, in no floor)")
    for bench in ("port_roundtrip_sdk", "port_roundtrip_worker"):
        r = recs.get((bench, "vigil"))
        p = recs.get((bench + "_pipelined", "vigil"))
        if r:
            print(f"{bench}: median {r['p50_ms'] * 1000:.1f} us, p99 {r['p99_ms'] * 1000:.1f} us"
                  + (f"; pipelined {p['msgs_per_s']:.0f} msgs/s" if p else ""))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/tmp/os_restart.jsonl")
