#!/usr/bin/env bash
# Runs the process-runtime benchmarks (bench/runtime_bench.cpp, impl "ours") beside
# Erlang/OTP 25 (../shared/bench-anchors/erlang/anchors.erl and bench/erlang/extra.erl) and
# CAF 0.17 (../shared/bench-anchors/caf/anchors.cpp) and Go (../shared/bench-anchors/go/
# anchors.go: goroutines with a buffered channel each as the mailbox) in the same run,
# interleaved so that background load hits all of them alike. Appends every JSON line (tagged
# with run_id, rep, load1) to RESULTS and prints a Markdown table of ours vs erlang vs caf vs
# go with ratios and the targets of docs/benchmarks.md.
#
#   bench/compare.sh [RESULTS.jsonl]          # default /tmp/vigil-compare.jsonl
#   SCALE=smoke bench/compare.sh              # 10x smaller sizes, ~2 minutes
#
# Knobs (environment):
#   SCALE=full|smoke   THREADS="2 1"   REPEATS=1   CAF_POLICIES="stealing" (add "sharing")
#   ONLY="pingpong ring"   run only these workloads (names as in the table)
#   BUILD_DIR=build/bench   ANCHORS=/work/shared/bench-anchors
#   ANCHORS_BUILD=/tmp/vigil-anchors   (build outputs never go into the repository)
#   BENCH_TIMEOUT=900   seconds per benchmark process      SKIP_CALIB=1
#   REPORT_ONLY=RUN_ID[,RUN_ID...]   run nothing; print the table of these runs in RESULTS
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RESULTS="${1:-/tmp/vigil-compare.jsonl}"
mkdir -p "$(dirname "$RESULTS")"
RESULTS="$(cd "$(dirname "$RESULTS")" && pwd)/$(basename "$RESULTS")"
SCALE="${SCALE:-full}"
THREADS="${THREADS:-2 1}"
REPEATS="${REPEATS:-1}"
CAF_POLICIES="${CAF_POLICIES:-stealing}"
ONLY="${ONLY:-}"
BUILD_DIR="${BUILD_DIR:-$ROOT/build/bench}"
ANCHORS="${ANCHORS:-/work/shared/bench-anchors}"
ANCHORS_BUILD="${ANCHORS_BUILD:-/tmp/vigil-anchors}"
BENCH_TIMEOUT="${BENCH_TIMEOUT:-900}"
RUN_ID="$(date -u +%Y%m%dT%H%M%SZ)-$$"
FAILED=0

log() { echo "[compare $(date +%H:%M:%S)] $*" >&2; }
tag() { python3 "$ANCHORS/tools/tag.py" "$RESULTS" "$RUN_ID" "$@" scale="$SCALE"; }

record_failure() { # bench impl threads rc
  FAILED=$((FAILED + 1))
  log "FAILED: $1 $2 threads=$3 (exit $4)"
  printf '{"bench":"%s","impl":"%s","threads":%s,"n":0,"seconds":null,"per_op_ns":null,"rss_kb":null,"error":"exit %s"}\n' \
    "$1" "$2" "$3" "$4" | tag 0 >/dev/null || true
}

