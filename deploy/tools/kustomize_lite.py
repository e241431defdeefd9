#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Render deploy/kubernetes kustomizations without kustomize.

Operators use `kubectl apply -k` (kustomize). CI machines and fresh Debian 12
hosts have no kustomize, so the e2e test and the manifest checks render with
this small subset of it. Anything outside the subset is an error, never
silently ignored, and check-manifests.py compares the output with
`kubectl kustomize` wherever kubectl exists.

Supported kustomization fields:
  resources   files (one or more YAML documents) and directories
  components  directories holding `kind: Component` kustomizations
  patches     {path, target{group,version,kind,name}} with a JSON 6902 patch
              (a YAML list of add/remove/replace operations)
  namespace   set on every namespaced object
  images      {name, newName, newTag} on pod template containers
Order, as kustomize: resources, components, patches, namespace, images.

Usage: kustomize_lite.py DIR   (prints the rendered YAML stream)
"""
import copy
import os
import sys

import yaml

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
ALLOWED_KEYS = {"apiVersion", "kind", "resources", "components", "patches", "namespace",
                "images"}
CLUSTER_SCOPED = {"Namespace", "PriorityClass", "ClusterRole", "ClusterRoleBinding",
                  "CustomResourceDefinition", "StorageClass", "RuntimeClass",
                  "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration",
                  "PersistentVolume", "Node"}


class RenderError(Exception):
    pass


def load_yaml_docs(path):
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def find_kustomization(directory):
    for name in KUSTOMIZATION_FILES:
        p = os.path.join(directory, name)
        if os.path.isfile(p):
            return p
    raise RenderError(f"{directory}: no kustomization.yaml")


def _pointer_tokens(path):
    if path == "":
        return []
    if not path.startswith("/"):
        raise RenderError(f"JSON pointer {path!r} must start with '/'")
    return [t.replace("~1", "/").replace("~0", "~") for t in path[1:].split("/")]


def _walk(doc, tokens, path):
    cur = doc
    for t in tokens:
        if isinstance(cur, list):
            try:
                cur = cur[int(t)]
            except (ValueError, IndexError) as e:
                raise RenderError(f"{path}: no list element {t!r}") from e
        elif isinstance(cur, dict):
            if t not in cur:
                raise RenderError(f"{path}: no key {t!r}")
            cur = cur[t]
        else:
            raise RenderError(f"{path}: cannot descend into a scalar at {t!r}")
    return cur


def apply_json6902(doc, ops, where):
    """RFC 6902 add/remove/replace on doc (in place)."""
    if not isinstance(ops, list):
        raise RenderError(f"{where}: only JSON 6902 patches (a list of operations) are supported")
    for op in ops:
        kind, path = op.get("op"), op.get("path")
        if kind not in ("add", "remove", "replace") or not isinstance(path, str):
            raise RenderError(f"{where}: unsupported operation {op!r}")
        tokens = _pointer_tokens(path)
        if not tokens:
            raise RenderError(f"{where}: operations on the whole document are not supported")
        parent = _walk(doc, tokens[:-1], path)
        last = tokens[-1]
        value = copy.deepcopy(op.get("value"))
        if kind != "remove" and "value" not in op:
            raise RenderError(f"{where}: {kind} {path} without a value")
        if isinstance(parent, list):
            if kind == "add" and last == "-":
                parent.append(value)
                continue
            try:
                idx = int(last)
            except ValueError as e:
                raise RenderError(f"{where}: {path}: bad list index") from e
            if kind == "add":
                if not 0 <= idx <= len(parent):
                    raise RenderError(f"{where}: {path}: index out of range")
                parent.insert(idx, value)
            else:
                if not 0 <= idx < len(parent):
                    raise RenderError(f"{where}: {path}: index out of range")
                if kind == "remove":
                    del parent[idx]
                else:
                    parent[idx] = value
        elif isinstance(parent, dict):
            if kind in ("remove", "replace") and last not in parent:
                raise RenderError(f"{where}: {kind} {path}: no such member")
            if kind == "remove":
                del parent[last]
            else:
                parent[last] = value
        else:
            raise RenderError(f"{where}: {path}: parent is a scalar")


def _matches(obj, target):
    api = obj.get("apiVersion", "")
    group, _, version = api.rpartition("/")
    for key, have in (("group", group), ("version", version), ("kind", obj.get("kind")),
                      ("name", obj.get("metadata", {}).get("name"))):
        if key in target and target[key] != have:
            return False
    unknown = set(target) - {"group", "version", "kind", "name"}
    if unknown:
        raise RenderError(f"patch target fields not supported: {sorted(unknown)}")
    return True


def pod_spec(obj):
    kind = obj.get("kind")
    if kind == "Pod":
        return obj.get("spec")
    if kind in ("DaemonSet", "Deployment", "StatefulSet", "ReplicaSet", "Job"):
        return obj.get("spec", {}).get("template", {}).get("spec")
    if kind == "CronJob":
        return obj.get("spec", {}).get("jobTemplate", {}).get("spec", {}).get(
            "template", {}).get("spec")
    return None


def _image_name(image):
    if "@" in image:
        return image.split("@", 1)[0]
    slash = image.rfind("/")
    colon = image.rfind(":")
    return image[:colon] if colon > slash else image


def _apply_images(objs, images):
    for obj in objs:
        spec = pod_spec(obj)
        if not spec:
            continue
        for c in spec.get("initContainers", []) + spec.get("containers", []):
            for rule in images:
                if _image_name(c.get("image", "")) == rule["name"]:
                    unknown = set(rule) - {"name", "newName", "newTag"}
                    if unknown:
                        raise RenderError(f"images fields not supported: {sorted(unknown)}")
                    name = rule.get("newName", rule["name"])
                    tag = rule.get("newTag")
                    c["image"] = f"{name}:{tag}" if tag else name


def _apply_patches(objs, patches, base_dir):
    for p in patches:
        if set(p) - {"path", "target"} or "path" not in p or "target" not in p:
            raise RenderError(f"{base_dir}: patches need exactly path and target: {p!r}")
        ppath = os.path.join(base_dir, p["path"])
        docs = load_yaml_docs(ppath)
        if len(docs) != 1:
            raise RenderError(f"{ppath}: expected one document")
        hits = [o for o in objs if _matches(o, p["target"])]
        if not hits:
            raise RenderError(f"{ppath}: target {p['target']!r} matches nothing")
        for o in hits:
            apply_json6902(o, docs[0], ppath)


def render(directory, expect_kind="Kustomization"):
    kpath = find_kustomization(directory)
    docs = load_yaml_docs(kpath)
    if len(docs) != 1 or not isinstance(docs[0], dict):
        raise RenderError(f"{kpath}: expected one mapping")
    k = docs[0]
    unknown = set(k) - ALLOWED_KEYS
    if unknown:
        raise RenderError(f"{kpath}: fields not supported by kustomize_lite: {sorted(unknown)}")
    if k.get("kind", "Kustomization") != expect_kind:
        raise RenderError(f"{kpath}: kind {k.get('kind')!r}, expected {expect_kind}")

    objs = []
    for res in k.get("resources", []):
        p = os.path.normpath(os.path.join(directory, res))
        if os.path.isdir(p):
            objs.extend(render(p))
        elif os.path.isfile(p):
            objs.extend(load_yaml_docs(p))
        else:
            raise RenderError(f"{kpath}: resource {res!r} not found")
    for comp in k.get("components", []):
        cdir = os.path.normpath(os.path.join(directory, comp))
        ckpath = find_kustomization(cdir)
        cdoc = load_yaml_docs(ckpath)[0]
        if cdoc.get("kind") != "Component":
            raise RenderError(f"{ckpath}: not a Component")
        if set(cdoc) - ALLOWED_KEYS:
            raise RenderError(f"{ckpath}: unsupported fields {sorted(set(cdoc) - ALLOWED_KEYS)}")
        for res in cdoc.get("resources", []):
            objs.extend(load_yaml_docs(os.path.join(cdir, res)))
        _apply_patches(objs, cdoc.get("patches", []), cdir)
    _apply_patches(objs, k.get("patches", []), directory)
    ns = k.get("namespace")
    if ns:
        for o in objs:
            if o.get("kind") not in CLUSTER_SCOPED:
                o.setdefault("metadata", {})["namespace"] = ns
    _apply_images(objs, k.get("images", []))
    return objs


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    try:
        objs = render(argv[1])
    except (RenderError, OSError, yaml.YAMLError) as e:
        print(f"kustomize_lite: {e}", file=sys.stderr)
        return 1
    sys.stdout.write(yaml.safe_dump_all(objs, sort_keys=False, default_flow_style=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
