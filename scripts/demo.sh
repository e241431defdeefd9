#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `make demo`: the main job end to end on a machine without SGX. A simulated
# platform is created in a temporary directory, a simulated enclave makes a
# report for its QE, the QE turns it into a quote (in-process), the quote is
# printed, the collateral a verifier needs is exported, and the quote is
# verified: by `sgx-quote verify`, and by @phala/dcap-qvl when
# tests/node/node_modules is installed (`make check` installs it; that is the
# only step that is ever skipped). Then the same through sgx-quote-helperd.
# Then a TDX quote for a simulated TD through the daemon's QGS socket.
# Non-interactive. Any step that fails, and any verification that does not
# give the expected verdict (VERIFIED: UpToDate), stops the demo with a
# "demo: FAILED" line and exit status 1.
set -Eeuo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$src/build}
sq=$build/src/cli/sgx-quote
daemon=$build/src/daemon/sgx-quote-helperd
for bin in "$sq" "$daemon"; do
  if [ ! -x "$bin" ]; then
    echo "demo: $bin not found; run 'make build' first" >&2
    exit 1
  fi
done

work=$(mktemp -d "${TMPDIR:-/tmp}/sgx-quote-demo.XXXXXX")
dpid=
cleanup() {
  if [ -n "$dpid" ]; then kill "$dpid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  printf '\ndemo: FAILED: %s\n' "$*" >&2
  if [ -n "$dpid" ] && [ -s "$work/daemon.log" ]; then
    echo "demo: sgx-quote-helperd's log:" >&2
    cat "$work/daemon.log" >&2
  fi
  exit 1
}
# Anything else that fails (set -e) says where, too.
trap 'fail "line $LINENO: $BASH_COMMAND (exit $?)"' ERR

state=$work/state
step() { printf '\n== %s\n' "$*"; }

# Our verifier must say exactly "VERIFIED: UpToDate" and exit 0.
verify_ours() {
  local quote=$1 coll=$2 out rc=0
  out=$("$sq" verify "$quote" --collateral-dir "$coll" --root "$coll/root.pem" 2>&1) || rc=$?
  if [ "$rc" -ne 0 ] || [[ $out != "VERIFIED: UpToDate"* ]]; then
    printf '%s\n' "$out" >&2
    fail "sgx-quote verify did not accept $(basename "$quote") (exit $rc; expected exit 0," \
      "VERIFIED: UpToDate)"
  fi
  printf '%s\n' "$out" | sed -n '1,4p'
}

# dcap-qvl (through the tests/node bridge) must verify it as UpToDate.
node_dir=$src/tests/node
have_qvl=false
if [ -d "$node_dir/node_modules/@phala/dcap-qvl" ]; then
  command -v node >/dev/null ||
    fail "$node_dir/node_modules is installed but node is not on PATH"
  have_qvl=true
fi
verify_qvl() {
  local quote=$1 coll=$2 out rc=0
  out=$(node "$node_dir/qvl-verify.js" "$quote" "$coll/collateral.json" "$coll/root.pem" \
    "$(date +%s)" 2>&1) || rc=$?
  printf 'dcap-qvl: %s\n' "$out"
  if [ "$rc" -ne 0 ] || [[ $out != *'"ok":true,"status":"UpToDate"'* ]]; then
    fail "dcap-qvl did not accept $(basename "$quote") (exit $rc; expected" \
      "{\"ok\":true,\"status\":\"UpToDate\",...})"
  fi
}

step "1. A simulated SGX platform (seed in $state, created 0600 on first use)"
"$sq" enclave target-info --in-process --state-dir "$state" -o "$work/qe_target_info.bin"
ls -l "$state"
echo "QE target info: $(stat -c %s "$work/qe_target_info.bin") bytes (what an enclave reports to)"

step "2. A simulated enclave makes a REPORT for the QE (report data: \"hello, attestation\")"
"$sq" enclave report --target-info "$work/qe_target_info.bin" \
  --report-data "$(printf 'hello, attestation' | od -An -tx1 | tr -d ' \n')" \
  --isv-prod-id 1 --isv-svn 2 -o "$work/report.bin"
echo "report: $(stat -c %s "$work/report.bin") bytes, MAC'd like the SGX SDK's simulation mode"

step "3. The simulated QE3 verifies the report and signs a v3 quote (in-process)"
"$sq" get --in-process --state-dir "$state" --report "$work/report.bin" \
  --nonce 00112233445566778899aabbccddeeff --qe-report-out "$work/qe_report.bin" \
  -o "$work/quote.bin"