# Prints the Markdown tables for the runs RUN_ID[,RUN_ID...] in RESULTS (medians over all
# their repetitions).
report() {
  python3 - "$RESULTS" "$1" "$THREADS" "$CAF_POLICIES" <<'EOF'
import json, statistics, sys
from collections import defaultdict

path, run_ids, threads, policies = sys.argv[1], sys.argv[2].split(","), sys.argv[3].split(), sys.argv[4].split()
cafs = ["caf-sharing" if p == "sharing" else "caf" for p in policies]
vals = defaultdict(list)
load = []
for line in open(path):
    try:
        r = json.loads(line)
    except ValueError:
        continue
    if r.get("run_id") not in run_ids:
        continue
    if isinstance(r.get("load1"), (int, float)):
        load.append(r["load1"])
    for k, v in r.items():
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            vals[(r.get("bench"), k, r.get("impl"), str(r.get("threads")))].append(v)

def med(bench, field, impl, t):
    v = vals.get((bench, field, impl, t))
    return statistics.median(v) if v else None

# label, bench, field, scale, format, lower is better
ROWS = [
    ("spawn: µs per process (cold)", "spawn", "per_op_ns", 1e-3, "{:.2f}", True),
    ("spawn: µs per process (warm)", "spawn_warm", "per_op_ns", 1e-3, "{:.2f}", True),
    ("spawn: bytes per idle process (RSS)", "spawn", "rss_per_proc_bytes", 1, "{:,.0f}", True),
    ("spawn: exit all N, s (cold)", "spawn", "exit_seconds", 1, "{:.3f}", True),
    ("spawn_exit: µs per process", "spawn_exit", "per_op_ns", 1e-3, "{:.2f}", True),
    ("pingpong: ns per round trip", "pingpong", "per_op_ns", 1, "{:,.0f}", True),
    ("oneway: M msgs/s", "oneway", "msgs_per_sec", 1e-6, "{:.2f}", False),
    ("ring: ns per hop", "ring", "per_op_ns", 1, "{:,.0f}", True),
    ("skynet: ms", "skynet", "ms", 1, "{:,.0f}", True),
    ("skynet: peak RSS MB", "skynet", "peak_rss_kb", 1 / 1024, "{:,.1f}", True),
    ("selective, 0 junk: µs per match", "selective_0", "us_per_match", 1, "{:.2f}", True),
    ("selective, 1k junk: µs per match", "selective_1000", "us_per_match", 1, "{:.2f}", True),
    ("selective, 10k junk: µs per match", "selective_10000", "us_per_match", 1, "{:.2f}", True),
    ("fanout: µs per request", "fanout", "per_op_ns", 1e-3, "{:.2f}", True),
]

def ratio(ours, other, lower_better):
    if ours is None or other is None or ours == 0 or other == 0:
        return "-"
    return "{:.2f}×".format(other / ours if lower_better else ours / other)

print(f"\nrun {', '.join(run_ids)}; medians over repetitions; load1 during the run: "
      + (f"{min(load):.1f}–{max(load):.1f}" if load else "?"))
print("×N = ours is N times better (faster, smaller, more throughput); below 1× = worse.\n")
for t in threads:
    head = ["ours", "erlang"] + cafs + ["go", "vs erlang"] + [f"vs {c}" for c in cafs] + ["vs go"]
    print(f"**{t} scheduler thread(s)**\n")
    print("| metric | " + " | ".join(head) + " |")
    print("|---|" + "---:|" * len(head))
    for label, bench, field, scale, fmt, lower in ROWS:
        ours = med(bench, field, "ours", t)
        row = ([ours, med(bench, field, "erlang", t)] + [med(bench, field, c, t) for c in cafs]
               + [med(bench, field, "go", t)])
        cells = [fmt.format(v * scale) if v is not None else "-" for v in row]
        cells += [ratio(ours, v, lower) for v in row[1:]]
        print(f"| {label} | " + " | ".join(cells) + " |")
    print()

# Targets: same run, 2 threads (or the first thread count), warm where it applies.
t = "2" if "2" in threads else threads[0]
def factor(bench, field, lower=True, other="erlang"):
    o, e = med(bench, field, "ours", t), med(bench, field, other, t)
    if o is None or e is None or o == 0:
        return None
    return e / o if lower else o / e

def line(name, ok, detail):
    mark = "-" if ok is None else ("met" if ok else "MISSED")
    print(f"| {name} | {mark} | {detail} |")

print(f"**Targets ({t} threads)**\n\n| target | status | measured |\n|---|---|---|")
idle = med("spawn", "rss_per_proc_bytes", "ours", t)
line("idle process ≤ 512 B", None if idle is None else idle <= 512,
     "-" if idle is None else f"{idle:,.0f} B RSS per process (proc_info "
     f"{med('spawn', 'proc_info_memory_bytes', 'ours', t) or 0:,.0f} B)")
o, g = med("pingpong", "per_op_ns", "ours", t), med("pingpong", "per_op_ns", "go", t)
line("ping-pong round trip ≤ Go's", None if o is None or g is None else o <= g,
     "-" if o is None or g is None else f"{o:,.0f} ns vs {g:,.0f} ns")
o, g = med("oneway", "msgs_per_sec", "ours", t), med("oneway", "msgs_per_sec", "go", t)
line("one-way msgs/s ≥ Go's", None if o is None or g is None else o >= g,
     "-" if o is None or g is None else f"{o / 1e6:.2f} M/s vs {g / 1e6:.2f} M/s")
for name, bench, field, lower, need in [
        ("cold spawn ≥ 10× faster than Erlang (issue #17)", "spawn", "per_op_ns", True, 10),
        ("spawn ≥ 10× faster than Erlang (warm)", "spawn_warm", "per_op_ns", True, 10),
        ("ping-pong round trip ≤ 1/5 of Erlang's", "pingpong", "per_op_ns", True, 5),
        ("ring hop ≤ 1/5 of Erlang's", "ring", "per_op_ns", True, 5),
        ("one-way ≥ 5× Erlang's msgs/s", "oneway", "msgs_per_sec", False, 5),
        ("skynet ≥ 10× faster than Erlang", "skynet", "ms", True, 10),
        ("dispatcher (fanout) ≥ 5× faster than Erlang", "fanout", "per_op_ns", True, 5)]:
    f = factor(bench, field, lower)
    line(name, None if f is None else f >= need, "-" if f is None else f"{f:.2f}×")
o, c = med("skynet", "peak_rss_kb", "ours", t), med("skynet", "peak_rss_kb", "caf", t)
line("skynet peak memory ≤ CAF's", None if o is None or c is None else o <= c,
     "-" if o is None or c is None else f"{o / 1024:,.1f} MB vs {c / 1024:,.1f} MB")
for k in ("0", "1000", "10000"):
    f = factor(f"selective_{k}", "us_per_match")
    line(f"selective receive behind {k} junk no slower than Erlang",
         None if f is None else f >= 1.0, "-" if f is None else f"{f:.2f}×")
EOF
}

