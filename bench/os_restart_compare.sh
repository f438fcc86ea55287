#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Restart latency of OS children: Vigil beside supervisord, runit and s6, with the fork+exec
# floor measured in the same run (docs/os-workers.md, "Performance").
#
#   bench/os_restart_compare.sh [BUILD_DIR=build/release] [OUT=/tmp/os_restart.jsonl]
#
# Runs the anchors' calib.c and restart_bench.py (../shared/bench-anchors/os/) for the
# supervisors that are installed (apt-get install supervisor runit s6), then
# os_restart_bench, appends every JSON line to OUT and prints the table. Knobs: N_LONG (20),
# N_QUICK (10), HOLD (2.2 s, as the anchors), IDLE (5 s), SUPERVISORS
# (supervisord,runit,s6,s6-notify), ANCHORS (../shared/bench-anchors).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build/release}
out=${2:-/tmp/os_restart.jsonl}
anchors=${ANCHORS:-$here/../../shared/bench-anchors}
n_long=${N_LONG:-20}
n_quick=${N_QUICK:-10}
hold=${HOLD:-2.2}
idle=${IDLE:-5}
tmp=$(mktemp -d /tmp/vigil-os-compare-XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM

: > "$out"
if command -v cc > /dev/null && [ -f "$anchors/os/calib.c" ]; then
  cc -O2 -o "$tmp/restart_child" "$anchors/os/restart_child.c"
  cc -O2 -o "$tmp/calib" "$anchors/os/calib.c"
  "$tmp/calib" "$tmp/restart_child" 200 >> "$out"
  list=""
  for s in $(echo "${SUPERVISORS:-supervisord,runit,s6,s6-notify}" | tr , ' '); do
    case $s in
      supervisord*) bin=supervisord ;;
      runit) bin=runsv ;;
      s6*) bin=s6-supervise ;;
      *) bin=$s ;;
    esac
    if command -v "$bin" > /dev/null; then list="$list,$s"; else echo "skipping $s: no $bin" >&2; fi
  done
  if [ -n "$list" ]; then
    python3 "$anchors/os/restart_bench.py" --child "$tmp/restart_child" \
      --supervisors "${list#,}" --n-long "$n_long" --n-quick "$n_quick" \
      --n-quick-supervisord 3 --idle-seconds "$idle" >> "$out" || true
  fi
fi
"$build/bench/os_restart_bench" --child "$build/bench/os_restart_child" \
  --n-long "$n_long" --n-quick "$n_quick" --hold "$hold" --idle "$idle" \
  --sdk-echo "$build/workers/vigil_sdk_echo" --worker "$build/workers/vigil-worker" >> "$out"
# The same restarts with a cgroup per child (impl "vigil+cgroup"), where cgroup2 is usable.
"$build/bench/os_restart_bench" --child "$build/bench/os_restart_child" --cgroup auto \
  --n-long "$n_long" --n-quick "$n_quick" --hold "$hold" --idle "$idle" --roundtrips 0 \
  --worker "$build/workers/vigil-worker" >> "$out"
python3 "$here/os_restart_table.py" "$out"
