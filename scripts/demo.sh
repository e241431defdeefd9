#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `make demo`: the main job end to end on a machine without SGX. A simulated
# platform is created in a temporary directory, a simulated enclave makes a
# report for its QE, the QE turns it into a quote (in-process), the quote is
# printed, the collateral a verifier needs is exported, and the quote is
# verified (ours, and @phala/dcap-qvl when installed). Non-interactive.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$src/build}
sq=$build/src/cli/sgx-quote
if [ ! -x "$sq" ]; then
  echo "demo: $sq not found; run 'make build' first" >&2
  exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/sgx-quote-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT
state=$work/state
step() { printf '\n== %s\n' "$*"; }
has_command() { "$sq" --help | grep -q "^  $1 "; }

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
if has_command inspect; then
  "$sq" inspect "$work/quote.bin"
else
  echo "(skipped: this build has no 'sgx-quote inspect' yet)"
  od -An -tx1 -N 48 "$work/quote.bin" | sed 's/^/header:/'
fi

step "5. The collateral a verifier needs (TCB info, QE identity, CRLs, chains, root)"
"$sq" collateral export --state-dir "$state" -o "$work/collateral"
ls "$work/collateral"

step "6. Verify it, trusting the simulated root"
if has_command verify; then
  if out=$("$sq" verify "$work/quote.bin" --collateral-dir "$work/collateral" \
             --root "$work/collateral/root.pem" 2>&1); then :; fi
  printf '%s\n' "$out" | head -n 4
else
  echo "(skipped: this build has no 'sgx-quote verify' yet)"
fi

step "7. An independent verifier's opinion (@phala/dcap-qvl, trusting the simulated root)"
node_dir=$src/tests/node
if command -v node >/dev/null && [ -d "$node_dir/node_modules/@phala/dcap-qvl" ]; then
  node "$node_dir/qvl-verify.js" "$work/quote.bin" "$work/collateral/collateral.json" \
    "$work/collateral/root.pem" "$(date +%s)" || true
else
  echo "(skipped: node or @phala/dcap-qvl not installed; 'make check' installs them)"
fi


# ---------------------------------------------------------------------------
# Daemon section (issue 4; maintained by the daemon engineer). The same job
# out of process: sgx-quote-helperd serves the AESM socket on a temporary
# path (no root needed), and `sgx-quote get` talks to it exactly as an
# application's libsgx_quote_ex would.
# ---------------------------------------------------------------------------
daemon=$build/src/daemon/sgx-quote-helperd
if [ -x "$daemon" ]; then
  dsock=$work/run/aesm.socket
  dstate=$work/daemon-state
  step "8. Start sgx-quote-helperd on $dsock (simulated backend, state in $dstate)"
  "$daemon" --socket "$dsock" --state-dir "$dstate" 2>"$work/daemon.log" &
  dpid=$!
  trap 'kill "$dpid" 2>/dev/null || true; rm -rf "$work"' EXIT
  for _ in $(seq 1 100); do
    "$sq" ping --socket "$dsock" --quiet && break
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
  if has_command inspect; then
    # sed reads to the end, so inspect never dies of SIGPIPE under pipefail
    "$sq" inspect "$work/oop_quote.bin" | sed -n '1,24p'
    echo "  ..."
  else
    od -An -tx1 -N 48 "$work/oop_quote.bin" | sed 's/^/header:/'
  fi

  step "11. Verify the daemon's quote against its platform's collateral"
  "$sq" collateral export --state-dir "$dstate" -o "$work/daemon-collateral"
  if has_command verify; then
    if out=$("$sq" verify "$work/oop_quote.bin" --collateral-dir "$work/daemon-collateral" \
               --root "$work/daemon-collateral/root.pem" 2>&1); then :; fi
    printf '%s\n' "$out" | sed -n '1,4p'
  else
    echo "(skipped: this build has no 'sgx-quote verify' yet)"
  fi
  if command -v node >/dev/null && [ -d "$node_dir/node_modules/@phala/dcap-qvl" ]; then
    node "$node_dir/qvl-verify.js" "$work/oop_quote.bin" \
      "$work/daemon-collateral/collateral.json" "$work/daemon-collateral/root.pem" \
      "$(date +%s)" || true
  fi

  step "12. Stop the daemon (SIGTERM: finish what is queued, exit 0); its log"
  kill -TERM "$dpid"
  wait "$dpid" && echo "sgx-quote-helperd exited 0"
  trap 'rm -rf "$work"' EXIT
  cat "$work/daemon.log"
else
  step "8. (skipped: $daemon not built)"
fi

printf '\ndemo: done. Everything above is simulated and not for production.\n'
