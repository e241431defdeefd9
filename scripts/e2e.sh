#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `make e2e` (and .ci/run): the container end-to-end test of issue 5.
#   1. build the image here (deploy/container/build.sh: debootstrap'd Debian 12
#      base, cached under build-e2e/cache, then podman build);
#   2. render the simulation overlay and turn the DaemonSet's pod template
#      into a Pod, and the sample Job's template into another Pod
#      (deploy/tools/pod_from_template.py prints every adaptation);
#   3. `podman kube play` both (runc, explicit ulimits: DEVELOPERS quirks),
#      sharing one host directory that stands in for the node's /var/run/aesmd;
#   4. assert the app got a quote from the daemon and verified it, the daemon
#      logged the request as JSON with the same MRENCLAVE, the manifest's
#      exec probe passes, /healthz, /readyz and /metrics answer on the pod's
#      port 9464, and the daemon stops cleanly on SIGTERM.
#   5. the hardware overlays (aks, intel-device-plugin; issue 10): a signed
#      local apt repository of stand-in packages with the real names, paths
#      and sonames (deploy/standins/build-repo.sh) serves the SAME
#      Containerfile built with PROVIDER=azure / intel; the DaemonSet and the
#      sample app Job (deploy/kubernetes/examples/sample-app) run as pods;
#      the daemon runs --backend hw on the stand-ins loaded from the real
#      paths, the app quotes through it and verifies, and a rolling update
#      (old pod, new pod, both up, old stopped) loses no quote. Each prints
#      "ok   <overlay>: quote obtained through the hardware backend and verified".
#   6. the tdx-simulation overlay (issue 13; scripts/e2e-tdx.sh): the
#      DaemonSet with the QGS socket on a host directory standing in for the
#      node's /var/run/tdx-qgs, and a TD-side client container that makes a
#      simulated TDREPORT, gets quotes over the QGS socket (framed and raw)
#      and verifies them with the TDX collateral the pod published.
#   7. the tdx overlay (hardware TDX hosts; scripts/e2e-hw.sh): its
#      DaemonSet from the intel stand-in image, --backend hw with the
#      stand-in libsgx-tdx-logic1, and a TD-side client that gets quotes over
#      the QGS socket and verifies them.
# Ends with "e2e: N passed, N failed". Options: --keep (leave pods and the
# work directory for inspection); SGXQH_E2E_OVERLAYS (default
# "simulation tdx-simulation aks intel-device-plugin tdx"); SGXQH_E2E_PREFIX
# (pod and container names, default sqh-e2e: a second run on the same
# machine needs its own); SGXQH_E2E_SIM_IMAGE (the simulation image's tag,
# default localhost/sgx-quote-helper:dev); SGXQH_E2E_DEB=0 skips the
# Debian package test. Bounded: each wait has a timeout.
set -uo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
cd "$src"
keep=0
[ "${1:-}" = "--keep" ] && keep=1