if [[ -n "${REPORT_ONLY:-}" ]]; then
  report "$REPORT_ONLY"
  exit 0
fi

# ------------------------------------------------------------------------ dependencies
if ! command -v erl >/dev/null || ! command -v erlc >/dev/null || ! command -v go >/dev/null \
  || [[ ! -f /usr/include/caf/all.hpp ]]; then
  log "installing erlang-nox, libcaf-dev and golang-go"
  "$ROOT/scripts/setup" --bench
fi

# ------------------------------------------------------------------------------- build
log "building runtime_bench in $BUILD_DIR and the anchors in $ANCHORS_BUILD"
if [[ ! -f "$BUILD_DIR/CMakeCache.txt" ]]; then
  (cd "$ROOT" && cmake --preset release -B "$BUILD_DIR" >/dev/null)
fi
cmake --build "$BUILD_DIR" --target runtime_bench -j2 >/dev/null
OURS="$BUILD_DIR/bench/runtime_bench"
mkdir -p "$ANCHORS_BUILD/erlang"
cmake -S "$ANCHORS" -B "$ANCHORS_BUILD/cmake" -DCMAKE_BUILD_TYPE=Release >"$ANCHORS_BUILD/configure.log" 2>&1 \
  || { cat "$ANCHORS_BUILD/configure.log" >&2; exit 1; }
cmake --build "$ANCHORS_BUILD/cmake" -j2 >"$ANCHORS_BUILD/build.log" 2>&1 \
  || { tail -50 "$ANCHORS_BUILD/build.log" >&2; exit 1; }
erlc -o "$ANCHORS_BUILD/erlang" "$ANCHORS/erlang/anchors.erl" "$ROOT/bench/erlang/extra.erl"
CAF_BIN="$ANCHORS_BUILD/cmake/caf_anchors"
# The Go anchors use only the standard library: a plain build, its cache kept beside them.
mkdir -p "$ANCHORS_BUILD/go"
GOCACHE="$ANCHORS_BUILD/go/cache" GO111MODULE=off \
  go build -o "$ANCHORS_BUILD/go/anchors" "$ANCHORS/go/anchors.go"
GO_BIN="$ANCHORS_BUILD/go/anchors"

# -------------------------------------------------------------------------------- meta
pkgver() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo unknown; }
python3 - "$RUN_ID" "$SCALE" "$REPEATS" "$THREADS" "$(pkgver erlang-base)" "$(pkgver libcaf-dev)" \
  "$(pkgver golang-go)" <<'EOF' | tag 0 >/dev/null
import json, os, platform, sys, time
a = sys.argv[1:]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
print(json.dumps({"bench": "meta", "impl": "host", "n": 0, "seconds": 0, "per_op_ns": 0,
                  "rss_kb": 0, "run_id": a[0], "scale": a[1], "repeats": int(a[2]),
                  "threads_list": a[3], "erlang_pkg": a[4], "caf_pkg": a[5], "go_pkg": a[6],
                  "kernel": platform.release(), "cpu": cpu, "nproc": os.cpu_count(),
                  "loadavg": open("/proc/loadavg").read().split()[:3], "ts": int(time.time())}))
EOF
if [[ "${SKIP_CALIB:-0}" != 1 ]]; then
  log "calibration (page fault, fork+exec)"
  timeout -k 10 120 "$ANCHORS_BUILD/cmake/calib" "$ANCHORS_BUILD/cmake/restart_child" 200 \
    | tag 0 >/dev/null || record_failure calib c 0 $?
fi

