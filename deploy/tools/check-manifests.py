#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Check every manifest under deploy/ without a cluster.

1. yamllint (deploy/.yamllint.yaml) over deploy/.
2. Render base, every overlay (aks, intel-device-plugin, simulation,
   tdx-simulation, tdx) and simulation + components/pod-attribution with
   kustomize_lite; where kubectl exists, the same with `kubectl
   kustomize`, and the two renderings must be identical.
3. Schema: every rendered object and example is validated against the
   Kubernetes OpenAPI schemas bundled in the npm package kubernetes-models
   (deploy/tools/validate-schemas.js), which is what `kubectl apply
   --validate` would check types against; plus our own structural check
   that rejects unknown fields (typos) in the structures we use and broken
   references (volume mounts, probe ports, selectors, priority class).
4. Policy: what issues 5, 10 and 13 require of the DaemonSet in each overlay
   and of the sample Jobs (examples/*.yaml, examples/sample-app/*.yaml).

Exit 0 when everything passes; prints "manifests: N passed, N failed".
Usage: check-manifests.py [--no-schema] [--self-test]
  --self-test  feed known-bad variants of the manifests to every check and
               require each to be caught (the checker's own test)
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
DEPLOY = os.path.dirname(HERE)
K8S = os.path.join(DEPLOY, "kubernetes")
sys.path.insert(0, HERE)
import kustomize_lite  # noqa: E402

results = []


def check(name, ok, detail=""):
    results.append((name, bool(ok), detail))
    print(f"{'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail and not ok else ''}")
    return ok


# ---- structural schema: known fields of the structures we use ----------

OBJECT_META = {"name", "namespace", "labels", "annotations", "generateName"}
POD_SPEC = {"containers", "initContainers", "volumes", "restartPolicy", "serviceAccountName",
            "automountServiceAccountToken", "enableServiceLinks", "priorityClassName",
            "terminationGracePeriodSeconds", "affinity", "tolerations", "securityContext",
            "nodeSelector", "hostPID", "hostNetwork", "hostIPC", "dnsPolicy",
            "shareProcessNamespace", "runtimeClassName", "topologySpreadConstraints"}
CONTAINER = {"name", "image", "imagePullPolicy", "command", "args", "env", "envFrom", "ports",
             "resources", "volumeMounts", "livenessProbe", "readinessProbe", "startupProbe",
             "securityContext", "workingDir", "lifecycle", "terminationMessagePolicy"}
CTR_SECCTX = {"runAsUser", "runAsGroup", "runAsNonRoot", "privileged", "allowPrivilegeEscalation",
              "readOnlyRootFilesystem", "capabilities", "seccompProfile", "seLinuxOptions",
              "procMount"}
POD_SECCTX = {"runAsUser", "runAsGroup", "runAsNonRoot", "supplementalGroups", "fsGroup",
              "seccompProfile", "seLinuxOptions", "sysctls", "fsGroupChangePolicy"}
PROBE = {"exec", "httpGet", "tcpSocket", "grpc", "initialDelaySeconds", "periodSeconds",
         "timeoutSeconds", "failureThreshold", "successThreshold", "terminationGracePeriodSeconds"}
VOLUME_SOURCES = {"hostPath", "emptyDir", "secret", "configMap", "projected",
                  "persistentVolumeClaim", "csi", "downwardAPI"}
HOSTPATH_TYPES = {"", "DirectoryOrCreate", "Directory", "FileOrCreate", "File", "Socket",
                  "CharDevice", "BlockDevice"}
QUANTITY = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+|[KMGTPE]i|[mkMGTPE])?$")
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
PORT_NAME = re.compile(r"^(?=.*[a-z])[a-z0-9]([-a-z0-9]{0,13}[a-z0-9])?$")
CAPABILITY = re.compile(r"^[A-Z_]+$")


def unknown(where, obj, allowed, errors):
    if not isinstance(obj, dict):
        errors.append(f"{where}: expected a mapping")
        return
    for k in obj:
        if k not in allowed:
            errors.append(f"{where}: unknown field {k!r}")


def check_probe(where, probe, port_names, errors):
    unknown(where, probe, PROBE, errors)
    handlers = [h for h in ("exec", "httpGet", "tcpSocket", "grpc") if h in probe]
    if len(handlers) != 1:
        errors.append(f"{where}: exactly one handler needed, got {handlers}")
    if "exec" in probe:
        cmd = probe["exec"].get("command")
        if not (isinstance(cmd, list) and cmd and all(isinstance(x, str) for x in cmd)):
            errors.append(f"{where}: exec.command must be a non-empty list of strings")
    if "httpGet" in probe:
        port = probe["httpGet"].get("port")
        if isinstance(port, str) and port not in port_names:
            errors.append(f"{where}: httpGet port {port!r} is not a declared container port")
        if not str(probe["httpGet"].get("path", "/")).startswith("/"):
            errors.append(f"{where}: httpGet path must start with /")


def check_container(where, c, volumes, errors):
    unknown(where, c, CONTAINER, errors)
    if not DNS_LABEL.match(str(c.get("name", ""))):
        errors.append(f"{where}: bad container name {c.get('name')!r}")
    if not isinstance(c.get("image"), str) or not c["image"]:
        errors.append(f"{where}: image missing")
    for key in ("command", "args"):
        if key in c and not (isinstance(c[key], list) and all(isinstance(x, str) for x in c[key])):
            errors.append(f"{where}: {key} must be a list of strings")
    for e in c.get("env", []):
        if not ENV_NAME.match(str(e.get("name", ""))):
            errors.append(f"{where}: bad env name {e.get('name')!r}")
        if "value" in e and not isinstance(e["value"], str):
            errors.append(f"{where}: env {e.get('name')}: value must be a string "
                          f"(quote it), got {type(e['value']).__name__}")
        if ("value" in e) == ("valueFrom" in e):
            errors.append(f"{where}: env {e.get('name')}: exactly one of value/valueFrom")
    port_names = set()
    for p in c.get("ports", []):
        if not isinstance(p.get("containerPort"), int) or not 0 < p["containerPort"] < 65536:
            errors.append(f"{where}: containerPort must be an integer 1..65535")
        if "name" in p:
            if not PORT_NAME.match(p["name"]):
                errors.append(f"{where}: port name {p['name']!r} is not an IANA service name")
            port_names.add(p["name"])
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        if probe in c:
            check_probe(f"{where}.{probe}", c[probe], port_names, errors)
    res = c.get("resources", {})
    unknown(f"{where}.resources", res, {"requests", "limits"}, errors)
    for section in ("requests", "limits"):
        for name, q in (res.get(section) or {}).items():
            if not QUANTITY.match(str(q)):
                errors.append(f"{where}: {section}.{name}: bad quantity {q!r}")
    # Extended resources (device plugins) cannot be overcommitted: requests,
    # if given, must equal limits.
    for name, q in (res.get("requests") or {}).items():
        if "/" in name and not name.startswith("kubernetes.io/"):
            if str(res.get("limits", {}).get(name)) != str(q):
                errors.append(f"{where}: extended resource {name}: requests must equal limits")
    sc = c.get("securityContext", {})
    unknown(f"{where}.securityContext", sc, CTR_SECCTX, errors)
    caps = sc.get("capabilities", {})
    unknown(f"{where}.securityContext.capabilities", caps, {"add", "drop"}, errors)
    for cap in caps.get("add", []) + caps.get("drop", []):
        if not CAPABILITY.match(cap) or cap.startswith("CAP_"):
            errors.append(f"{where}: capability {cap!r}: write e.g. CHOWN, not CAP_CHOWN")
    for m in c.get("volumeMounts", []):
        unknown(f"{where}.volumeMounts", m, {"name", "mountPath", "readOnly", "subPath",
                                             "mountPropagation"}, errors)
        if m.get("name") not in volumes:
            errors.append(f"{where}: volumeMount {m.get('name')!r} has no volume")
        if not str(m.get("mountPath", "")).startswith("/"):
            errors.append(f"{where}: mountPath must be absolute")


def check_pod_spec(where, spec, errors):
    unknown(where, spec, POD_SPEC, errors)
    volumes = {}
    for v in spec.get("volumes", []):
        srcs = [k for k in v if k != "name"]
        if len(srcs) != 1 or srcs[0] not in VOLUME_SOURCES:
            errors.append(f"{where}: volume {v.get('name')!r}: exactly one known source, got {srcs}")
        if "hostPath" in v and v["hostPath"].get("type", "") not in HOSTPATH_TYPES:
            errors.append(f"{where}: volume {v['name']}: bad hostPath type")
        if "secret" in v:
            mode = v["secret"].get("defaultMode")
            if mode is not None and not (isinstance(mode, int) and 0 <= mode <= 0o777):
                errors.append(f"{where}: volume {v['name']}: defaultMode must be 0..0777")
        if v.get("name") in volumes:
            errors.append(f"{where}: duplicate volume {v.get('name')!r}")
        volumes[v.get("name")] = v
    names = set()
    for kind in ("initContainers", "containers"):
        for i, c in enumerate(spec.get(kind, [])):
            check_container(f"{where}.{kind}[{i}]", c, volumes, errors)
            if c.get("name") in names:
                errors.append(f"{where}: duplicate container name {c.get('name')!r}")
            names.add(c.get("name"))
    if not spec.get("containers"):
        errors.append(f"{where}: no containers")
    unknown(f"{where}.securityContext", spec.get("securityContext", {}), POD_SECCTX, errors)
    for t in spec.get("tolerations", []):
        unknown(f"{where}.tolerations", t, {"key", "operator", "value", "effect",
                                            "tolerationSeconds"}, errors)
        if t.get("operator", "Equal") not in ("Exists", "Equal"):
            errors.append(f"{where}: toleration operator {t.get('operator')!r}")
    return volumes


def check_object(obj, all_objs):
    errors = []
    where = f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"
    meta = obj.get("metadata", {})
    unknown(f"{where}.metadata", meta, OBJECT_META, errors)
    if not DNS_SUBDOMAIN.match(str(meta.get("name", ""))):
        errors.append(f"{where}: bad metadata.name")
    for k, v in (meta.get("labels") or {}).items():
        if not isinstance(v, str) or len(v) > 63:
            errors.append(f"{where}: label {k}: value must be a string of at most 63 chars")
    for k, v in (meta.get("annotations") or {}).items():
        if not isinstance(v, str):
            errors.append(f"{where}: annotation {k}: value must be a string (quote it)")
    spec = kustomize_lite.pod_spec(obj)
    if spec is not None:
        check_pod_spec(f"{where}.spec", spec, errors)
        tmpl_meta = obj.get("spec", {}).get("template", {}).get("metadata", {})
        for k, v in (tmpl_meta.get("annotations") or {}).items():
            if not isinstance(v, str):
                errors.append(f"{where}: template annotation {k}: value must be a string")
        sel = obj.get("spec", {}).get("selector", {}).get("matchLabels")
        if obj["kind"] in ("DaemonSet", "Deployment", "StatefulSet"):
            labels = tmpl_meta.get("labels") or {}
            if not sel or any(labels.get(k) != v for k, v in sel.items()):
                errors.append(f"{where}: selector.matchLabels must match the template labels")
        pc = spec.get("priorityClassName")
        if pc and not pc.startswith("system-") and not any(
                o.get("kind") == "PriorityClass" and o["metadata"]["name"] == pc
                for o in all_objs):
            errors.append(f"{where}: priorityClassName {pc!r} is not defined alongside")
    return errors


# ---- policy: issue 5's requirements ------------------------------------

def find(objs, kind):
    hits = [o for o in objs if o.get("kind") == kind]
    return hits[0] if len(hits) == 1 else None


def env_of(c):
    return {e["name"]: e.get("value") for e in c.get("env", [])}


QGS_DIR = "/var/run/tdx-qgs"


def qgs_policy(spec, main):
    """The TDX overlays (issue 13): the QGS socket in its hostPath, owned by
    the daemon's user through an init container."""
    errors = []
    if f"--qgs-socket={QGS_DIR}/qgs.socket" not in main.get("args", []):
        errors.append(f"tdx: --qgs-socket={QGS_DIR}/qgs.socket expected")
    vols = [v for v in spec.get("volumes", []) if v.get("hostPath", {}).get("path") == QGS_DIR]
    if len(vols) != 1 or vols[0]["hostPath"].get("type") != "DirectoryOrCreate":
        errors.append(f"tdx: hostPath {QGS_DIR} (DirectoryOrCreate) missing")
        return errors
    name = vols[0]["name"]

    def mounts(c):
        return any(m["name"] == name and m["mountPath"] == QGS_DIR
                   for m in c.get("volumeMounts", []))
    if not mounts(main):
        errors.append(f"tdx: the daemon container must mount {QGS_DIR}")
    if not any(mounts(c) and "CHOWN" in c.get("securityContext", {}).get("capabilities", {})
               .get("add", []) and any("chown 65532" in a for a in c.get("args", []))
               for c in spec.get("initContainers", [])):
        errors.append(f"tdx: an init container must hand {QGS_DIR} to uid 65532")
    return errors


def daemonset_policy(objs, mode):
    """mode: base (what the overlays share), aks, intel, sim; "+tdx" adds the
    QGS socket's checks (intel+tdx, sim+tdx)."""
    mode, _, extra = mode.partition("+")
    errors = []
    ds = find(objs, "DaemonSet")
    if ds is None:
        return ["exactly one DaemonSet expected"]
    spec = ds["spec"]["template"]["spec"]
    ru = ds["spec"].get("updateStrategy", {})
    if ru.get("type") != "RollingUpdate" or ru.get("rollingUpdate") != {"maxSurge": 1,
                                                                          "maxUnavailable": 0}:
        errors.append("updateStrategy must be RollingUpdate maxSurge 1 maxUnavailable 0")
    if not ds["spec"].get("minReadySeconds"):
        errors.append("minReadySeconds missing (the old pod must outlive the new one's start)")
    grace = spec.get("terminationGracePeriodSeconds", 30)
    if grace < 35:
        errors.append("terminationGracePeriodSeconds must cover the 30 s drain")
    if spec.get("securityContext", {}).get("seccompProfile", {}).get("type") != "RuntimeDefault":
        errors.append("pod seccompProfile must be RuntimeDefault")
    if not spec.get("priorityClassName"):
        errors.append("priorityClassName missing")
    if not spec.get("tolerations"):
        errors.append("tolerations for SGX node taints missing")
    if spec.get("hostNetwork") or spec.get("hostIPC"):
        errors.append("hostNetwork/hostIPC must not be used")
    vols = {v["name"]: v for v in spec.get("volumes", [])}
    hp = [v for v in vols.values() if v.get("hostPath", {}).get("path") == "/var/run/aesmd"]
    if len(hp) != 1 or hp[0]["hostPath"].get("type") != "DirectoryOrCreate":
        errors.append("hostPath /var/run/aesmd (DirectoryOrCreate) missing")
    for c in spec.get("initContainers", []) + spec["containers"]:
        sc = c.get("securityContext", {})
        n = c["name"]
        if sc.get("privileged", False):
            errors.append(f"{n}: privileged")
        if sc.get("allowPrivilegeEscalation", True):
            errors.append(f"{n}: allowPrivilegeEscalation must be false")
        if sc.get("readOnlyRootFilesystem") is not True:
            errors.append(f"{n}: readOnlyRootFilesystem must be true")
        if sc.get("capabilities", {}).get("drop") != ["ALL"]:
            errors.append(f"{n}: capabilities must drop ALL")
        if set(sc.get("capabilities", {}).get("add", [])) - {"CHOWN"}:
            errors.append(f"{n}: only CHOWN may be added (socket directory ownership)")
        if not c.get("resources", {}).get("requests") or not c.get("resources", {}).get("limits"):
            errors.append(f"{n}: requests and limits required")
    main = spec["containers"][0]
    if main.get("securityContext", {}).get("runAsNonRoot") is not True:
        errors.append("daemon container must set runAsNonRoot")
    for probe in ("livenessProbe", "readinessProbe"):
        if probe not in main:
            errors.append(f"daemon container: {probe} missing")
    # The HTTP port listens on the pod network: any pod can tie it up, so a
    # liveness check there would let it get the daemon restarted.
    live_cmd = main.get("livenessProbe", {}).get("exec", {}).get("command", [])
    if live_cmd[:2] != ["sgx-quote", "ping"]:
        errors.append("daemon container: livenessProbe must exec `sgx-quote ping` (not HTTP)")
    args = main.get("args", [])
    env = env_of(main)
    res = main.get("resources", {})
    limits, requests = res.get("limits", {}), res.get("requests", {})
    sgx = {k for k in list(limits) + list(requests) if k.startswith("sgx.intel.com/")}
    azure = {k for k in list(limits) + list(requests) if k.startswith("kubernetes.azure.com/")}
    mounts = {m["mountPath"]: m["name"] for m in main.get("volumeMounts", [])}
    # QCNL's disk cache: XDG_CACHE_HOME on a writable volume (issue 10 item 6).
    cache = env.get("XDG_CACHE_HOME")
    if not cache or "emptyDir" not in vols.get(mounts.get(cache), {}):
        errors.append("XDG_CACHE_HOME must name a mounted emptyDir (QCNL disk cache)")
    if mode != "sim" and "--backend=hw" not in args:
        errors.append("hardware: --backend=hw expected")
    if mode in ("aks", "intel") and "affinity" not in spec:
        errors.append(f"{mode}: node affinity for SGX nodes missing")
    if mode == "base" and (sgx or azure or "affinity" in spec):
        errors.append("base: node selection and SGX resources belong in the overlays")
    if mode == "aks":
        name = "kubernetes.azure.com/sgx_epc_mem_in_MiB"
        if name not in limits or name not in requests:
            errors.append(f"aks: {name} request missing")
        if sgx:
            errors.append(f"aks: the add-on's plugin takes {name}, not {sorted(sgx)}")
        if env.get("AZDCAP_CACHE") != cache:
            errors.append("aks: AZDCAP_CACHE must be the cache volume")
    if mode == "intel":
        want = {"sgx.intel.com/epc", "sgx.intel.com/enclave", "sgx.intel.com/provision"}
        if not want <= set(limits) or not want <= set(requests):
            errors.append(f"intel: needs {sorted(want)}, has {sorted(sgx)}")
        if "sgx.intel.com/qe" in sgx:
            errors.append("intel: sgx.intel.com/qe is one per node: a surge rollout cannot start")
        ann = ds["spec"]["template"].get("metadata", {}).get("annotations", {})
        if ann.get("sgx.intel.com/quote-provider") != main["name"]:
            errors.append("intel: annotation sgx.intel.com/quote-provider must name the "
                          "daemon container")
        conf = env.get("QCNL_CONF_PATH", "")
        if "configMap" not in vols.get(mounts.get(os.path.dirname(conf)), {}):
            errors.append("intel: QCNL_CONF_PATH must point into the QCNL ConfigMap volume")
        cm = [o for o in objs if o.get("kind") == "ConfigMap"]
        data = cm[0].get("data", {}) if len(cm) == 1 else {}
        try:
            qcnl = json.loads(data.get(os.path.basename(conf), ""))
            if not {"pccs_url", "use_secure_cert"} <= set(qcnl):
                errors.append("intel: QCNL config needs pccs_url and use_secure_cert")
            elif "//localhost" in qcnl["pccs_url"] or "//127." in qcnl["pccs_url"]:
                errors.append("intel: pccs_url must not be localhost inside a pod")
        except ValueError:
            errors.append("intel: the QCNL ConfigMap must hold valid JSON")
    if mode == "sim":
        if sgx or azure:
            errors.append("simulation: no SGX device resources expected")
        if "--backend=sim" not in args or not any(a.startswith("--seed-file=") for a in args):
            errors.append("simulation: --backend=sim and --seed-file expected")
        secrets = [v for v in vols.values() if "secret" in v]
        if len(secrets) != 1 or secrets[0]["secret"].get("defaultMode") != 0o400:
            errors.append("simulation: the seed Secret (defaultMode 0400) expected")
    if extra == "tdx":
        errors += qgs_policy(spec, main)
    if not any(o.get("kind") == "PriorityClass" for o in objs):
        errors.append("PriorityClass missing")
    return errors


def no_redirect_policy():
    """No manifest may send AKS users to another quote helper (issue 10)."""
    bad = re.compile(r"add-on'?s quote helper instead|use the (confcom|add-on) .*instead",
                     re.IGNORECASE)
    hits = []
    for root, _dirs, files in os.walk(K8S):
        for f in files:
            path = os.path.join(root, f)
            with open(path, encoding="utf-8") as fh:
                if bad.search(fh.read()):
                    hits.append(os.path.relpath(path, DEPLOY))
    return hits


def job_policy(job):
    errors = []
    spec = job["spec"]["template"]["spec"]
    app = spec["containers"][0]
    env = {e["name"]: e for e in app.get("env", [])}
    if env.get("SGX_AESM_ADDR", {}).get("value") != "1":
        errors.append('SGX_AESM_ADDR must be the string "1"')
    mounts = {m["mountPath"]: m for m in app.get("volumeMounts", [])}
    vols = {v["name"]: v for v in spec.get("volumes", [])}
    m = mounts.get("/var/run/aesmd")
    if m is None or vols.get(m["name"], {}).get("hostPath", {}).get("path") != "/var/run/aesmd":
        errors.append("the hostPath /var/run/aesmd mount is missing")
    script = " ".join(app.get("command", []) + app.get("args", []))
    if "sgx-quote get" not in script or "sgx-quote verify" not in script:
        errors.append("the app must run sgx-quote get, then sgx-quote verify")
    elif script.index("sgx-quote get") > script.index("sgx-quote verify"):
        errors.append("sgx-quote get must come before sgx-quote verify")
    return errors


# ---- self-test: each check must catch what it is for ---------------------

def self_test():
    """Known-bad variants of the real manifests; every one must be caught."""
    import copy
    job0 = find(kustomize_lite.load_yaml_docs(os.path.join(K8S, "examples", "sample-job.yaml")),
                "Job")
    base0 = kustomize_lite.render(os.path.join(K8S, "overlays", "intel-device-plugin"))

    def job_variant(mutate):
        j = copy.deepcopy(job0)
        mutate(j, j["spec"]["template"]["spec"], j["spec"]["template"]["spec"]["containers"][0])
        return j

    def ds_variant(mutate):
        objs = copy.deepcopy(base0)
        ds = find(objs, "DaemonSet")
        mutate(ds, ds["spec"]["template"]["spec"], ds["spec"]["template"]["spec"]["containers"][0])
        return objs

    def set_env(_j, _s, c):
        c["env"][0]["value"] = 1  # the AKS documentation's bug

    bad_env = job_variant(set_env)
    check("self-test: structure rejects an unquoted env value", check_object(bad_env, [bad_env]))
    check("self-test: policy rejects an unquoted env value", job_policy(bad_env))
    ok, out = schema_validate([bad_env])
    check("self-test: schema rejects an unquoted env value", not ok and "must be string" in out,
          out)
    cases = [
        ("unknown container field", lambda j, s, c: c.update(imagePullPolicyy="Always")),
        ("mount without a volume", lambda j, s, c: c["volumeMounts"].append(
            {"name": "nope", "mountPath": "/x"})),
        ("CAP_ prefixed capability", lambda j, s, c: c["securityContext"]["capabilities"].update(
            drop=["CAP_ALL"])),
        ("bad quantity", lambda j, s, c: c["resources"]["limits"].update(memory="64 MB")),
        ("unknown pod field", lambda j, s, c: s.update(hostPid=True)),
    ]
    for name, mutate in cases:
        j = job_variant(mutate)
        check(f"self-test: structure rejects {name}", check_object(j, [j]))
    j = job_variant(lambda j, s, c: s.update(volumes=[v for v in s["volumes"]
                                                      if "hostPath" not in v]))
    check("self-test: policy rejects a Job without the hostPath mount", job_policy(j))

    ds_cases = [
        ("privileged", lambda d, s, c: c["securityContext"].update(privileged=True)),
        ("maxUnavailable 1", lambda d, s, c: d["spec"]["updateStrategy"]["rollingUpdate"].update(
            maxUnavailable=1)),
        ("writable root", lambda d, s, c: c["securityContext"].update(
            readOnlyRootFilesystem=False)),
        ("no seccomp", lambda d, s, c: s["securityContext"].pop("seccompProfile")),
        ("extra capability", lambda d, s, c: c["securityContext"]["capabilities"].update(
            add=["SYS_ADMIN"])),
        ("no provision resource", lambda d, s, c: [c["resources"][k].pop("sgx.intel.com/provision")
                                                   for k in ("requests", "limits")]),
        ("no readiness probe", lambda d, s, c: c.pop("readinessProbe")),
        ("no QCNL cache volume", lambda d, s, c: c.update(env=[
            e for e in c["env"] if e["name"] != "XDG_CACHE_HOME"])),
        ("the single-instance qe resource", lambda d, s, c: [
            c["resources"][k].update({"sgx.intel.com/qe": "1"}) for k in ("requests", "limits")]),
        ("an annotation naming aesmd", lambda d, s, c: d["spec"]["template"]["metadata"][
            "annotations"].update({"sgx.intel.com/quote-provider": "aesmd"})),
        ("no minReadySeconds", lambda d, s, c: d["spec"].pop("minReadySeconds")),
        ("an HTTP liveness probe", lambda d, s, c: c.update(livenessProbe={
            "httpGet": {"path": "/healthz", "port": "http-metrics"}})),
    ]
    for name, mutate in ds_cases:
        check(f"self-test: policy rejects {name}", daemonset_policy(ds_variant(mutate), "intel"))
    check("self-test: tdx policy rejects an overlay without the QGS socket",
          daemonset_policy(base0, "intel+tdx"))
    tdx0 = kustomize_lite.render(os.path.join(K8S, "overlays", "tdx"))
    check("self-test: tdx policy accepts overlays/tdx", not daemonset_policy(tdx0, "intel+tdx"),
          "; ".join(daemonset_policy(tdx0, "intel+tdx")))

    def tdx_variant(mutate):
        objs = copy.deepcopy(tdx0)
        ds = find(objs, "DaemonSet")
        mutate(ds["spec"]["template"]["spec"], ds["spec"]["template"]["spec"]["containers"][0])
        return objs
    tdx_cases = [
        ("no --qgs-socket", lambda s, c: c.update(args=[
            a for a in c["args"] if not a.startswith("--qgs-socket")])),
        ("the socket directory as a Directory hostPath", lambda s, c: [
            v["hostPath"].update(type="Directory") for v in s["volumes"]
            if v.get("hostPath", {}).get("path") == QGS_DIR]),
        ("the daemon not mounting it", lambda s, c: c.update(volumeMounts=[
            m for m in c["volumeMounts"] if m["mountPath"] != QGS_DIR])),
        ("no init container chowning it", lambda s, c: s.update(initContainers=[
            i for i in s["initContainers"] if i["name"] != "prepare-tdx-qgs"])),
    ]
    for name, mutate in tdx_cases:
        check(f"self-test: tdx policy rejects {name}",
              daemonset_policy(tdx_variant(mutate), "intel+tdx"))
    objs = ds_variant(lambda d, s, c: c["resources"]["requests"].update(
        {"sgx.intel.com/enclave": "2"}))
    check("self-test: structure rejects extended requests != limits",
          check_object(find(objs, "DaemonSet"), objs))
    objs = ds_variant(lambda d, s, c: c["readinessProbe"]["httpGet"].update(port="metrics"))
    check("self-test: structure rejects a probe on an undeclared port",
          check_object(find(objs, "DaemonSet"), objs))
    objs = ds_variant(lambda d, s, c: s.update(priorityClassName="missing"))
    check("self-test: structure rejects an undefined priority class",
          check_object(find(objs, "DaemonSet"), objs))
    # kustomize_lite refuses what it does not implement or cannot apply.
    doc = {"a": {"b": [1]}}
    for ops in ([{"op": "remove", "path": "/a/c"}], [{"op": "move", "from": "/a", "path": "/b"}],
                [{"op": "replace", "path": "/a/b/3", "value": 1}], {"a": 1}):
        try:
            kustomize_lite.apply_json6902(copy.deepcopy(doc), ops, "self-test")
            check(f"self-test: kustomize_lite rejects {ops!r}", False)
        except kustomize_lite.RenderError:
            check(f"self-test: kustomize_lite rejects {ops!r}", True)
    d = copy.deepcopy(doc)
    kustomize_lite.apply_json6902(d, [{"op": "add", "path": "/a/b/-", "value": 2},
                                      {"op": "add", "path": "/a/x~1y", "value": 3},
                                      {"op": "replace", "path": "/a/b/0", "value": 0}], "self-test")
    check("self-test: kustomize_lite add/replace/escape", d == {"a": {"b": [0, 2], "x/y": 3}},
          repr(d))
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "kustomization.yaml"), "w", encoding="utf-8") as f:
            f.write("resources: []\ncommonLabels: {a: b}\n")
        try:
            kustomize_lite.render(tmp)
            check("self-test: kustomize_lite rejects unsupported fields", False)
        except kustomize_lite.RenderError:
            check("self-test: kustomize_lite rejects unsupported fields", True)


# ---- driver ------------------------------------------------------------

def canon(objs):
    return sorted((json.dumps(o, sort_keys=True) for o in objs))


def renderings(tmp):
    """name -> directory; one extra composes the optional component."""
    combo = os.path.join(tmp, "sim-with-attribution")
    os.makedirs(combo)
    rel = os.path.relpath(K8S, combo)
    with open(os.path.join(combo, "kustomization.yaml"), "w", encoding="utf-8") as f:
        yaml.safe_dump({"apiVersion": "kustomize.config.k8s.io/v1beta1",
                        "kind": "Kustomization",
                        "resources": [f"{rel}/overlays/simulation"],
                        "components": [f"{rel}/components/pod-attribution"]}, f)
    return {"base": os.path.join(K8S, "base"),
            "overlays/aks": os.path.join(K8S, "overlays", "aks"),
            "overlays/intel-device-plugin": os.path.join(K8S, "overlays", "intel-device-plugin"),
            "overlays/simulation": os.path.join(K8S, "overlays", "simulation"),
            "overlays/tdx-simulation": os.path.join(K8S, "overlays", "tdx-simulation"),
            "overlays/tdx": os.path.join(K8S, "overlays", "tdx"),
            "simulation+pod-attribution": combo}


def schema_validate(objs):
    node = shutil.which("node")
    script = os.path.join(HERE, "validate-schemas.js")
    if node is None:
        return False, "node not found (scripts/install-deps.sh check installs it)"
    if not os.path.isdir(os.path.join(HERE, "node_modules", "kubernetes-models")):
        return False, ("deploy/tools/node_modules missing: run scripts/install-deps.sh check "
                       "(npm ci in deploy/tools)")
    p = subprocess.run([node, script], input=json.dumps(objs), capture_output=True, text=True,
                       check=False)
    return p.returncode == 0, (p.stdout + p.stderr).strip()


def main(argv):
    use_schema = "--no-schema" not in argv
    if "--self-test" in argv:
        self_test()
        passed = sum(1 for _, ok, _ in results if ok)
        print(f"manifests self-test: {passed} passed, {len(results) - passed} failed")
        return 0 if passed == len(results) else 1
    yl = shutil.which("yamllint")
    if check("yamllint installed", yl is not None, "apt-get install yamllint"):
        p = subprocess.run([yl, "-s", "-f", "parsable", "-c", os.path.join(DEPLOY, ".yamllint.yaml"),
                            DEPLOY], capture_output=True, text=True, check=False)
        check("yamllint deploy/", p.returncode == 0, p.stdout.strip())

    with tempfile.TemporaryDirectory() as tmp:
        rendered = {}
        for name, d in renderings(tmp).items():
            try:
                rendered[name] = kustomize_lite.render(d)
                check(f"render {name}", True)
            except (kustomize_lite.RenderError, OSError, yaml.YAMLError) as e:
                check(f"render {name}", False, str(e))
                continue
            kubectl = shutil.which("kubectl")
            if kubectl:
                p = subprocess.run([kubectl, "kustomize", d], capture_output=True, text=True,
                                   check=False)
                same = p.returncode == 0 and canon(rendered[name]) == canon(
                    [o for o in yaml.safe_load_all(p.stdout) if o])
                check(f"render {name} == kubectl kustomize", same, p.stderr.strip()
                      or "renderings differ")
            else:
                print(f"note: kubectl not found; {name} rendered by kustomize_lite only")

    examples = []
    for sub in ("examples", os.path.join("examples", "sample-app")):
        for f in sorted(os.listdir(os.path.join(K8S, sub))):
            if f.endswith(".yaml"):
                examples.extend(kustomize_lite.load_yaml_docs(os.path.join(K8S, sub, f)))

    every = [o for objs in rendered.values() for o in objs] + examples
    for name, objs in list(rendered.items()) + [("examples", examples)]:
        for o in objs:
            errs = check_object(o, objs)
            check(f"structure {name}: {o['kind']}/{o['metadata']['name']}", not errs,
                  "; ".join(errs))
    if use_schema:
        ok, out = schema_validate(every)
        check(f"schema (kubernetes-models) {len(every)} objects", ok, out)

    for name, mode in (("base", "base"), ("overlays/aks", "aks"),
                       ("overlays/intel-device-plugin", "intel"),
                       ("overlays/simulation", "sim"), ("overlays/tdx-simulation", "sim+tdx"),
                       ("overlays/tdx", "intel+tdx"),
                       ("simulation+pod-attribution", "sim")):
        if name in rendered:
            e = daemonset_policy(rendered[name], mode)
            check(f"policy {name} DaemonSet", not e, "; ".join(e))
    # An overlay's patch that adds a container names the image as base does;
    # only the overlay's own images rule rewrites it (a parent overlay's rule
    # runs before this overlay's patches), so every container must come out
    # with the overlay's one, fully named image.
    for name, objs in rendered.items():
        ds = find(objs, "DaemonSet")
        if name == "base" or ds is None:
            continue
        pod = ds["spec"]["template"]["spec"]
        images = {c.get("image") for c in pod.get("initContainers", []) + pod["containers"]}
        check(f"{name}: every container runs the overlay's image", len(images) == 1 and
              all("/" in str(i) for i in images), f"images {sorted(map(str, images))}")
    hits = no_redirect_policy()
    check("no manifest sends AKS users to another quote helper", not hits, ", ".join(hits))
    if "simulation+pod-attribution" in rendered:
        ds = find(rendered["simulation+pod-attribution"], "DaemonSet")
        check("component pod-attribution sets hostPID",
              ds is not None and ds["spec"]["template"]["spec"].get("hostPID") is True)
    jobs = [o for o in examples if o.get("kind") == "Job"]
    check("sample Jobs present (simulation, aks, intel-device-plugin)", len(jobs) == 3,
          f"{len(jobs)} Jobs")
    for job in jobs:
        e = job_policy(job)
        check(f"policy sample Job {job['metadata']['name']}", not e, "; ".join(e))

    passed = sum(1 for _, ok, _ in results if ok)
    failed = len(results) - passed
    print(f"manifests: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
