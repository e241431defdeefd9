#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The Debian packages, end to end: `apt-get install ./*.deb` into a clean
# Debian 12 container (the debootstrap base of deploy/container/build.sh
# --base-only), then, with the installed files only: the postinst's system
# user exists, the installed daemon (simulated backend, run as that user)
# gives a quote, the installed CLI verifies it against the collateral the
# CLI exports, and a C program built with `pkg-config sgxqh-verify` against
# the installed verifier library verifies it too.
# Packages come from build-deb/ (scripts/build-deb.sh runs when it has
# none). Ends with "e2e-deb: N passed, N failed". Needs root (podman).
# Usage: scripts/e2e-deb.sh [--keep]
set -uo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
cd "$src"
keep=0
[ "${1:-}" = "--keep" ] && keep=1
BASE=localhost/debian-base:bookworm
CTR=sqh-e2e-deb-$$
PODMAN=(podman --runtime /usr/sbin/runc)
pass=0 fail=0
result() { # name status [detail]
  if [ "$2" -eq 0 ]; then echo "ok   $1"; pass=$((pass + 1)); else
    echo "FAIL $1${3:+: $3}"; fail=$((fail + 1)); fi
}
finish() {
  echo "e2e-deb: $pass passed, $fail failed"
  [ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
  exit $?
}
cleanup() {
  [ "$keep" -eq 1 ] && { echo "kept: container $CTR"; return; }
  "${PODMAN[@]}" rm -f -t 5 "$CTR" >/dev/null 2>&1
}
trap cleanup EXIT

mkdir -p build-e2e
if ! ls build-deb/*.deb >/dev/null 2>&1; then
  echo "== building the packages (scripts/build-deb.sh)"
  scripts/build-deb.sh --no-lintian >build-e2e/deb-build.log 2>&1
  result "build the packages" $? "$(tail -5 build-e2e/deb-build.log)"
fi
debs=$(cd build-deb && ls ./*.deb 2>/dev/null | wc -l)
[ "$debs" -ge 5 ]
result "five binary packages in build-deb/ ($debs)" $? || true
[ "$fail" -eq 0 ] || finish

echo "== base image $BASE (deploy/container/build.sh --base-only)"
timeout 1800 deploy/container/build.sh --base-only >build-e2e/deb-base.log 2>&1
result "base image" $? "$(tail -5 build-e2e/deb-base.log)"
[ "$fail" -eq 0 ] || finish

echo "== container $CTR: apt-get install ./*.deb, then use what got installed"
# Each check inside prints "ok   ..." or "FAIL ...", counted below.
out=$(timeout 1200 "${PODMAN[@]}" run --name "$CTR" \
  --ulimit nproc=4096:4096 --ulimit nofile=1024:1024 \
  -v "$src/build-deb:/debs:ro" "$BASE" bash -c '
set -u
say() { if [ "$2" -eq 0 ]; then echo "ok   $1"; else echo "FAIL $1${3:+: $3}"; fi; }
export DEBIAN_FRONTEND=noninteractive
cp /debs/*.deb /tmp/ && cd /tmp
apt-get update -qq >/tmp/apt.log 2>&1 &&
  apt-get install -y -qq --no-install-recommends ./*.deb gcc libc6-dev pkg-config >>/tmp/apt.log 2>&1
say "apt-get install ./*.deb (+ gcc, pkg-config)" $? "$(tail -5 /tmp/apt.log)"
for p in sgx-quote-helperd sgx-quote libsgxqh-verify0 libsgxqh-verify-dev libsgx-quote-ex-sgxqh; do
  dpkg-query -W -f="\${Status}" $p 2>/dev/null | grep -q "install ok installed"
  say "package $p installed" $?
done
getent passwd sgx-quote-helperd >/dev/null
say "postinst created the system user sgx-quote-helperd" $?
[ -f /lib/systemd/system/sgx-quote-helperd.socket ] &&
  grep -q "^ExecStart=/usr/bin/sgx-quote-helperd " /lib/systemd/system/sgx-quote-helperd.service
say "systemd units installed, ExecStart=/usr/bin/sgx-quote-helperd" $?
[ -f /usr/share/man/man8/sgx-quote-helperd.8.gz ] && [ -f /usr/share/man/man1/sgx-quote.1.gz ]
say "man pages installed" $?
ls /usr/lib/*/sgx-quote-helper/libsgx_quote_ex.so.1 >/dev/null 2>&1 &&
  ! ldconfig -p | grep -q "libsgx_quote_ex.so.1 "
say "libsgx_quote_ex.so.1 in its private directory, not on the loader path" $?

# The installed daemon, simulated backend, as its system user.
state=/var/lib/sgx-quote-helper run=/run/sqh-e2e-deb
mkdir -p $state $run && chown sgx-quote-helperd: $state $run && chmod 0700 $state
init=""
sgx-quote-helperd --help 2>&1 | grep -q -- "--init-seed" && init=--init-seed
setpriv --reuid=sgx-quote-helperd --regid=sgx-quote-helperd --init-groups \
  sgx-quote-helperd --socket $run/aesm.socket --backend sim --state-dir $state \
  --log-format text $init >/tmp/daemon.log 2>&1 &
daemon=$!
sgx-quote ping --socket $run/aesm.socket --retry-ms 20000 --quiet
say "installed daemon answers (sgx-quote ping)" $? "$(tail -5 /tmp/daemon.log)"
sgx-quote get --socket $run/aesm.socket --sim-enclave --report-data 6465622d653265 \
  -o /tmp/quote.bin >/tmp/get.log 2>&1
say "a quote from the installed daemon (sgx-quote get)" $? "$(tail -3 /tmp/get.log)"
setpriv --reuid=sgx-quote-helperd --regid=sgx-quote-helperd --init-groups \
  sgx-quote collateral export --state-dir $state -o /tmp/coll >/tmp/coll.log 2>&1
say "sgx-quote collateral export" $? "$(tail -3 /tmp/coll.log)"
sgx-quote verify /tmp/quote.bin --collateral-dir /tmp/coll --root /tmp/coll/root.pem \
  >/tmp/verify.log 2>&1 && grep -q "^VERIFIED: UpToDate" /tmp/verify.log
say "the installed CLI verifies it (VERIFIED: UpToDate)" $? "$(tail -3 /tmp/verify.log)"

# A C program against the installed library, through pkg-config only.
ex=/usr/share/doc/libsgxqh-verify-dev/examples/verify-quote.c
[ -f $ex.gz ] && gunzip -kf $ex.gz
cc -o /tmp/verify-quote $ex $(pkg-config --cflags --libs sgxqh-verify) >/tmp/cc.log 2>&1
say "cc verify-quote.c \$(pkg-config --cflags --libs sgxqh-verify)" $? "$(cat /tmp/cc.log)"
ldd /tmp/verify-quote >/tmp/ldd.log 2>&1
grep -Eq "libsgxqh_verify.so.0 => /(usr/)?lib/" /tmp/ldd.log
say "it links the installed libsgxqh_verify.so.0" $? "$(cat /tmp/ldd.log)"
/tmp/verify-quote /tmp/quote.bin /tmp/coll /tmp/coll/root.pem >/tmp/prog.log 2>&1 &&
  grep -qx "verdict: ok" /tmp/prog.log && grep -qx "status: UpToDate" /tmp/prog.log
say "the C program verifies the quote (verdict ok, UpToDate)" $? "$(cat /tmp/prog.log)"
/tmp/verify-quote /tmp/quote.bin /tmp/coll >/tmp/prog2.log 2>&1
[ $? -eq 1 ] && grep -q "^verdict: invalid" /tmp/prog2.log
say "and rejects it under Intel'"'"'s root (the simulated chain is not Intel'"'"'s)" $? "$(cat /tmp/prog2.log)"
kill -TERM $daemon; wait $daemon
say "installed daemon exits 0 on SIGTERM" $? "$(tail -3 /tmp/daemon.log)"
' 2>&1)
rc=$?
echo "$out" | grep -E '^(ok  |FAIL)'
pass=$((pass + $(grep -c '^ok  ' <<<"$out")))
fail=$((fail + $(grep -c '^FAIL' <<<"$out")))
[ $rc -eq 0 ] || [ $rc -eq 1 ]
result "container ran to the end (exit $rc)" $? "$(tail -5 <<<"$out")"
finish
