#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# vigild beside supervisord in one run: daemon RSS with 100 OS children, with 10,000
# in-process workers and with 100 OS workers added; idle CPU and wake-ups; the status round
# trip through each CLI and through each protocol (docs/benchmarks.md, "Daemon").
#
#   bench/daemon_compare.sh [BUILD_DIR=build/daemon-release] [OUT=/tmp/daemon_compare.jsonl]
#
# Needs supervisord (scripts/setup --bench) and a release build of vigild, vigilctl and
# vigil-worker. Knobs: N_OS (100), N_PROCESS (10 of the N_OS are mode = "process"),
# N_INPROC (10000), IDLE (10 s), RUNS (50), SENDS (sends by id; 0: one per in-process
# worker), SCENARIOS
# (supervisord,vigild-os,vigild-inproc,vigild-mixed). The table goes to stdout, one JSON line
# per scenario to OUT.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build/daemon-release}
out=${2:-/tmp/daemon_compare.jsonl}
for t in supervisord/vigild ctl/vigilctl workers/vigil-worker; do
  [ -x "$build/$t" ] || { echo "daemon_compare: no $build/$t (build vigild vigilctl vigil-worker)" >&2; exit 2; }
done
build=$(cd "$build" && pwd)
# vigild finds vigil-worker through this variable first (docs/os-workers.md).
VIGIL_WORKER_PROGRAM=$build/workers/vigil-worker
export VIGIL_WORKER_PROGRAM
# /usr/bin/python3: supervisord's own, whose xmlrpc client the protocol timing uses.
exec /usr/bin/python3 "$here/daemon_compare.py" \
  --vigild "$build/supervisord/vigild" --vigilctl "$build/ctl/vigilctl" \
  --n-os "${N_OS:-100}" --n-process "${N_PROCESS:-10}" --n-inproc "${N_INPROC:-10000}" \
  --idle "${IDLE:-10}" --runs "${RUNS:-50}" --sends "${SENDS:-0}" --out "$out" \
  --scenarios "${SCENARIOS:-supervisord,vigild-os,vigild-inproc,vigild-mixed}"
