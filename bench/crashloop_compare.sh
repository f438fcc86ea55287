#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# A command crash-looping beside 10 healthy ones for SECONDS (60), under supervisord and
# vigild in one run: each daemon's CPU time, the crasher's starts, and whether the healthy
# children kept their pids (docs/benchmarks.md, "Crash loops").
#
#   bench/crashloop_compare.sh [BUILD_DIR=build/release] [SECONDS=60]
#
# Needs supervisord (scripts/setup --bench) and a build of vigild.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build/release}
[ -x "$build/supervisord/vigild" ] || { echo "crashloop_compare: no $build/supervisord/vigild" >&2; exit 2; }
exec python3 "$here/crashloop_compare.py" --vigild "$build/supervisord/vigild" \
  --seconds "${2:-60}"
