#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Checks deploy/systemd/: `systemd-analyze verify` must print nothing (it
# exits 0 on unknown keys and bad values, so any output is a failure), and
# `systemd-analyze security --offline` must rate the service's exposure at
# most 3.0 ("OK"). ExecStart is pointed at a built daemon, since verify
# checks that the binary exists. Then the same checks are fed a unit with a
# typo and a weakened one, which must fail (the check's own test).
# Usage: deploy/tools/verify-units.sh PATH/TO/sgx-quote-helperd
set -uo pipefail
daemon=${1:?usage: verify-units.sh PATH/TO/sgx-quote-helperd}
here=$(cd "$(dirname "$0")/.." && pwd)/systemd
command -v systemd-analyze >/dev/null || { echo "systemd-analyze missing (apt-get install systemd)"; exit 1; }
[ -x "$daemon" ] || { echo "not executable: $daemon"; exit 1; }
daemon=$(cd "$(dirname "$daemon")" && pwd)/$(basename "$daemon")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pass=0 fail=0
result() { # name ok(0/1) detail
  if [ "$2" -eq 0 ]; then echo "ok   $1"; pass=$((pass + 1)); else echo "FAIL $1: $3"; fail=$((fail + 1)); fi
}

stage() { # dir [sed expression for the service]
  mkdir -p "$1"
  cp "$here/sgx-quote-helperd.service" "$here/sgx-quote-helperd.socket" \
    "$here/sgx-quote-helperd-qgs.socket" "$1/"
  sed -i "s|/usr/bin/sgx-quote-helperd|$daemon|" "$1/sgx-quote-helperd.service"
  [ $# -lt 2 ] || sed -i "$2" "$1/sgx-quote-helperd.service"
}
stage_hw() { # dir [sed expression for the drop-in]: the unit plus the hardware drop-in
  stage "$1"
  mkdir -p "$1/sgx-quote-helperd.service.d"
  cp "$here/sgx-quote-helperd.service.d/hardware.conf" "$1/sgx-quote-helperd.service.d/"
  [ $# -lt 2 ] || sed -i "$2" "$1/sgx-quote-helperd.service.d/hardware.conf"
}
verify() { # dir -> 0 when clean
  local out
  out=$(cd "$1" && systemd-analyze verify sgx-quote-helperd.socket sgx-quote-helperd-qgs.socket \
    sgx-quote-helperd.service 2>&1)
  local rc=$?
  [ $rc -eq 0 ] && [ -z "$out" ] || { echo "$out"; return 1; }
}
exposure() { # dir -> 0 when <= 3.0
  systemd-analyze security --offline=yes --threshold=30 "$1/sgx-quote-helperd.service" \
    >"$1/security.txt" 2>&1 || { tail -1 "$1/security.txt"; return 1; }
}

stage "$work/real"
out=$(verify "$work/real"); result "systemd-analyze verify (sockets + service)" $? "$out"
out=$(exposure "$work/real"); result "systemd-analyze security: $(tail -1 "$work/real/security.txt" | sed 's/.*: //')" $? "$out"
grep -q '^Type=notify$' "$here/sgx-quote-helperd.service"; result "Type=notify" $? ""
grep -q '^RuntimeDirectory=aesmd$' "$here/sgx-quote-helperd.service"; result "RuntimeDirectory=aesmd" $? ""
# The daemon tells the QGS descriptor from the AESM one by this name
# (src/daemon/listen.h LISTEN_FD_NAME_QGS), and serves it for the service
# both units name.
grep -q '^FileDescriptorName=qgs$' "$here/sgx-quote-helperd-qgs.socket" &&
  grep -q '^Service=sgx-quote-helperd.service$' "$here/sgx-quote-helperd-qgs.socket" &&
  ! grep -q '^FileDescriptorName=qgs$' "$here/sgx-quote-helperd.socket"
result "QGS socket unit: FileDescriptorName=qgs, same service" $? ""
grep -q '^DevicePolicy=closed$' "$here/sgx-quote-helperd.service" &&
  grep -q '^DeviceAllow=/dev/sgx_enclave rw$' "$here/sgx-quote-helperd.service" &&
  grep -q '^DeviceAllow=/dev/sgx_provision rw$' "$here/sgx-quote-helperd.service"
result "DevicePolicy=closed + DeviceAllow for the SGX nodes" $? ""

# Simulation hosts have no sgx_prv group: a unit naming it would fail with
# 216/GROUP, so the group lives in the hardware drop-in only (verified with
# the drop-in next to the unit, where systemd-analyze loads it).
! grep -q '^SupplementaryGroups=' "$here/sgx-quote-helperd.service"
result "no SupplementaryGroups in the main unit (works without sgx_prv)" $? ""
grep -q '^SupplementaryGroups=sgx_prv$' "$here/sgx-quote-helperd.service.d/hardware.conf"
result "hardware drop-in adds sgx_prv" $? ""
! grep -q 'SGXQH_SIM_STATE_DIR' "$here/sgx-quote-helperd.service"
result "no environment the daemon does not read (SGXQH_SIM_STATE_DIR)" $? ""
stage_hw "$work/hw"
out=$(verify "$work/hw"); result "systemd-analyze verify (with hardware.conf)" $? "$out"
stage_hw "$work/hwtypo" 's/^SupplementaryGroups=/SupplementryGroups=/'
verify "$work/hwtypo" >/dev/null; [ $? -ne 0 ]; result "self-test: verify reads the drop-in" $? "passed"

stage "$work/typo" 's/^ProtectSystem=strict/ProtectSytem=strict/'
verify "$work/typo" >/dev/null; [ $? -ne 0 ]; result "self-test: verify catches an unknown key" $? "passed"
stage "$work/badval" 's/^DevicePolicy=closed/DevicePolicy=closd/'
verify "$work/badval" >/dev/null; [ $? -ne 0 ]; result "self-test: verify catches a bad value" $? "passed"
stage "$work/weak" '/^\(NoNewPrivileges\|CapabilityBoundingSet\|ProtectSystem\|ProtectHome\|PrivateTmp\|DynamicUser\|SystemCallFilter\|RestrictAddressFamilies\|ProtectKernel.*\|RestrictNamespaces\)=/d'
exposure "$work/weak" >/dev/null; [ $? -ne 0 ]; result "self-test: security catches a weakened unit" $? "passed"

echo "units: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