# The manifests' image; a run under another tag maps it with --image.
MANIFEST_IMAGE=localhost/sgx-quote-helper:dev
IMAGE=${SGXQH_E2E_SIM_IMAGE:-$MANIFEST_IMAGE}
PFX=${SGXQH_E2E_PREFIX:-sqh-e2e}
DAEMON_POD=$PFX-daemon
APP_POD=$PFX-app
DAEMON_CTR=$DAEMON_POD-sgx-quote-helperd
APP_CTR=$APP_POD-app
pass=0 fail=0
step() { echo "== $*"; }
result() { # name status [detail]
  if [ "$2" -eq 0 ]; then echo "ok   $1"; pass=$((pass + 1)); else
    echo "FAIL $1${3:+: $3}"; fail=$((fail + 1)); fi
}
finish() {
  echo "e2e: $pass passed, $fail failed"
  [ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
  exit $?
}

# ---- 0. tools (Debian 12 packages), only when missing ----
need=()
for p in podman runc catatonit debootstrap iptables containernetworking-plugins python3-yaml curl \
         dpkg-dev gnupg patchelf; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  step "installing ${need[*]}"
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
      "${need[@]}" >/dev/null
  result "install ${need[*]}" $?
fi
[ "$(id -u)" -eq 0 ] || { echo "e2e: needs root (debootstrap, rootful podman)"; fail=1; finish; }

mkdir -p build-e2e
work=$(mktemp -d "$src/build-e2e/run.XXXXXX")
export CONTAINERS_CONF=$work/containers.conf
# kube play has no --ulimit: defaults come from containers.conf.
cat > "$CONTAINERS_CONF" <<'EOF'
[containers]
default_ulimits = ["nproc=4096:4096", "nofile=1024:1024"]
[engine]
runtime = "runc"
EOF
PODMAN=(podman --runtime /usr/sbin/runc)
# emptyDir volumes become named podman volumes; ours carry the pod's prefix.
HW_PODS=()
for ov in aks intel-device-plugin; do
  HW_PODS+=("$PFX-$ov" "$PFX-$ov-new" "$PFX-$ov-app" "$PFX-$ov-broken"
            "$PFX-$ov-broken-app" "$PFX-$ov-missing" "$PFX-$ov-missing-app")
done
TDX_POD=$PFX-tdx
TDX_CLIENT=$PFX-tdx-client
TDX_HW_POD=$PFX-tdx-hw
TDX_HW_CLIENT=$PFX-tdx-hw-client
HW_PODS+=("$TDX_HW_POD")
remove_volumes() {
  "${PODMAN[@]}" volume ls -q 2>/dev/null | grep -E "^($DAEMON_POD|$APP_POD|$TDX_POD|$PFX-aks|$PFX-intel-device-plugin)" |
    xargs -r "${PODMAN[@]}" volume rm -f >/dev/null 2>&1
}
http_pid=
cleanup() {
  [ -n "$http_pid" ] && kill "$http_pid" 2>/dev/null
  if [ "$keep" -eq 0 ]; then
    # --ignore: without it one missing pod makes podman remove none.
    "${PODMAN[@]}" pod rm --ignore -f -t 5 "$APP_POD" "$DAEMON_POD" "$TDX_POD" "${HW_PODS[@]}" >/dev/null 2>&1
    "${PODMAN[@]}" rm --ignore -f -t 5 "$PFX-aks-loop" "$PFX-intel-device-plugin-loop" "$TDX_CLIENT" "$TDX_HW_CLIENT" >/dev/null 2>&1
    remove_volumes
    rm -rf "$work"
  else
    echo "kept: pods $DAEMON_POD $APP_POD $TDX_POD ${HW_PODS[*]}, work dir $work"
  fi
}
trap cleanup EXIT
"${PODMAN[@]}" pod rm --ignore -f -t 5 "$APP_POD" "$DAEMON_POD" "$TDX_POD" "${HW_PODS[@]}" >/dev/null 2>&1
"${PODMAN[@]}" rm --ignore -f -t 5 "$PFX-aks-loop" "$PFX-intel-device-plugin-loop" "$TDX_CLIENT" "$TDX_HW_CLIENT" >/dev/null 2>&1
remove_volumes
overlays=${SGXQH_E2E_OVERLAYS:-simulation tdx-simulation aks intel-device-plugin tdx}
want() { case " $overlays " in *" $1 "*) return 0 ;; esac; return 1; }
# stop_daemon CTR SOCKET LABEL WHAT: SIGTERM, then exit code 0 and SOCKET gone.
stop_daemon() {
  local code
  timeout 60 "${PODMAN[@]}" stop -t 40 "$1" >/dev/null 2>&1
  code=$("${PODMAN[@]}" inspect -f '{{.State.ExitCode}}' "$1" 2>&1)
  result "${3}daemon exits 0 on SIGTERM" "$([ "$code" = 0 ]; echo $?)" "exit $code"
  [ ! -e "$2" ]
  result "${3}daemon removed $4" $?
}
# make_seed DIR: DIR/seed, a v1 seed (docs/simulation.md "The seed file")
# made as the docs say, mode 0400 as a Secret volume with defaultMode 0400
# presents it.
make_seed() {
  mkdir -p "$1"
  { echo 'sgx-quote-helper seed v1'; head -c 32 /dev/urandom | od -An -v -tx1 | tr -d ' \n'; echo; } \
    >"$1/seed.body"
  { cat "$1/seed.body"; echo "sha256:$(sha256sum <"$1/seed.body" | cut -c1-64)"; } >"$1/seed"
  rm "$1/seed.body"
  chmod 0400 "$1/seed"
}

