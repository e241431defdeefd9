#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `make check`: every test, three ways. Plain build; again under ASan+UBSan;
# then each libFuzzer target for a bounded time; then the Debian packages,
# built and checked by lintian (one test). Ends with one
# "N passed, N failed" line over all of them.
set -uo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
cd "$src"
scripts/install-deps.sh check || exit 1

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
logs=()
status=0

setup() { # dir, extra meson args...
  local dir=$1; shift
  if [ ! -f "$dir/build.ninja" ]; then
    local log
    log=$(meson setup "$dir" "$@" 2>&1) || { echo "$log"; return 1; }
  fi
  ninja -C "$dir" >/dev/null || { ninja -C "$dir"; return 1; }
}

echo "== build (gcc)"
if setup build && meson test -C build --print-errorlogs --num-processes 2; then :; else status=1; fi
logs+=(build/meson-logs/testlog.json)

echo "== build (ASan+UBSan)"
if setup build-asan -Db_sanitize=address,undefined -Db_lundef=false \
     -Dc_args=-fno-sanitize-recover=undefined &&
   meson test -C build-asan --print-errorlogs --num-processes 2 --timeout-multiplier 3; then :; else status=1; fi
logs+=(build-asan/meson-logs/testlog.json)

echo "== fuzz (clang, libFuzzer)"
fuzz_line="fuzz:0/1"
if CC=clang setup build-fuzz -Dfuzz=true -Dtests=false -Db_sanitize=address,undefined \
     -Db_lundef=false; then
  out=$(scripts/run-fuzz.sh build-fuzz "${FUZZ_SECONDS:-20}" 2>&1); rc=$?
  echo "$out"
  counts=$(echo "$out" | sed -n 's/^fuzz: \([0-9]*\) passed, \([0-9]*\) failed$/\1\/\2/p' | tail -1)
  [ -n "$counts" ] && fuzz_line="fuzz:$counts"
  [ $rc -eq 0 ] || status=1
else
  status=1
fi

echo "== Debian packages (scripts/build-deb.sh: dpkg-buildpackage, lintian)"
deb_line="deb:1/0"
scripts/build-deb.sh || { deb_line="deb:0/1"; status=1; }

echo "== summary"
python3 scripts/test-summary.py "${logs[@]}" "$fuzz_line" "$deb_line" || status=1
exit $status
