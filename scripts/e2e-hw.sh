# SPDX-License-Identifier: Apache-2.0
# Sourced by scripts/e2e.sh (uses its result, step, stop_daemon, want, PODMAN,
# PFX, TDX_HW_POD, TDX_HW_CLIENT, work, src): the
# hardware overlays against stand-in packages (issue 10; tdx: 13). Not hardware: the
# stand-ins are our ABI test doubles (tests/hwdouble) packaged under Intel's
# and Microsoft's names, paths and sonames; docs/operations.md says what
# that does and does not prove.

HW_IMAGE=${SGXQH_E2E_IMAGE:-localhost/sgx-quote-helper}
APP_IMAGE=${SGXQH_E2E_APP_IMAGE:-localhost/sgx-quote-sample:dev}
SQ=$src/build/src/cli/sgx-quote  # the host's CLI (make e2e builds it first)

# ---- stand-in repository, served on loopback while the images build ----
step "stand-in apt repository (deploy/standins/build-repo.sh; log: build-e2e/standins.log)"
repo_dir=$(deploy/standins/build-repo.sh --out "$work/standin-repo" 2>build-e2e/standins.log)
result "stand-in repository built and signed" $? "$(tail -5 build-e2e/standins.log)"
have_qpl=1
grep -q 'no QPL double' build-e2e/standins.log && have_qpl=0
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server --bind 127.0.0.1 "$port" --directory "$repo_dir" \
  >"$work/http.log" 2>&1 &
http_pid=$!
for _ in $(seq 1 20); do curl -fs "http://127.0.0.1:$port/intel/key.asc" >/dev/null && break; sleep 0.5; done

# overlay -> provider, image tag, sample Job file, app container, QPL path
declare -A PROVIDER=([aks]=azure [intel-device-plugin]=intel [tdx]=intel)
declare -A JOB=([aks]=job-aks.yaml [intel-device-plugin]=job-intel-device-plugin.yaml)
declare -A APP_CTR_NAME=([aks]=sgxtest [intel-device-plugin]=sgxtest)
declare -A QPL_PKG=([aks]=az-dcap-client [intel-device-plugin]=libsgx-dcap-default-qpl)
declare -A QPL_PATH=([aks]=/usr/lib/libdcap_quoteprov.so
                     [intel-device-plugin]=/usr/lib/x86_64-linux-gnu/libdcap_quoteprov.so.1)

first_hw=
declare -A built=()
for ov in aks intel-device-plugin tdx; do
  want "$ov" || continue
  prov=${PROVIDER[$ov]}
  [ -n "${built[$prov]:-}" ] && continue
  built[$prov]=1
  step "image $HW_IMAGE:dev-$prov (PROVIDER=$prov, stand-in repository; log: build-e2e/image-$prov.log)"
  timeout 1800 deploy/container/build.sh --tag "$HW_IMAGE:dev-$prov" --provider "$prov" \
    --standin-repo "http://127.0.0.1:$port" >"build-e2e/image-$prov.log" 2>&1
  result "build $HW_IMAGE:dev-$prov from the stand-in repository" $? \
    "$(tail -5 "build-e2e/image-$prov.log")"
  [ -z "$first_hw" ] && first_hw=$HW_IMAGE:dev-$prov
done
kill "$http_pid" 2>/dev/null; http_pid=
if want aks || want intel-device-plugin; then
  step "image $APP_IMAGE (deploy/sample-app/Containerfile; log: build-e2e/image-app.log)"
  timeout 900 deploy/container/build.sh --file deploy/sample-app/Containerfile --tag "$APP_IMAGE" \
    --build-arg "HELPER_IMAGE=$first_hw" >build-e2e/image-app.log 2>&1
  result "build $APP_IMAGE" $? "$(tail -5 build-e2e/image-app.log)"
fi

