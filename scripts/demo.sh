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

printf '\ndemo: done. Everything above is simulated and not for production.\n'