# ---- 1. image (the simulation overlays share it) ----
if want simulation || want tdx-simulation; then
step "image (deploy/container/build.sh; log: build-e2e/image.log)"
timeout 1800 deploy/container/build.sh --tag "$IMAGE" >build-e2e/image.log 2>&1
rc=$?
result "build $IMAGE" $rc "$(tail -5 build-e2e/image.log)"
[ $rc -eq 0 ] || finish
fi

if want simulation; then
# ---- 2. pods from the manifests ----
step "pods from deploy/kubernetes (simulation overlay, sample Job)"
mkdir -p "$work/aesmd"
make_seed "$work/seed"
python3 deploy/tools/pod_from_template.py --kustomize deploy/kubernetes/overlays/simulation \
  --kind DaemonSet --name "$DAEMON_POD" --host-path "/var/run/aesmd=$work/aesmd" \
  --secret "sgx-quote-helper-sim-seed=$work/seed" --node-name e2e-node --no-probes \
  --restart-policy Never --volume-prefix "$DAEMON_POD-" --image "$MANIFEST_IMAGE=$IMAGE" \
  >"$work/daemon-pod.yaml"
result "DaemonSet template -> Pod" $?
python3 deploy/tools/pod_from_template.py --file deploy/kubernetes/examples/sample-job.yaml \
  --kind Job --name "$APP_POD" --host-path "/var/run/aesmd=$work/aesmd" \
  --volume-prefix "$APP_POD-" --image "$MANIFEST_IMAGE=$IMAGE" >"$work/app-pod.yaml"
result "sample Job template -> Pod" $?

# ---- 3. the quote helper ----
step "podman kube play $DAEMON_POD"
# Without a systemd manager podman logs that it cannot schedule healthchecks;
# probes are dropped above and run by hand below.
timeout 120 "${PODMAN[@]}" kube play "$work/daemon-pod.yaml" >"$work/play-daemon.log" 2>&1
result "kube play daemon pod" $? "$(tail -3 "$work/play-daemon.log")"
ready=1
for _ in $(seq 1 60); do
  if [ -S "$work/aesmd/aesm.socket" ] && [ -f "$work/aesmd/sim-collateral/root.pem" ]; then
    ready=0; break
  fi
  sleep 1
done
result "socket and simulated collateral appear in the shared directory" $ready \
  "$("${PODMAN[@]}" logs "$DAEMON_CTR" 2>&1 | tail -5)"
[ "$(stat -c %u "$work/aesmd")" = 65532 ]
result "init container handed the socket directory to uid 65532" $?
user=$("${PODMAN[@]}" inspect -f '{{.Config.User}} {{.HostConfig.ReadonlyRootfs}}' "$DAEMON_CTR" 2>&1)
[ "$user" = "65532 true" ] || [ "$user" = "65532:65532 true" ]
result "daemon runs as 65532 with a read-only root filesystem" $? "$user"

# The manifest's exec probe, as the kubelet would run it.
probe=$(python3 - "$src" <<'EOF'
import sys, shlex
sys.path.insert(0, sys.argv[1] + "/deploy/tools")
import kustomize_lite
objs = kustomize_lite.render(sys.argv[1] + "/deploy/kubernetes/overlays/simulation")
ds = [o for o in objs if o["kind"] == "DaemonSet"][0]
c = ds["spec"]["template"]["spec"]["containers"][0]
print(shlex.join(c["startupProbe"]["exec"]["command"]))
EOF
)
eval "timeout 10 ${PODMAN[*]} exec $DAEMON_CTR $probe"
result "startupProbe exec ($probe)" $?

