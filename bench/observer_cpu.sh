#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# vigild's CPU with the observer's page open in headless Chromium and 10,000 in-process
# children: idle, and during a burst of 1,000 restarts; and how long the page takes to show
# a killed child's new pid (docs/benchmarks.md, "Observer").
#
#   bench/observer_cpu.sh [BUILD_DIR=build/release] [OUT=/tmp/observer_cpu.jsonl]
#
# Needs a release build of vigild, chromium, chromium-driver and python3-selenium
# (scripts/setup). Knobs: CHILDREN (10000), BURST (1000), IDLE (30 s), PROBES (5).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build/release}
out=${2:-/tmp/observer_cpu.jsonl}
[ -x "$build/supervisord/vigild" ] || { echo "observer_cpu: no $build/supervisord/vigild (build vigild)" >&2; exit 2; }
exec /usr/bin/python3 "$here/observer_cpu.py" --vigild "$build/supervisord/vigild" \
  --children "${CHILDREN:-10000}" --burst "${BURST:-1000}" --idle "${IDLE:-30}" \
  --probes "${PROBES:-5}" --out "$out"
