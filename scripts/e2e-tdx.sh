# SPDX-License-Identifier: Apache-2.0
# Sourced by scripts/e2e.sh (uses its result, step, make_seed, stop_daemon,
# PODMAN, IMAGE, MANIFEST_IMAGE, TDX_POD, TDX_CLIENT, work, src): the tdx-simulation
# overlay (issue 13, docs/tdx.md). The DaemonSet's pod template runs as a
# pod with the node's /var/run/tdx-qgs and /var/run/aesmd on work
# directories; a TD-side client container (the same image, as the TD
# guest's stand-in) makes a simulated TDREPORT with the cluster's seed, asks
# the daemon for quotes over the QGS socket, framed (qgs_msg, as
# libtdx_attest and QEMU's quote-generation-socket speak it) and raw (older
# QEMU), and verifies both with the TDX collateral the pod published.

TDX_CTR=$TDX_POD-sgx-quote-helperd
td=$work/tdx
step "tdx-simulation overlay: DaemonSet as a pod, a TD-side client on its QGS socket"
mkdir -p "$td/aesmd" "$td/tdx-qgs" "$td/client"
make_seed "$td/seed"
python3 deploy/tools/pod_from_template.py --kustomize deploy/kubernetes/overlays/tdx-simulation \
  --kind DaemonSet --name "$TDX_POD" --host-path "/var/run/aesmd=$td/aesmd" \
  --host-path "/var/run/tdx-qgs=$td/tdx-qgs" --secret "sgx-quote-helper-sim-seed=$td/seed" \
  --node-name e2e-node --no-probes --no-ports --restart-policy Never \
  --volume-prefix "$TDX_POD-" --image "$MANIFEST_IMAGE=$IMAGE" \
  >"$td/daemon-pod.yaml" 2>"$td/daemon-pod.adapt"
result "tdx-simulation: DaemonSet template -> Pod" $? "$(tail -3 "$td/daemon-pod.adapt")"
timeout 120 "${PODMAN[@]}" kube play "$td/daemon-pod.yaml" >"$td/play.log" 2>&1
result "tdx-simulation: kube play daemon pod" $? "$(tail -3 "$td/play.log")"
ready=1
for _ in $(seq 1 60); do
  if [ -S "$td/tdx-qgs/qgs.socket" ] && [ -S "$td/aesmd/aesm.socket" ] &&
     [ -f "$td/tdx-qgs/sim-collateral/root.pem" ]; then
    ready=0; break
  fi
  sleep 1
done
result "tdx-simulation: QGS and AESM sockets and the TDX collateral appear on the host" $ready \
  "$("${PODMAN[@]}" logs "$TDX_CTR" 2>&1 | tail -5)"
[ "$(stat -c %u "$td/tdx-qgs" 2>/dev/null)" = 65532 ]
result "tdx-simulation: init container handed /var/run/tdx-qgs to uid 65532" $?

# The TD side: the simulated TDX module MACs the report with the platform
# key derived from the seed and the node's instance name (docs/tdx.md), so
# the client holds a copy of the seed, a 0600 file of its user as the
# daemon's is.
cp "$td/seed/seed" "$td/client/seed"
chown -R 65532:65532 "$td/client"
chmod 0700 "$td/client"
chmod 0600 "$td/client/seed"
timeout 120 "${PODMAN[@]}" run --name "$TDX_CLIENT" --user 65532:65532 --read-only \
  --tmpfs /tmp --network none \
  -v "$td/tdx-qgs:/var/run/tdx-qgs" -v "$td/client:/run/td-client" \
  --entrypoint /bin/sh "$IMAGE" -ec '
    sim="--seed-file /run/td-client/seed --instance e2e-node --state-dir /tmp/state"
    coll=/var/run/tdx-qgs/sim-collateral
    sgx-quote tdx report $sim --report-data c0ffee -o /tmp/td.report
    sgx-quote get --tdx --qgs-socket /var/run/tdx-qgs/qgs.socket --report /tmp/td.report \
      -o /tmp/td.quote
    echo "== verify framed"
    sgx-quote verify /tmp/td.quote --collateral-dir $coll --root $coll/root.pem
    sgx-quote get --tdx --raw --qgs-socket /var/run/tdx-qgs/qgs.socket \
      --report /tmp/td.report -o /tmp/td-raw.quote
    echo "== verify raw"
    sgx-quote verify /tmp/td-raw.quote --collateral-dir $coll --root $coll/root.pem
    sgx-quote inspect /tmp/td.quote' >"$td/client.log" 2>&1
code=$?
result "tdx-simulation: TD-side client exited 0" "$code" "exit $code; $(tail -5 "$td/client.log")"
grep -q 'wrote a [0-9]*-byte TDX quote to /tmp/td.quote' "$td/client.log"
result "tdx-simulation: TD-side client got a quote over the QGS socket (qgs_msg framing)" $?
grep -q 'wrote a [0-9]*-byte TDX quote to /tmp/td-raw.quote' "$td/client.log"
result "tdx-simulation: TD-side client got a quote over the QGS socket (raw TDREPORT)" $?
[ "$(sed -n '/^== verify framed/,/^== verify raw/p' "$td/client.log" | grep -c '^VERIFIED: UpToDate')" = 1 ]
result "tdx-simulation: framed quote verified with the published TDX collateral (UpToDate)" $?
[ "$(sed -n '/^== verify raw/,$p' "$td/client.log" | grep -c '^VERIFIED: UpToDate')" = 1 ]
result "tdx-simulation: raw quote verified with the published TDX collateral (UpToDate)" $?
grep -qi 'c0ffee' "$td/client.log"
result "tdx-simulation: the quote carries the TD's report data" $? "$(tail -20 "$td/client.log")"

"${PODMAN[@]}" logs "$TDX_CTR" >"$td/daemon.log" 2>&1
python3 - "$td/daemon.log" <<'EOF'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
ops = {l.get("op") for l in lines
       if l.get("protocol") == "qgs" and l.get("result") == "ok"}
assert {"GetQuote", "RawGetQuote"} <= ops, ops
EOF
result "tdx-simulation: daemon logged GetQuote and RawGetQuote as JSON" $? "$(tail -3 "$td/daemon.log")"

step "tdx-simulation: SIGTERM"
stop_daemon "$TDX_CTR" "$td/tdx-qgs/qgs.socket" "tdx-simulation: " "its QGS socket"
"${PODMAN[@]}" rm --ignore -f "$TDX_CLIENT" >/dev/null 2>&1