# wait_for CMD...: up to 90 s
wait_for() { for _ in $(seq 1 90); do "$@" && return 0; sleep 1; done; return 1; }
socket_moved() { [ "$(stat -c %i "$1" 2>/dev/null)" != "$2" ]; } # PATH OLD_INODE
pod_ip() {
  "${PODMAN[@]}" pod inspect -f '{{.InfraContainerID}}' "$1" | xargs \
    "${PODMAN[@]}" inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}'
}

# daemon_pod OVERLAY NAME [pod_from_template options]: render, play, wait.
# Files in $OVDIR (default $work/OVERLAY), the host's aesmd in $AESMD.
daemon_pod() {
  local ov=$1 name=$2; shift 2
  local d=${OVDIR:-$work/$ov} cm=() aesmd=${AESMD:-$work/$ov/aesmd}
  case $ov in intel-device-plugin | tdx) cm=(--configmap "sgx-quote-helper-qcnl=$d/qcnl") ;; esac
  python3 deploy/tools/pod_from_template.py --kustomize "deploy/kubernetes/overlays/$ov" \
    --kind DaemonSet --name "$name" --host-path "/var/run/aesmd=$aesmd" \
    --node-name e2e-node --no-probes --no-ports --restart-policy Never --volume-prefix "$name-" "${cm[@]}" \
    --image "localhost/sgx-quote-helper:dev-${PROVIDER[$ov]}=${DAEMON_IMAGE:-$HW_IMAGE:dev-${PROVIDER[$ov]}}" \
    --env "sgx-quote-helperd:SGXQH_HWDOUBLE_STATE_DIR=/run/hwdouble" \
    --mount "sgx-quote-helperd:$d/hwstate:/run/hwdouble" "$@" \
    >"$d/$name.yaml" 2>"$d/$name.adapt" &&
    timeout 120 "${PODMAN[@]}" kube play "$d/$name.yaml" >"$d/$name.play" 2>&1
}

# app_pod OVERLAY NAME: the sample Job as a pod; waits for its exit code
app_pod() {
  local ov=$1 name=$2 d=$work/$1 aesmd=${AESMD:-$work/$1/aesmd}
  python3 deploy/tools/pod_from_template.py \
    --file "deploy/kubernetes/examples/sample-app/${JOB[$ov]}" --kind Job --name "$name" \
    --host-path "/var/run/aesmd=$aesmd" --volume-prefix "$name-" \
    --image "localhost/sgx-quote-sample:dev=$APP_IMAGE" \
    --env "${APP_CTR_NAME[$ov]}:SGX_QUOTE_VERIFY_ARGS=--collateral-dir /collateral --root /collateral/root.pem" \
    --mount "${APP_CTR_NAME[$ov]}:$d/collateral:/collateral:ro" \
    >"$d/$name.yaml" 2>"$d/$name.adapt" &&
    timeout 120 "${PODMAN[@]}" kube play "$d/$name.yaml" >"$d/$name.play" 2>&1 &&
    timeout 180 "${PODMAN[@]}" wait "$name-${APP_CTR_NAME[$ov]}" 2>&1
}

