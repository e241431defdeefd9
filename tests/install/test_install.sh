#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `meson install` into a scratch DESTDIR, then checks what a user gets: the
# binaries, units with this prefix's paths, docs, man pages, completion,
# the header, libsgxqh_verify.so.0 exporting exactly include/sgxqh/verify.h,
# a pkg-config file a C program builds with (docs/examples/verify-quote.c,
# run on a vector), and libsgx_quote_ex.so.1 in its private directory, not
# in libdir (unless -Dsystem_quote_ex=true). TAP output.
# Usage: test_install.sh BUILD_DIR SOURCE_DIR PREFIX BINDIR LIBDIR UNITDIR
#        MANDIR COMPLETIONDIR DOCDIR MAN(yes|no) SYSTEM_QUOTE_EX(true|false)
#        SANITIZE (meson's b_sanitize: the example program is built with the
#        same -fsanitize as the library, whose runtime must load first)
set -uo pipefail
build=$1 src=$2 prefix=$3 bindir=$4 libdir=$5 unitdir=$6 mandir=$7 compdir=$8 docdir=$9
man=${10} system_quote_ex=${11} sanitize=${12:-none}
san=""
[ "$sanitize" = none ] || san="-fsanitize=$sanitize"
abs() { case $1 in /*) echo "$1" ;; *) echo "$prefix/$1" ;; esac; }
bindir=$(abs "$bindir") libdir=$(abs "$libdir") unitdir=$(abs "$unitdir")
mandir=$(abs "$mandir") compdir=$(abs "$compdir") docdir=$(abs "$docdir")

dest=$(mktemp -d /tmp/sgxqh-install-test.XXXXXX)
trap 'rm -rf "$dest"' EXIT
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; shift; printf '%s\n' "$@" | sed 's/^/# /'; }
check() { # description, command...
  local d=$1 out
  shift
  if out=$("$@" 2>&1); then ok "$d"; else not_ok "$d" "$out"; fi
}
exists() { [ -e "$dest$1" ] || { echo "missing: $1"; return 1; }; }
absent() { [ ! -e "$dest$1" ] || { echo "should not be installed: $1"; return 1; }; }

if ! out=$(DESTDIR=$dest meson install -C "$build" --no-rebuild --quiet 2>&1); then
  echo "1..1"
  not_ok "meson install into DESTDIR" "$out"
  exit 1
fi

check "daemon and CLI in bindir" exists "$bindir/sgx-quote-helperd"
check "CLI in bindir" exists "$bindir/sgx-quote"
check "systemd units" exists "$unitdir/sgx-quote-helperd.service"
check "socket unit" exists "$unitdir/sgx-quote-helperd.socket"
check "ExecStart points at this prefix's daemon" \
  grep -q "^ExecStart=$bindir/sgx-quote-helperd " "$dest$unitdir/sgx-quote-helperd.service"
check "Documentation= points at installed docs" \
  bash -c "grep '^Documentation=file:' '$dest$unitdir/sgx-quote-helperd.service' | sed 's/^Documentation=file://' | while read -r f; do [ -f '$dest'\"\$f\" ] || { echo \"missing \$f\"; exit 1; }; done"
check "docs" exists "$docdir/operations.md"
check "verifier example" exists "$docdir/examples/verify-quote.c"
check "bash completion" exists "$compdir/sgx-quote"
check "bash completion parses" bash -n "$dest$compdir/sgx-quote" "$dest$compdir/sgx-quote-helperd"
if [ "$man" = yes ]; then
  check "man pages" exists "$mandir/man8/sgx-quote-helperd.8"
  check "man page (1)" exists "$mandir/man1/sgx-quote.1"
  check "man page (5)" exists "$mandir/man5/sgx-quote-helperd.conf.5"
  if command -v man >/dev/null; then
    check "man renders sgx-quote(1) without warnings" \
      bash -c "out=\$(MANWIDTH=80 man --warnings -l '$dest$mandir/man1/sgx-quote.1' 2>&1 >/dev/null); [ -z \"\$out\" ] || { echo \"\$out\"; exit 1; }"
  fi
fi
check "public header" exists "$prefix/include/sgxqh/verify.h"
check "pkg-config file" exists "$libdir/pkgconfig/sgxqh-verify.pc"
check "versioned soname" bash -c "readelf -d '$dest$libdir/libsgxqh_verify.so.0' | grep -q 'SONAME.*\[libsgxqh_verify.so.0\]'"

# Exactly the functions include/sgxqh/verify.h declares, no more, no less.
declared=$(grep -oE '^[a-z][a-z_0-9 *]*[ *]([a-z_0-9]+)\(' "$src/include/sgxqh/verify.h" |
  sed -E 's/.*[ *]([a-z_0-9]+)\($/\1/' | sort)
exported=$(nm -D --defined-only "$dest$libdir/libsgxqh_verify.so.0" | awk '$2 == "T" || $2 == "D" || $2 == "B" || $2 == "R" {print $3}' |
  sed 's/@.*//' | sort)
if [ "$declared" = "$exported" ]; then
  ok "exports exactly the functions of verify.h ($(wc -w <<<"$declared"))"
else
  not_ok "exports exactly the functions of verify.h (edit src/verify/libsgxqh_verify.map)" \
    "$(diff <(echo "$declared") <(echo "$exported") | grep '^[<>]' | sed 's/^</declared, not exported:/; s/^>/exported, not declared:/')"
fi

if [ "$system_quote_ex" = true ]; then
  check "libsgx_quote_ex.so.1 in libdir (-Dsystem_quote_ex=true)" exists "$libdir/libsgx_quote_ex.so.1"
else
  check "libsgx_quote_ex.so.1 in the private directory" exists "$libdir/sgx-quote-helper/libsgx_quote_ex.so.1"
  check "libsgx_quote_ex.so.1 not in libdir" absent "$libdir/libsgx_quote_ex.so.1"
fi

# A C program built only from the installed tree, through pkg-config.
prog=$dest/verify-quote
if out=$(PKG_CONFIG_SYSROOT_DIR=$dest PKG_CONFIG_LIBDIR=$dest$libdir/pkgconfig \
  bash -c "cc -std=c17 -Wall -Wextra -Werror $san -o '$prog' '$dest$docdir/examples/verify-quote.c' \$(pkg-config --cflags --libs sgxqh-verify)" 2>&1); then
  ok "a C program builds against the installed library with pkg-config"
  v=$SGXQH_VECTORS/quotes/dcapqvl-sgx-v3
  pinned=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pinned_time"])' "$v/meta.json")
  # Expected from tests/vectors/README.md: real SGX v3 quote, Intel root.
  out=$(LD_LIBRARY_PATH=$dest$libdir "$prog" "$v/quote.bin" "$v" "$SGXQH_VECTORS/quotes/intel-sgx-root-ca.pem" "$pinned" 2>&1)
  rc=$?
  # ldd's output in full first: `ldd | grep -q` under pipefail fails when
  # grep stops reading early.
  libs=$(LD_LIBRARY_PATH=$dest$libdir ldd "$prog" 2>&1)
  if [ $rc -eq 0 ] && grep -qx "status: ConfigurationAndSWHardeningNeeded" <<<"$out" &&
    grep -q "libsgxqh_verify.so.0 => $dest$libdir/" <<<"$libs"; then
    ok "it verifies dcapqvl-sgx-v3 through libsgxqh_verify.so.0"
  else
    not_ok "it verifies dcapqvl-sgx-v3 through libsgxqh_verify.so.0" "exit $rc" "$out" "$libs"
  fi
  v=$SGXQH_VECTORS/quotes/customroot-dcapqvl-sgx-v3
  out=$(LD_LIBRARY_PATH=$dest$libdir "$prog" "$v/quote.bin" "$v" "$SGXQH_VECTORS/quotes/intel-sgx-root-ca.pem" "$pinned" 2>&1)
  rc=$?
  if [ $rc -eq 1 ] && grep -q "^verdict: invalid" <<<"$out"; then
    ok "and rejects the custom-root quote under Intel's root"
  else
    not_ok "and rejects the custom-root quote under Intel's root" "exit $rc" "$out"
  fi
else
  not_ok "a C program builds against the installed library with pkg-config" "$out"
fi

echo "1..$n"
[ $failed -eq 0 ]
