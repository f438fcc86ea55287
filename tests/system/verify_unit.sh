#!/usr/bin/env bash
# systemd-analyze verify on the unit as `cmake --install` writes it (paths rewritten to the
# prefix), in a temporary prefix so that the programs it names exist.
# Usage: verify_unit.sh BUILD_DIR
set -euo pipefail
build=$1
command -v systemd-analyze >/dev/null || { echo "SKIP: systemd-analyze missing"; exit 77; }
prefix=$(mktemp -d /tmp/vigil-unit-XXXXXX)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
unit="$prefix/lib/systemd/system/vigild.service"
grep -q "^ExecStart=$prefix/bin/vigild " "$unit" || { echo "FAIL: ExecStart not rewritten:"; grep Exec "$unit"; exit 1; }
for f in "$prefix/bin/vigild" "$prefix/bin/vigilctl" "$prefix/bin/vigil-worker" \
         "$prefix/etc/vigil/vigil.toml.example" "$prefix/share/doc/vigil/examples/demo.toml"; do
  [[ -e "$f" ]] || { echo "FAIL: cmake --install did not install $f"; exit 1; }
done
# verify prints its findings on stderr and exits non-zero on errors; warnings fail too.
out=$(systemd-analyze verify "$unit" 2>&1) || { echo "$out"; echo "FAIL"; exit 1; }
if [[ -n "$out" ]]; then
  echo "$out"
  echo "FAIL: systemd-analyze verify complained"
  exit 1
fi
echo PASS