for ov in aks intel-device-plugin; do
  want "$ov" || continue
  prov=${PROVIDER[$ov]}
  d=$work/$ov
  dpod=$PFX-$ov
  dctr=$dpod-sgx-quote-helperd
  step "$ov overlay: DaemonSet and sample Job as pods ($HW_IMAGE:dev-$prov)"
  # The stand-in QE3 plays Intel's QE over a simulated platform whose seed
  # is this directory's; the app verifies against that platform's
  # collateral (on real nodes: Intel's PCS / your PCCS / Azure's cache).
  mkdir -p "$d/aesmd" "$d/hwstate" "$d/collateral" "$d/qcnl"
  head -c 32 /dev/urandom >"$d/hwstate/seed"
  chmod 0600 "$d/hwstate/seed"; chmod 0700 "$d/hwstate"
  "$SQ" collateral export --seed-file "$d/hwstate/seed" --instance hwdouble \
    --out "$d/collateral" >"$d/collateral.log" 2>&1
  result "$ov: stand-in platform collateral exported" $? "$(tail -3 "$d/collateral.log")"
  chmod -R a+rX "$d/collateral"
  chown -R 65532:65532 "$d/hwstate"

  daemon_pod "$ov" "$dpod"
  result "$ov: kube play DaemonSet pod" $? "$(tail -3 "$d/$dpod.adapt" "$d/$dpod.play" 2>/dev/null)"
  wait_for test -S "$d/aesmd/aesm.socket"
  result "$ov: the daemon's socket appears" $? "$("${PODMAN[@]}" logs "$dctr" 2>&1 | tail -5)"
  ip=$(pod_ip "$dpod")
  wait_for curl -fsS --max-time 3 "http://$ip:9464/readyz" -o /dev/null
  result "$ov: /readyz turns ready (backend warmed up)" $? \
    "$("${PODMAN[@]}" logs "$dctr" 2>&1 | tail -5)"

  # --backend hw, and Intel's libraries from the real paths (the daemon's
  # own memory map, not what it says about itself).
  grep -q -- '--backend=hw' "$d/$dpod.yaml"
  result "$ov: the DaemonSet runs --backend=hw" $?
  "${PODMAN[@]}" exec "$dctr" cat /proc/1/maps >"$d/maps.txt" 2>&1
  for lib in /usr/lib/x86_64-linux-gnu/libsgx_pce_logic.so.1 \
             /usr/lib/x86_64-linux-gnu/libsgx_qe3_logic.so; do
    grep -q " $lib\$" "$d/maps.txt"
    result "$ov: daemon mapped the stand-in $lib" $?
  done
  "${PODMAN[@]}" logs "$dctr" >"$d/daemon.log" 2>&1
  "${PODMAN[@]}" exec "$dctr" sgx-quote doctor --socket /var/run/aesmd/aesm.socket \
    >"$d/doctor.txt" 2>&1
  curl -fsS --max-time 5 "http://$ip:9464/metrics" >"$d/metrics.txt" 2>&1
  if [ "$have_qpl" -eq 1 ]; then
    qpl=${QPL_PATH[$ov]}
    grep -q " $qpl\$" "$d/maps.txt"
    result "$ov: the QE3 stand-in loaded the $prov provider $qpl" $?
    grep -qF "$qpl" "$d/daemon.log"
    result "$ov: the daemon's log names the provider ($qpl)" $? "$(grep -i qpl "$d/daemon.log" | tail -2)"
    grep -E "^OK +lib_qpl +${qpl##*/}.* in ${qpl%/*}\$" "$d/doctor.txt" | grep -q . &&
      grep -Eq '^OK +daemon_cert_type ' "$d/doctor.txt"
    result "$ov: sgx-quote doctor finds the provider in ${qpl%/*} and type-5 quotes" $? \
      "$(grep -E 'lib_qpl|cert_type' "$d/doctor.txt")"
    grep -E '^sgx_quote_helper_backend_info\{' "$d/metrics.txt" | grep -F "provider=\"$prov\"" |
      grep -F 'cert_type="5"' | grep -q ' 1$'
    result "$ov: metric backend_info{provider=\"$prov\",cert_type=\"5\"} 1" $? \
      "$(grep backend_info "$d/metrics.txt")"
  else
    # Not counted as passed: this tree has no QPL double yet.
    echo "SKIP $ov: provider checks (no QPL double in this tree; tests/hwdouble)"
  fi

  # The sample app: quote through the socket, verify.
  app=$PFX-$ov-app
  code=$(app_pod "$ov" "$app")
  "${PODMAN[@]}" logs "$app-${APP_CTR_NAME[$ov]}" >"$d/app.log" 2>&1
  ok=1
  [ "$code" = 0 ] && grep -q 'quote to /tmp/quote.bin (from the daemon)' "$d/app.log" &&
    grep -q '^VERIFIED: ' "$d/app.log" && ok=0
  "${PODMAN[@]}" logs "$dctr" >"$d/daemon.log" 2>&1
  python3 - "$d/daemon.log" <<'EOF' || ok=1
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
assert any(l.get("op") == "GetQuoteEx" and l.get("code") == 0 for l in lines)
EOF
  result "$ov: quote obtained through the hardware backend and verified" $ok \
    "exit $code; $(tail -5 "$d/app.log"; tail -3 "$d/daemon.log")"

  # ---- rolling update: old pod, new pod (a changed template), both up,
  # old stopped, while the app quotes in a loop ----
  step "$ov: rolling update with the sample app quoting in a loop"
  mkdir -p "$d/loop"; chmod 0777 "$d/loop"
  "${PODMAN[@]}" run -d --name "$PFX-$ov-loop" --user 65532 --read-only \
    --ulimit nproc=4096:4096 --ulimit nofile=1024:1024 \
    -v "$d/aesmd:/var/run/aesmd:ro" -v "$d/loop:/loop" --tmpfs /tmp \
    -e SGX_AESM_ADDR=1 "$APP_IMAGE" /bin/sh -c '
      ok=0; bad=0
      while [ ! -e /loop/stop ]; do
        if sgx-quote get --sim-enclave -o /tmp/q.bin >/tmp/out 2>&1; then ok=$((ok + 1))
        else bad=$((bad + 1)); cat /tmp/out; fi
        [ -e /loop/old-stopped ] && [ ! -e /loop/after ] && echo "$ok" > /loop/after
      done
      echo "quotes ok=$ok failed=$bad after-stop-start=$(cat /loop/after 2>/dev/null)"' \
    >/dev/null 2>&1
  sleep 5 # some quotes against the old pod alone
  old_ino=$(stat -c %i "$d/aesmd/aesm.socket")
  new=$PFX-$ov-new
  daemon_pod "$ov" "$new" --env "sgx-quote-helperd:SQH_E2E_TEMPLATE_REVISION=2"
  result "$ov: new pod (changed template) started next to the old one" $? \
    "$(tail -3 "$d/$new.play" 2>/dev/null)"
  wait_for socket_moved "$d/aesmd/aesm.socket" "$old_ino"
  result "$ov: the new pod took over the socket path" $?
  new_ip=$(pod_ip "$new")
  wait_for curl -fsS --max-time 3 "http://$new_ip:9464/readyz" -o /dev/null
  both=$("${PODMAN[@]}" ps --filter "name=^($dctr|$new-sgx-quote-helperd)\$" -q | wc -l)
  result "$ov: old and new pods both up, new one ready" "$([ "$both" = 2 ]; echo $?)" "$both running"
  sleep 3
  timeout 60 "${PODMAN[@]}" stop -t 40 "$dctr" >/dev/null 2>&1
  code=$("${PODMAN[@]}" inspect -f '{{.State.ExitCode}}' "$dctr" 2>&1)
  result "$ov: old pod stopped cleanly" "$([ "$code" = 0 ]; echo $?)" "exit $code"
  touch "$d/loop/old-stopped"; sleep 5; touch "$d/loop/stop"
  timeout 120 "${PODMAN[@]}" wait "$PFX-$ov-loop" >/dev/null 2>&1
  "${PODMAN[@]}" logs "$PFX-$ov-loop" >"$d/loop.log" 2>&1
  line=$(grep '^quotes ok=' "$d/loop.log")
  okq=$(sed -n 's/.*ok=\([0-9]*\).*/\1/p' <<<"$line")
  bad=$(sed -n 's/.*failed=\([0-9]*\).*/\1/p' <<<"$line")
  after=$(sed -n 's/.*after-stop-start=\([0-9]*\).*/\1/p' <<<"$line")
  [ -n "$okq" ] && [ "$bad" = 0 ] && [ -n "$after" ] && [ "$okq" -gt "$after" ]
  result "$ov: rolling update: zero failed quotes ($line)" $? "$(tail -5 "$d/loop.log")"
  "${PODMAN[@]}" stop -t 40 "$new-sgx-quote-helperd" >/dev/null 2>&1
  "${PODMAN[@]}" rm -f -t 5 "$PFX-$ov-loop" >/dev/null 2>&1
  # ---- a broken provider (the QPL answers 0xE019: PCCS unreachable) and a
  # missing one (its package purged from the image): the named error in the
  # log, /readyz and the app's status; the daemon keeps serving ----
  if [ "$have_qpl" -eq 1 ]; then
    noqpl=$HW_IMAGE:dev-$prov-noqpl
    mkdir -p "$d/noqpl-ctx"
    printf 'FROM %s\nUSER 0\nRUN dpkg --purge %s\nUSER 65532\n' "$HW_IMAGE:dev-$prov" \
      "${QPL_PKG[$ov]}" >"$d/noqpl-ctx/Containerfile"
    "${PODMAN[@]}" build --ulimit nproc=4096:4096 --ulimit nofile=1024:1024 -q -t "$noqpl" \
      "$d/noqpl-ctx" >"$d/noqpl-build.log" 2>&1
    result "$ov: image without the QPL stand-in (dpkg --purge ${QPL_PKG[$ov]})" $? \
      "$(tail -3 "$d/noqpl-build.log")"
    for fault in broken missing; do
      fpod=$PFX-$ov-$fault
      export AESMD=$d/aesmd-$fault
      mkdir -p "$AESMD"
      if [ "$fault" = broken ]; then
        daemon_pod "$ov" "$fpod" --env "sgx-quote-helperd:SGXQH_QPL_FAIL=0xE019"
        want_log=NETWORK_ERROR want_ready=NETWORK_ERROR
      else
        DAEMON_IMAGE=$noqpl daemon_pod "$ov" "$fpod"
        want_log="NO QUOTE PROVIDER" want_ready=PLATFORM_LIB_UNAVAILABLE
      fi
      result "$ov ($fault provider): kube play DaemonSet pod" $? "$(tail -3 "$d/$fpod.play")"
      wait_for test -S "$AESMD/aesm.socket"
      fip=$(pod_ip "$fpod")
      # Readiness reports the provider's trouble (not ready) once the
      # background warm-up has tried.
      wait_for sh -c "curl -s --max-time 3 http://$fip:9464/readyz | grep -q $want_ready"
      rc=$?
      body=$(curl -s --max-time 3 -w ' HTTP %{http_code}' "http://$fip:9464/readyz")
      [ $rc -eq 0 ] && [ "${body##* HTTP }" != 200 ]
      result "$ov ($fault provider): /readyz not ready, names $want_ready" $? "$body"
      code=$(app_pod "$ov" "$fpod-app")
      "${PODMAN[@]}" logs "$fpod-app-${APP_CTR_NAME[$ov]}" >"$d/$fault-app.log" 2>&1
      if [ "$fault" = broken ]; then
        # AESM 12 reaches the app as sgx_status_t 0x4007 (docs/errors.md).
        [ "$code" != 0 ] && grep -q 'SGX_ERROR_NETWORK_FAILURE (0x4007)' "$d/$fault-app.log"
        result "$ov ($fault provider): the app fails with SGX_ERROR_NETWORK_FAILURE" $? \
          "exit $code; $(tail -3 "$d/$fault-app.log")"
      else
        # Intel's QE3 logic still quotes without a QPL (AESM 41's row in
        # docs/errors.md): certification data type 3, the encrypted PPID,
        # 1456 bytes. The app's status shows it; it verifies here only
        # because the test hands the verifier the PCK certificate offline.
        grep -q 'wrote a 1456-byte quote to /tmp/quote.bin (from the daemon)' "$d/$fault-app.log" &&
          grep -q 'certification data type 3' "$d/$fault-app.log"
        result "$ov ($fault provider): the app's status shows a type-3 (encrypted PPID) quote" $? \
          "exit $code; $(tail -3 "$d/$fault-app.log")"
      fi
      "${PODMAN[@]}" logs "$fpod-sgx-quote-helperd" >"$d/$fault-daemon.log" 2>&1
      grep -q "$want_log" "$d/$fault-daemon.log"
      result "$ov ($fault provider): the daemon's log names $want_log" $? \
        "$(tail -3 "$d/$fault-daemon.log")"
      running=$("${PODMAN[@]}" inspect -f '{{.State.Running}}' "$fpod-sgx-quote-helperd" 2>&1)
      timeout 10 "${PODMAN[@]}" exec "$fpod-sgx-quote-helperd" sgx-quote ping --quiet \
        --socket /var/run/aesmd/aesm.socket >/dev/null 2>&1
      pong=$?
      [ "$running" = true ] && [ $pong -eq 0 ]
      result "$ov ($fault provider): the daemon keeps running and answering" $? \
        "running=$running ping=$pong"
      "${PODMAN[@]}" pod rm -f -t 5 "$fpod" "$fpod-app" >/dev/null 2>&1
      unset AESMD
    done
  fi
