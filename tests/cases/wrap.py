#!/usr/bin/env python3
"""Wraps a Kubernetes object (JSON, as `kubectl create ... --dry-run=client -o json`
prints it) into an AdmissionReview v1 request as the API server sends it.

  wrap.py OBJECT.json [--as Pod|StatefulSet|DaemonSet|ReplicaSet|ReplicationController|PodTemplate]
          [--namespace NS] [--operation CREATE|UPDATE|DELETE] [--old OLD.json] [--dry-run]
          [--add-init IMAGE] [--add-ephemeral IMAGE] > request.json

--as turns a Deployment made by kubectl into another workload kind (or a Pod
from its template) so every kind is built from a real kubectl object.
"""
import argparse
import copy
import hashlib
import json
import sys

GROUPS = {
    "Pod": ("", "v1", "pods"), "ReplicationController": ("", "v1", "replicationcontrollers"),
    "PodTemplate": ("", "v1", "podtemplates"), "Deployment": ("apps", "v1", "deployments"),
    "ReplicaSet": ("apps", "v1", "replicasets"), "StatefulSet": ("apps", "v1", "statefulsets"),
    "DaemonSet": ("apps", "v1", "daemonsets"), "Job": ("batch", "v1", "jobs"),
    "CronJob": ("batch", "v1", "cronjobs"), "ConfigMap": ("", "v1", "configmaps"),
}


def convert(obj, kind):
    if kind is None or kind == obj["kind"]:
        return obj
    tmpl = obj["spec"]["template"]
    group, version, _ = GROUPS[kind]
    out = {"kind": kind, "apiVersion": f"{group}/{version}" if group else version,
           "metadata": copy.deepcopy(obj["metadata"])}
    if kind == "Pod":
        out["metadata"]["labels"] = tmpl["metadata"].get("labels", {})
        out["spec"] = copy.deepcopy(tmpl["spec"])
    elif kind == "PodTemplate":
        out["template"] = copy.deepcopy(tmpl)
    else:
        spec = {"selector": obj["spec"]["selector"], "template": copy.deepcopy(tmpl)}
        if kind == "ReplicationController":
            spec["selector"] = obj["spec"]["selector"]["matchLabels"]
        if kind in ("ReplicaSet", "ReplicationController", "StatefulSet"):
            spec["replicas"] = 1
        if kind == "StatefulSet":
            spec["serviceName"] = obj["metadata"]["name"]
        out["spec"] = spec
    return out


def pod_spec(obj):
    kind = obj["kind"]
    if kind == "Pod":
        return obj["spec"]
    if kind == "PodTemplate":
        return obj["template"]["spec"]
    if kind == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return obj["spec"]["template"]["spec"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("object")
    ap.add_argument("--as", dest="kind")
    ap.add_argument("--namespace", default="shop")
    ap.add_argument("--operation", default="CREATE")
    ap.add_argument("--old")
    ap.add_argument("--dry-run", action="store_true")
    ap.add_argument("--add-init", action="append", default=[])
    ap.add_argument("--add-ephemeral", action="append", default=[])
    a = ap.parse_args()

    obj = convert(json.load(open(a.object)), a.kind)
    obj["metadata"]["namespace"] = a.namespace
    spec = pod_spec(obj) if (a.add_init or a.add_ephemeral) else {}
    for i, img in enumerate(a.add_init):
        spec.setdefault("initContainers", []).append({"name": f"init-{i}", "image": img, "resources": {}})
    for i, img in enumerate(a.add_ephemeral):
        spec.setdefault("ephemeralContainers", []).append({"name": f"debug-{i}", "image": img})
    old = json.load(open(a.old)) if a.old else None
    group, version, resource = GROUPS[obj["kind"]]
    gvk = {"group": group, "version": version, "kind": obj["kind"]}
    # A stable uid per input, so regenerating gives the same files.
    uid = hashlib.sha256(json.dumps([obj, a.operation]).encode()).hexdigest()
    uid = f"{uid[:8]}-{uid[8:12]}-{uid[12:16]}-{uid[16:20]}-{uid[20:32]}"
    review = {
        "kind": "AdmissionReview", "apiVersion": "admission.k8s.io/v1",
        "request": {
            "uid": uid, "kind": gvk, "resource": {"group": group, "version": version, "resource": resource},
            "requestKind": gvk, "requestResource": {"group": group, "version": version, "resource": resource},
            "name": obj["metadata"].get("name", ""), "namespace": a.namespace, "operation": a.operation,
            "userInfo": {"username": "alice@example.com", "groups": ["developers", "system:authenticated"]},
            "object": obj if a.operation != "DELETE" else None,
            "oldObject": old if a.operation in ("UPDATE", "DELETE") else None,
            "dryRun": a.dry_run,
            "options": {"kind": f"{a.operation.capitalize()}Options", "apiVersion": "meta.k8s.io/v1"},
        },
    }
    json.dump(review, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
