#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The observer's /metrics with N in-process children (docs/benchmarks.md, "Observer"):
starts a vigild with N echo workers under one supervisor and [observer] on a Unix socket,
waits for the tree, then times RUNS scrapes (request sent to last byte read, one connection
each, as Prometheus scrapes) and prints p50, p90, max and the size of a scrape. One JSON line
goes to --out.

Usage: observer_scrape.py --vigild PATH [--children 10000] [--runs 200] [--out FILE]
"""

import argparse
import json
import os
import socket
import statistics
import subprocess
import tempfile
import time

from bench_daemon import stop_daemon


def scrape(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(30)
    t0 = time.perf_counter()
    s.connect(path)
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
    got = bytearray()
    while True:
        chunk = s.recv(1 << 20)
        if not chunk:
            break
        got += chunk
    elapsed = time.perf_counter() - t0
    s.close()
    return elapsed, bytes(got)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vigild", required=True)
    ap.add_argument("--children", type=int, default=10000)
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--out", default="/tmp/observer_scrape.jsonl")
    a = ap.parse_args()
    a.vigild = os.path.abspath(a.vigild)
    root = tempfile.mkdtemp(prefix="vigil-observer-bench-")
    sock = os.path.join(root, "observer.sock")
    conf = os.path.join(root, "vigil.toml")
    lines = ['[observer]', 'listen = "%s"' % sock, '',
             '[supervisor]', 'strategy = "one_for_one"', 'intensity = 100', '']
    for i in range(a.children):
        lines += ['[[supervisor.children]]', 'id = "echo%d"' % i, 'kind = "echo"', '']
    with open(conf, "w") as f:
        f.write("\n".join(lines))
    log = open(os.path.join(root, "vigild.log"), "wb")
    proc = subprocess.Popen([a.vigild, "--foreground", "--config", conf, "--socket",
                             os.path.join(root, "control.sock")], stdout=log,
                            stderr=subprocess.STDOUT, cwd=root)
    try:
        # Ready once a scrape lists every child as up.
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise SystemExit("vigild exited; see " + log.name)
            if os.path.exists(sock):
                _, body = scrape(sock)
                if body.count(b"vigil_child_up{") >= a.children:
                    break
            if time.monotonic() > deadline:
                raise SystemExit("the tree did not start in 120 s")
            time.sleep(0.2)
        for _ in range(5):
            scrape(sock)  # warm
        times = []
        size = 0
        for _ in range(a.runs):
            t, body = scrape(sock)
            times.append(t * 1000)
            size = len(body)
        times.sort()
        result = {"bench": "observer_scrape", "children": a.children, "runs": a.runs,
                  "p50_ms": round(statistics.median(times), 2),
                  "p90_ms": round(times[int(len(times) * 0.9) - 1], 2),
                  "max_ms": round(times[-1], 2), "bytes": size}
        print("/metrics with %d children: p50 %.2f ms, p90 %.2f ms, max %.2f ms, %d bytes"
              % (a.children, result["p50_ms"], result["p90_ms"], result["max_ms"], size))
        with open(a.out, "a") as f:
            f.write(json.dumps(result) + "\n")
    finally:
        stop_daemon(proc, root)


if __name__ == "__main__":
    main()
