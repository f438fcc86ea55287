#!/usr/bin/env bash
# Health checks' cost (issue #14): builds the release preset's os_probe_bench and runs it:
# 100 command children, each with a 10 s HTTP check against one nginx, measured over 60 s.
# Usage: bench/probe_load.sh [--children N] [--seconds S] [--interval-ms MS]
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --preset release >/dev/null
cmake --build --preset release --target os_probe_bench >/dev/null
exec build/release/bench/os_probe_bench "$@"
