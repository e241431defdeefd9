#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Turn a DaemonSet's or Job's pod template into a Pod for `podman kube play`.

podman runs Pods (and Deployments), not DaemonSets or Jobs, and has no
kubelet, API server or device plugin. scripts/e2e.sh therefore plays the pod
template of our real manifests, with only these adaptations (each printed to
stderr so the test log shows exactly what differed from Kubernetes):
  --host-path OLD=NEW     a hostPath volume's path (the stand-in for the node's
                          /var/run/aesmd)
  --secret NAME=DIR       a Secret volume becomes a hostPath directory holding
                          the Secret's files
  --node-name NAME        env from fieldRef spec.nodeName gets this value
  --drop-arg PREFIX       drop container args starting with PREFIX (a flag
                          the image's daemon does not have yet)
  --no-probes             drop probes (podman turns them into healthchecks
                          that need systemd timers and curl in the image)
  --restart-policy P      the Pod's restartPolicy
  --volume-prefix P       prefix emptyDir volume names with P: podman 4
                          makes each emptyDir a *named* volume that outlives
                          the pod and is shared by every pod using that name
  --configmap NAME=DIR    a ConfigMap volume becomes a hostPath directory; the
                          ConfigMap's data (from the rendering) is written there
  --image OLD=NEW         a container image (another tag of the same build)
  --env CTR:NAME=VALUE    set an environment variable in container CTR (what
                          the node or a test double needs; never the daemon's
                          own configuration)
  --mount CTR:HOSTDIR:PATH[:ro]  an extra hostPath mount in container CTR
  --no-ports              drop containerPorts: podman kube play publishes each
                          on the host, so two pods of one template (a rolling
                          update) would collide; tests reach the pod's IP
Always: $(VAR) in command and args is expanded from the container's env, as
the kubelet does (podman kube play passes it literally).
Usage: pod_from_template.py (--kustomize DIR | --file FILE) --kind KIND --name NAME [options]
"""
import argparse
import copy
import os
import re
import sys

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kustomize_lite  # noqa: E402


VAR_REF = re.compile(r"(?<!\$)\$\(([A-Za-z_][A-Za-z0-9_]*)\)")


def note(msg):
    print(f"pod_from_template: {msg}", file=sys.stderr)


def write_configmaps(objs, args):
    """Write each --configmap NAME=DIR's data (from the rendering) to DIR."""
    for kv in args.configmap:
        name, d = kv.split("=", 1)
        cms = [o for o in objs if o.get("kind") == "ConfigMap"
               and o["metadata"]["name"] == name]
        if len(cms) != 1:
            raise SystemExit(f"--configmap {name}: not in the rendered objects")
        os.makedirs(d, exist_ok=True)
        for key, value in (cms[0].get("data") or {}).items():
            with open(os.path.join(d, key), "w", encoding="utf-8") as f:
                f.write(value)
            note(f"ConfigMap {name}: {key} -> {d}/{key}")


def convert(obj, args):
    tmpl = copy.deepcopy(obj["spec"]["template"])
    spec = tmpl["spec"]
    configmaps = dict(kv.split("=", 1) for kv in args.configmap)
    images = dict(kv.split("=", 1) for kv in args.image)
    host_paths = dict(kv.split("=", 1) for kv in args.host_path)
    secrets = dict(kv.split("=", 1) for kv in args.secret)
    for v in spec.get("volumes", []):
        hp = v.get("hostPath")
        if hp and hp.get("path") in host_paths:
            note(f"volume {v['name']}: hostPath {hp['path']} -> {host_paths[hp['path']]}")
            hp["path"] = host_paths[hp["path"]]
        sec = v.get("secret")
        if sec:
            name = sec.get("secretName")
            if name not in secrets:
                raise SystemExit(f"secret volume {v['name']} ({name}): give --secret {name}=DIR")
            note(f"volume {v['name']}: Secret {name} -> hostPath {secrets[name]}")
            del v["secret"]
            v["hostPath"] = {"path": secrets[name], "type": "Directory"}
        cm = v.get("configMap")
        if cm:
            name = cm.get("name")
            if name not in configmaps:
                raise SystemExit(f"configMap volume {v['name']} ({name}): give --configmap "
                                 f"{name}=DIR")
            note(f"volume {v['name']}: ConfigMap {name} -> hostPath {configmaps[name]}")
            del v["configMap"]
            v["hostPath"] = {"path": configmaps[name], "type": "Directory"}
    by_name = {c["name"]: c for c in spec.get("initContainers", []) + spec.get("containers", [])}
    for kv in args.env:
        ctr, _, rest = kv.partition(":")
        name, _, value = rest.partition("=")
        if ctr not in by_name:
            raise SystemExit(f"--env {kv}: no container {ctr!r}")
        env = [e for e in by_name[ctr].setdefault("env", []) if e.get("name") != name]
        env.append({"name": name, "value": value})
        by_name[ctr]["env"] = env
        note(f"{ctr}: env {name}={value}")
    for i, kv in enumerate(args.mount):
        parts = kv.split(":")
        if len(parts) not in (3, 4) or parts[0] not in by_name:
            raise SystemExit(f"--mount {kv}: CTR:HOSTDIR:PATH[:ro] with a known container")
        vname = f"e2e-mount-{i}"
        spec.setdefault("volumes", []).append(
            {"name": vname, "hostPath": {"path": parts[1], "type": "Directory"}})
        m = {"name": vname, "mountPath": parts[2]}
        if len(parts) == 4 and parts[3] == "ro":
            m["readOnly"] = True
        by_name[parts[0]].setdefault("volumeMounts", []).append(m)
        note(f"{parts[0]}: extra hostPath mount {parts[1]} -> {parts[2]}")
    for c in spec.get("initContainers", []) + spec.get("containers", []):
        if c.get("image") in images:
            note(f"{c['name']}: image {c['image']} -> {images[c['image']]}")
            c["image"] = images[c["image"]]
        for e in c.get("env", []):
            ref = e.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")
            if ref == "spec.nodeName":
                note(f"{c['name']}: env {e['name']} = {args.node_name} (fieldRef spec.nodeName)")
                del e["valueFrom"]
                e["value"] = args.node_name
        # The kubelet expands $(VAR) in command and args from the container's
        # env; podman kube play passes them literally.
        env_vals = {e["name"]: e["value"] for e in c.get("env", []) if "value" in e}
        for key in ("command", "args"):
            if key not in c:
                continue
            expanded = [VAR_REF.sub(lambda m: env_vals.get(m.group(1), m.group(0)), a)
                        for a in c[key]]
            if expanded != c[key]:
                note(f"{c['name']}: expanded $(VAR) in {key} (as the kubelet does)")
                c[key] = expanded
        for prefix in args.drop_arg:
            kept = [a for a in c.get("args", []) if not a.startswith(prefix)]
            if len(kept) != len(c.get("args", [])):
                note(f"{c['name']}: dropped args starting with {prefix}")
                c["args"] = kept
        if args.no_ports and c.pop("ports", None) is not None:
            note(f"{c['name']}: dropped ports (reached on the pod's IP)")
        if args.no_probes:
            for p in ("livenessProbe", "readinessProbe", "startupProbe"):
                if c.pop(p, None) is not None:
                    note(f"{c['name']}: dropped {p}")
    if args.volume_prefix:
        renamed = {}
        for v in spec.get("volumes", []):
            if "emptyDir" in v:
                renamed[v["name"]] = args.volume_prefix + v["name"]
                v["name"] = renamed[v["name"]]
        for c in spec.get("initContainers", []) + spec.get("containers", []):
            for m in c.get("volumeMounts", []):
                m["name"] = renamed.get(m["name"], m["name"])
        if renamed:
            note(f"emptyDir volumes renamed: {', '.join(renamed.values())}")
    if args.restart_policy:
        spec["restartPolicy"] = args.restart_policy
    meta = {"name": args.name, "labels": tmpl.get("metadata", {}).get("labels", {})}
    if tmpl.get("metadata", {}).get("annotations"):
        meta["annotations"] = tmpl["metadata"]["annotations"]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--kustomize")
    src.add_argument("--file")
    ap.add_argument("--kind", required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--host-path", action="append", default=[])
    ap.add_argument("--secret", action="append", default=[])
    ap.add_argument("--node-name", default="e2e-node")
    ap.add_argument("--drop-arg", action="append", default=[])
    ap.add_argument("--no-probes", action="store_true")
    ap.add_argument("--no-ports", action="store_true")
    ap.add_argument("--restart-policy")
    ap.add_argument("--volume-prefix")
    ap.add_argument("--configmap", action="append", default=[])
    ap.add_argument("--image", action="append", default=[])
    ap.add_argument("--env", action="append", default=[])
    ap.add_argument("--mount", action="append", default=[])
    args = ap.parse_args()
    objs = (kustomize_lite.render(args.kustomize) if args.kustomize
            else kustomize_lite.load_yaml_docs(args.file))
    hits = [o for o in objs if o.get("kind") == args.kind]
    if len(hits) != 1:
        raise SystemExit(f"expected one {args.kind}, found {len(hits)}")
    write_configmaps(objs, args)
    sys.stdout.write(yaml.safe_dump(convert(hits[0], args), sort_keys=False))


if __name__ == "__main__":
    main()
