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
Usage: pod_from_template.py (--kustomize DIR | --file FILE) --kind KIND --name NAME [options]
"""
import argparse
import copy
import os
import sys

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kustomize_lite  # noqa: E402


def note(msg):
    print(f"pod_from_template: {msg}", file=sys.stderr)


def convert(obj, args):
    tmpl = copy.deepcopy(obj["spec"]["template"])
    spec = tmpl["spec"]
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
    for c in spec.get("initContainers", []) + spec.get("containers", []):
        for e in c.get("env", []):
            ref = e.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")
            if ref == "spec.nodeName":
                note(f"{c['name']}: env {e['name']} = {args.node_name} (fieldRef spec.nodeName)")
                del e["valueFrom"]
                e["value"] = args.node_name
        for prefix in args.drop_arg:
            kept = [a for a in c.get("args", []) if not a.startswith(prefix)]
            if len(kept) != len(c.get("args", [])):
                note(f"{c['name']}: dropped args starting with {prefix}")
                c["args"] = kept
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
    ap.add_argument("--restart-policy")
    ap.add_argument("--volume-prefix")
    args = ap.parse_args()
    objs = (kustomize_lite.render(args.kustomize) if args.kustomize
            else kustomize_lite.load_yaml_docs(args.file))
    hits = [o for o in objs if o.get("kind") == args.kind]
    if len(hits) != 1:
        raise SystemExit(f"expected one {args.kind}, found {len(hits)}")
    sys.stdout.write(yaml.safe_dump(convert(hits[0], args), sort_keys=False))


if __name__ == "__main__":
    main()