step "4. What the quote says"
"$sq" inspect "$work/quote.bin"

step "5. The collateral a verifier needs (TCB info, QE identity, CRLs, chains, root)"
"$sq" collateral export --state-dir "$state" -o "$work/collateral"
ls "$work/collateral"

step "6. Verify it, trusting the simulated root"
verify_ours "$work/quote.bin" "$work/collateral"

step "7. An independent verifier's opinion (@phala/dcap-qvl, trusting the simulated root)"
if $have_qvl; then
  verify_qvl "$work/quote.bin" "$work/collateral"
else
  echo "(skipped: $node_dir/node_modules is not installed; 'make check' installs it)"
fi

# ---------------------------------------------------------------------------
# Daemon section (issue 4; maintained by the daemon engineer). The same job
# out of process: sgx-quote-helperd serves the AESM socket on a temporary
# path (no root needed), and `sgx-quote get` talks to it exactly as an
# application's libsgx_quote_ex would.
# ---------------------------------------------------------------------------
dsock=$work/run/aesm.socket
qsock=$work/run/tdx-qgs/qgs.socket
dstate=$work/daemon-state
step "8. Start sgx-quote-helperd on $dsock and the TDX QGS socket $qsock (simulated backend)"
"$daemon" --socket "$dsock" --qgs-socket "$qsock" --state-dir "$dstate" --init-seed \
  2>"$work/daemon.log" &
dpid=$!
for _ in $(seq 1 100); do
  "$sq" ping --socket "$dsock" --quiet && break
  kill -0 "$dpid" 2>/dev/null || fail "sgx-quote-helperd exited during start-up"
  sleep 0.1
done
"$sq" ping --socket "$dsock"

step "9. sgx-quote get, out of process: target info, report, quote size, quote (+ QE report)"
"$sq" get --socket "$dsock" --sim-enclave \
  --report-data "$(printf 'hello, out-of-process' | od -An -tx1 | tr -d ' \n')" \
  --nonce 0123456789abcdef0123456789abcdef --qe-report-out "$work/oop_qe_report.bin" \
  -o "$work/oop_quote.bin"
echo "quote: $(stat -c %s "$work/oop_quote.bin") bytes from the daemon"

step "10. What the daemon's quote says"
# sed reads to the end, so inspect never dies of SIGPIPE under pipefail
"$sq" inspect "$work/oop_quote.bin" | sed -n '1,24p'
echo "  ..."

step "11. Verify the daemon's quote against its platform's collateral"
"$sq" collateral export --state-dir "$dstate" -o "$work/daemon-collateral"
verify_ours "$work/oop_quote.bin" "$work/daemon-collateral"
if $have_qvl; then
  verify_qvl "$work/oop_quote.bin" "$work/daemon-collateral"
else
  echo "(dcap-qvl skipped: $node_dir/node_modules is not installed)"
fi

# TDX (docs/tdx.md): a simulated TD guest's TDREPORT through the QGS socket,
# as QEMU's quote-generation-socket or libtdx_attest would send it.
step "12. TDX: a simulated TDREPORT, quoted by the daemon's QGS socket (framed qgs_msg)"
"$sq" tdx report --state-dir "$dstate" \
  --report-data "$(printf 'hello, TD' | od -An -tx1 | tr -d ' \n')" -o "$work/td.report"
"$sq" get --tdx --qgs-socket "$qsock" --report "$work/td.report" -o "$work/td_quote.bin"
"$sq" inspect "$work/td_quote.bin" | sed -n '1,12p'
echo "  ..."

step "13. Verify the TDX quote against the TDX collateral (TDX TCB info, TD_QE identity)"
"$sq" collateral export --tdx --state-dir "$dstate" -o "$work/tdx-collateral"
verify_ours "$work/td_quote.bin" "$work/tdx-collateral"
if $have_qvl; then
  verify_qvl "$work/td_quote.bin" "$work/tdx-collateral"
else
  echo "(dcap-qvl skipped: $node_dir/node_modules is not installed)"
fi

step "14. Stop the daemon (SIGTERM: finish what is queued, exit 0); its log"
kill -TERM "$dpid"
drc=0
wait "$dpid" || drc=$?
[ "$drc" -eq 0 ] || fail "sgx-quote-helperd exited $drc after SIGTERM (expected 0)"
dpid=
echo "sgx-quote-helperd exited 0"
cat "$work/daemon.log"

printf '\ndemo: done. Everything above is simulated and not for production.\n'