done

# ---- the tdx overlay (issue 13): the intel image's stand-in
# libsgx-tdx-logic1 behind the QGS socket, a TD-side client in front ----
if want tdx; then
  d=$work/tdx-hw dpod=$TDX_HW_POD
  dctr=$dpod-sgx-quote-helperd
  step "tdx overlay: DaemonSet as a pod ($HW_IMAGE:dev-intel), a TD-side client on its QGS socket"
  # The stand-in TD-QE (tests/hwdouble/tdx_double.c) is the simulated
  # platform of this state directory, instance "hwdouble": the TD side makes
  # its TDREPORT with the same seed (the simulated TDX module), and verifies
  # against that platform's TDX collateral (on TDX hosts: your PCCS).
  mkdir -p "$d/aesmd" "$d/tdx-qgs" "$d/hwstate" "$d/qcnl" "$d/client"
  head -c 32 /dev/urandom >"$d/hwstate/seed"
  cp "$d/hwstate/seed" "$d/client/seed"
  chmod 0600 "$d/hwstate/seed" "$d/client/seed"; chmod 0700 "$d/hwstate" "$d/client"
  "$SQ" collateral export --tdx --seed-file "$d/hwstate/seed" --instance hwdouble \
    --out "$d/collateral" >"$d/collateral.log" 2>&1
  result "tdx: stand-in platform's TDX collateral exported" $? "$(tail -3 "$d/collateral.log")"
  chmod -R a+rX "$d/collateral"
  chown -R 65532:65532 "$d/hwstate" "$d/client"
  # Not $work/tdx (the tdx-simulation overlay's directory).
  OVDIR=$d AESMD=$d/aesmd daemon_pod tdx "$dpod" --host-path "/var/run/tdx-qgs=$d/tdx-qgs"
  result "tdx: kube play DaemonSet pod" $? "$(tail -3 "$d/$dpod.adapt" "$d/$dpod.play" 2>/dev/null)"
  wait_for test -S "$d/tdx-qgs/qgs.socket"
  result "tdx: the QGS socket appears on the host path" $? \
    "$("${PODMAN[@]}" logs "$dctr" 2>&1 | tail -5)"
  [ "$(stat -c %u "$d/tdx-qgs" 2>/dev/null)" = 65532 ]
  result "tdx: init container handed /var/run/tdx-qgs to uid 65532" $?
  grep -q -- '--backend=hw' "$d/$dpod.yaml"
  result "tdx: the DaemonSet runs --backend=hw" $?
  "${PODMAN[@]}" exec "$dctr" cat /proc/1/maps >"$d/maps.txt" 2>&1
  grep -q ' /usr/lib/x86_64-linux-gnu/libsgx_tdx_logic.so.1$' "$d/maps.txt"
  result "tdx: daemon mapped the stand-in /usr/lib/x86_64-linux-gnu/libsgx_tdx_logic.so.1" $?
  # shellcheck disable=SC2016 # dpkg-query's format, not the shell's
  "${PODMAN[@]}" exec "$dctr" dpkg-query -W -f '${Package}\n' libsgx-tdx-logic1 libsgx-ae-tdqe \
    >"$d/dpkg.txt" 2>&1
  [ "$(sort "$d/dpkg.txt" | tr '\n' ' ')" = "libsgx-ae-tdqe libsgx-tdx-logic1 " ]
  result "tdx: the image carries libsgx-tdx-logic1 and libsgx-ae-tdqe" $? "$(cat "$d/dpkg.txt")"

  timeout 120 "${PODMAN[@]}" run --name "$TDX_HW_CLIENT" --user 65532:65532 --read-only \
    --tmpfs /tmp --network none \
    -v "$d/tdx-qgs:/var/run/tdx-qgs" -v "$d/client:/run/td-client" \
    -v "$d/collateral:/collateral:ro" \
    --entrypoint /bin/sh "$HW_IMAGE:dev-intel" -ec '
      sgx-quote tdx report --seed-file /run/td-client/seed --instance hwdouble \
        --state-dir /tmp/state --report-data 68772d746478 -o /tmp/td.report
      sgx-quote get --tdx --qgs-socket /var/run/tdx-qgs/qgs.socket --report /tmp/td.report \
        -o /tmp/td.quote
      echo "== verify framed"
      sgx-quote verify /tmp/td.quote --collateral-dir /collateral --root /collateral/root.pem
      sgx-quote get --tdx --raw --qgs-socket /var/run/tdx-qgs/qgs.socket \
        --report /tmp/td.report -o /tmp/td-raw.quote
      echo "== verify raw"
      sgx-quote verify /tmp/td-raw.quote --collateral-dir /collateral --root /collateral/root.pem
      sgx-quote inspect /tmp/td.quote' >"$d/client.log" 2>&1
  code=$?
  result "tdx: TD-side client exited 0" "$code" "exit $code; $(tail -5 "$d/client.log")"
  grep -q 'wrote a [0-9]*-byte TDX quote to /tmp/td.quote' "$d/client.log"
  result "tdx: TD-side client got a quote over the QGS socket (qgs_msg framing)" $?
  grep -q 'wrote a [0-9]*-byte TDX quote to /tmp/td-raw.quote' "$d/client.log"
  result "tdx: TD-side client got a quote over the QGS socket (raw TDREPORT)" $?
  [ "$(sed -n '/^== verify framed/,/^== verify raw/p' "$d/client.log" | grep -c '^VERIFIED: UpToDate')" = 1 ]
  result "tdx: framed quote from the hardware backend verified (UpToDate)" $?
  [ "$(sed -n '/^== verify raw/,$p' "$d/client.log" | grep -c '^VERIFIED: UpToDate')" = 1 ]
  result "tdx: raw quote from the hardware backend verified (UpToDate)" $?
  grep -qi '68772d746478' "$d/client.log"
  result "tdx: the quote carries the TD's report data" $? "$(tail -20 "$d/client.log")"
  "${PODMAN[@]}" logs "$dctr" >"$d/daemon.log" 2>&1
  python3 - "$d/daemon.log" <<'EOF'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
ops = {l.get("op") for l in lines
       if l.get("protocol") == "qgs" and l.get("result") == "ok"}
assert {"GetQuote", "RawGetQuote"} <= ops, ops
EOF
  result "tdx: daemon logged GetQuote and RawGetQuote as JSON" $? "$(tail -3 "$d/daemon.log")"
  stop_daemon "$dctr" "$d/tdx-qgs/qgs.socket" "tdx: " "its QGS socket"
  "${PODMAN[@]}" rm --ignore -f "$TDX_HW_CLIENT" >/dev/null 2>&1
fi
