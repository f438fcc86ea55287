#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# A scrape of vigild's /metrics with 10,000 in-process children: p50, p90, max
# (docs/benchmarks.md, "Observer"; the target is a p50 of at most 20 ms).
#
#   bench/observer_scrape.sh [BUILD_DIR=build/release] [OUT=/tmp/observer_scrape.jsonl]
#
# Needs a release build of vigild. Knobs: CHILDREN (10000), RUNS (200).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build/release}
out=${2:-/tmp/observer_scrape.jsonl}
[ -x "$build/supervisord/vigild" ] || { echo "observer_scrape: no $build/supervisord/vigild (build vigild)" >&2; exit 2; }
exec python3 "$here/observer_scrape.py" --vigild "$build/supervisord/vigild" \
  --children "${CHILDREN:-10000}" --runs "${RUNS:-200}" --out "$out"