# ---- 4. the application ----
step "podman kube play $APP_POD"
timeout 120 "${PODMAN[@]}" kube play "$work/app-pod.yaml" >"$work/play-app.log" 2>&1
result "kube play app pod" $? "$(tail -3 "$work/play-app.log")"
code=$(timeout 120 "${PODMAN[@]}" wait "$APP_CTR" 2>&1)
"${PODMAN[@]}" logs "$APP_CTR" >"$work/app.log" 2>&1
result "app exited 0" "$([ "$code" = 0 ]; echo $?)" "exit $code; $(tail -5 "$work/app.log")"
grep -q 'quote to /tmp/quote.bin (from the daemon)' "$work/app.log"
result "app got a quote from the daemon (sgx-quote get)" $?
grep -q '^VERIFIED: UpToDate' "$work/app.log"
result "app verified it (sgx-quote verify)" $?

"${PODMAN[@]}" logs "$DAEMON_CTR" >"$work/daemon.log" 2>&1
mre=$(sed -n 's/^ *MRENCLAVE *\([0-9a-f]\{64\}\)$/\1/p' "$work/app.log" | head -1)
python3 - "$work/daemon.log" "$mre" <<'EOF'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
quotes = [l for l in lines if l.get("op") == "GetQuoteEx" and l.get("code") == 0]
assert quotes, "no successful GetQuoteEx line"
assert quotes[-1].get("mrenclave") == sys.argv[2], (quotes[-1], sys.argv[2])
EOF
result "daemon logged GetQuoteEx as JSON with the app's MRENCLAVE" $? "$(tail -3 "$work/daemon.log")"

# The probes and metrics the DaemonSet's kubelet and Prometheus would use
# (the manifest's --http-listen=0.0.0.0:9464, in the pod's network).
ip=$("${PODMAN[@]}" pod inspect -f '{{.InfraContainerID}}' "$DAEMON_POD" | xargs \
      "${PODMAN[@]}" inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}')
for path in /healthz /readyz; do
  curl -fsS --max-time 5 "http://$ip:9464$path" >/dev/null
  result "GET $path" $?
done
curl -fsS --max-time 5 "http://$ip:9464/metrics" >"$work/metrics.txt"
grep -Eq '^sgx_quote_helper_requests_total\{op="GetQuoteEx",result="AESM_SUCCESS"\} [1-9]' \
  "$work/metrics.txt"
result "GET /metrics counts the app's GetQuoteEx" $?
grep -Eq '^sgx_quote_helper_backend_ready 1$' "$work/metrics.txt"
result "GET /metrics: backend_ready 1" $?

# ---- 5. shutdown ----
step "SIGTERM"
stop_daemon "$DAEMON_CTR" "$work/aesmd/aesm.socket" "" "its own socket"

fi

if want tdx-simulation; then
  # shellcheck source=scripts/e2e-tdx.sh
  . "$src/scripts/e2e-tdx.sh"
fi

if want aks || want intel-device-plugin || want tdx; then
  # shellcheck source=scripts/e2e-hw.sh
  . "$src/scripts/e2e-hw.sh"
fi

# ---- 7. the Debian packages, installed and used in a clean Debian 12 ----
if [ "${SGXQH_E2E_DEB:-1}" != 0 ]; then
out=$(scripts/e2e-deb.sh 2>&1); rc=$?; echo "$out"
pass=$((pass + $(grep -c '^ok  ' <<<"$out"))) fail=$((fail + $(grep -c '^FAIL' <<<"$out")))
[ $rc -eq 0 ] || grep -q '^FAIL' <<<"$out" || fail=$((fail + 1))
fi

finish