# ------------------------------------------------------------------------- workloads
# name | ours args | erlang module and args | caf args | go args ("-": no such workload there)
if [[ "$SCALE" == smoke ]]; then
  WORKLOADS=(
    "spawn|spawn 100000|anchors spawn 100000|spawn 100000|spawn 100000"
    "spawn_exit|spawn_exit 100000|extra spawn_exit 100000|-|-"
    "pingpong|pingpong 100000|anchors pingpong 100000|pingpong 100000|pingpong 100000"
    "oneway|oneway 100000|extra oneway 100000|-|oneway 100000"
    "ring|ring 1000 100|anchors ring 1000 100|ring 1000 100|ring 1000 100"
    "skynet|skynet 100000 10|anchors skynet 100000 10|skynet 100000 10|skynet 100000 10"
    "selective_0|selective 0 10000|extra selective 0 10000|-|-"
    "selective_1000|selective 1000 2000|extra selective 1000 2000|-|-"
    "selective_10000|selective 10000 200|extra selective 10000 200|-|-"
    "fanout|fanout 10000|anchors fanout 10000|fanout 10000|fanout 10000"
  )
else
  WORKLOADS=(
    "spawn|spawn 1000000|anchors spawn 1000000|spawn 1000000|spawn 1000000"
    "spawn_exit|spawn_exit 1000000|extra spawn_exit 1000000|-|-"
    "pingpong|pingpong 1000000|anchors pingpong 1000000|pingpong 1000000|pingpong 1000000"
    "oneway|oneway 1000000|extra oneway 1000000|-|oneway 1000000"
    "ring|ring 1000 1000|anchors ring 1000 1000|ring 1000 1000|ring 1000 1000"
    "skynet|skynet 1000000 10|anchors skynet 1000000 10|skynet 1000000 10|skynet 1000000 10"
    "selective_0|selective 0 100000|extra selective 0 100000|-|-"
    "selective_1000|selective 1000 20000|extra selective 1000 20000|-|-"
    "selective_10000|selective 10000 2000|extra selective 10000 2000|-|-"
    "fanout|fanout 100000|anchors fanout 100000|fanout 100000|fanout 100000"
  )
fi

run_ours() { # threads bench args...
  local t=$1 b=$2; shift 2
  timeout -k 10 "$BENCH_TIMEOUT" "$OURS" "$b" "$t" "$@"
}
run_erlang() { # threads module bench args...
  local t=$1 mod=$2; shift 2
  timeout -k 10 "$BENCH_TIMEOUT" erl -noshell +S "$t:$t" +P 4000000 -pa "$ANCHORS_BUILD/erlang" \
    -run "$mod" main "$@"
}
run_go() { # threads bench args...
  local t=$1 b=$2; shift 2
  timeout -k 10 "$BENCH_TIMEOUT" "$GO_BIN" "$b" "$t" "$@"
}
run_caf() { # policy threads bench args...
  local pol=$1 t=$2 b=$3; shift 3
  if [[ "$pol" == sharing ]]; then
    CAF_POLICY=sharing timeout -k 10 "$BENCH_TIMEOUT" "$CAF_BIN" "$b" "$t" "$@"
  else
    timeout -k 10 "$BENCH_TIMEOUT" "$CAF_BIN" "$b" "$t" "$@"
  fi
}

for rep in $(seq 1 "$REPEATS"); do
  for t in $THREADS; do
    for w in "${WORKLOADS[@]}"; do
      IFS='|' read -r name ours erl caf go <<<"$w"
      if [[ -n "$ONLY" && " $ONLY " != *" $name "* ]]; then continue; fi
      log "rep $rep/$REPEATS threads=$t $name: ours"
      # shellcheck disable=SC2086
      { run_ours "$t" $ours | tag "$rep" >/dev/null; } || record_failure "$name" ours "$t" $?
      log "rep $rep/$REPEATS threads=$t $name: erlang"
      # shellcheck disable=SC2086
      { run_erlang "$t" $erl | tag "$rep" >/dev/null; } || record_failure "$name" erlang "$t" $?
      if [[ "$go" != - ]]; then
        log "rep $rep/$REPEATS threads=$t $name: go"
        # shellcheck disable=SC2086
        { run_go "$t" $go | tag "$rep" >/dev/null; } || record_failure "$name" go "$t" $?
      fi
      [[ "$caf" == - ]] && continue
      for pol in $CAF_POLICIES; do
        log "rep $rep/$REPEATS threads=$t $name: caf ($pol)"
        impl="caf"; [[ "$pol" == sharing ]] && impl="caf-sharing"
        # shellcheck disable=SC2086
        { run_caf "$pol" "$t" $caf | tag "$rep" >/dev/null; } || record_failure "$name" "$impl" "$t" $?
      done
    done
  done
done

log "done: run $RUN_ID appended to $RESULTS ($FAILED failures)"
report "$RUN_ID" | tee "${RESULTS%.jsonl}-$RUN_ID.md"
exit $((FAILED > 0))
