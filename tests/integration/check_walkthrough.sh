#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs workers/examples/walkthrough and checks the blog's key results in its output.
# Usage: check_walkthrough.sh <path to the walkthrough binary>
set -euo pipefail

binary=${1:?usage: check_walkthrough.sh <walkthrough binary>}
out=$(mktemp)
trap 'rm -f "$out"' EXIT

if ! timeout 60 "$binary" >"$out" 2>&1; then
  echo "FAIL: the walkthrough exited with an error" >&2
  cat "$out" >&2
  exit 1
fi

failures=0
fail() {
  echo "FAIL: $1" >&2
  failures=$((failures + 1))
}

# A line of the output, exactly.
has_line() { grep -qxF -- "$1" "$out"; }

has_line 'im alive' || fail 'the spawned process did not print "im alive"'

# Every Process.alive? in the walkthrough asks about a dead process.
alive_answers=$(grep -A1 -F 'Process.alive? pid' "$out" | grep -cxF 'false' || true)
[[ $alive_answers -ge 2 ]] || fail "Process.alive? did not answer false twice (got $alive_answers)"

has_line '"hello"' || fail 'send to self and flush did not show "hello"'
pongs=$(grep -cxF '{:ok, :pong}' "$out" || true)
[[ $pongs -ge 8 ]] || fail "expected at least 8 {:ok, :pong} replies, got $pongs"

grep -qF 'message_queue_len: 4,' "$out" || fail 'the slow worker did not show message_queue_len: 4'

# After the kill, the next flush shows nothing: the prompt is followed directly by :ok.
after_kill=$(awk '/Process.exit\(pid, :kill\)/ { k = 1 } k && /> flush$/ { getline; print; exit }' "$out")
[[ $after_kill == ':ok' ]] || fail "the flush after the kill showed '$after_kill', not :ok"

# The dispatcher runs four requests in parallel: about one delay, well under two.
elapsed_line=$(grep -E '^# elapsed: [0-9]+ ms for 4 requests \(one delay: [0-9]+ ms' "$out" || true)
if [[ -z $elapsed_line ]]; then
  fail 'no elapsed time for the dispatcher'
else
  elapsed=$(sed -E 's/^# elapsed: ([0-9]+) ms.*/\1/' <<<"$elapsed_line")
  delay=$(sed -E 's/.*one delay: ([0-9]+) ms.*/\1/' <<<"$elapsed_line")
  ((elapsed < 2 * delay)) || fail "four parallel requests took $elapsed ms, one delay is $delay ms"
fi

if ((failures > 0)); then
  echo "--- walkthrough output ---" >&2
  cat "$out" >&2
  exit 1
fi
echo "walkthrough: all checks passed"
