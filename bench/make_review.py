#!/usr/bin/python3
"""Writes the admission benchmark's AdmissionReview: a CREATE of a realistic
Deployment (3 containers: app, sidecar, agent; probes, resources, env, the
kubectl last-applied annotation and managedFields) whose images live on the
benchmark's local registry.   make_review.py REGISTRY_HOST OUT.json"""
import json
import sys

host, out = sys.argv[1], sys.argv[2]
images = [f"{host}/bench/web:1.0", f"{host}/bench/sidecar:2.1", f"{host}/bench/agent:3.2"]


def container(name, image, port):
    return {
        "name": name, "image": image, "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": "http", "containerPort": port, "protocol": "TCP"}],
        "env": [{"name": "LOG_LEVEL", "value": "info"},
                {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"},
                      "limits": {"cpu": "500m", "memory": "256Mi"}},
        "readinessProbe": {"httpGet": {"path": "/healthz", "port": port},
                           "periodSeconds": 10},
        "securityContext": {"runAsNonRoot": True, "readOnlyRootFilesystem": True},
    }


spec = {
    "replicas": 3,
    "selector": {"matchLabels": {"app": "web"}},
    "template": {
        "metadata": {"labels": {"app": "web", "tier": "frontend"}},
        "spec": {"containers": [container("web", images[0], 8080),
                                container("sidecar", images[1], 9090),
                                container("agent", images[2], 9100)],
                 "serviceAccountName": "web", "terminationGracePeriodSeconds": 30},
    },
}
applied = {"apiVersion": "apps/v1", "kind": "Deployment",
           "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web"}},
           "spec": spec}
obj = {
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {
        "name": "web", "namespace": "shop", "labels": {"app": "web"},
        "annotations": {"kubectl.kubernetes.io/last-applied-configuration":
                        json.dumps(applied, separators=(",", ":")) + "\n"},
        "managedFields": [{"manager": "kubectl-client-side-apply", "operation": "Update",
                           "apiVersion": "apps/v1", "time": "2026-11-23T08:30:39Z",
                           "fieldsType": "FieldsV1",
                           "fieldsV1": {"f:spec": {"f:replicas": {}, "f:template": {}}}}],
    },
    "spec": spec,
}
gvk = {"group": "apps", "version": "v1", "kind": "Deployment"}
gvr = {"group": "apps", "version": "v1", "resource": "deployments"}
review = {
    "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
    "request": {
        "uid": "5b1c9a52-3c2e-4f0b-9a57-2f7d0c1e8a11", "kind": gvk, "resource": gvr,
        "requestKind": gvk, "requestResource": gvr, "name": "web", "namespace": "shop",
        "operation": "CREATE",
        "userInfo": {"username": "admin", "groups": ["system:masters", "system:authenticated"]},
        "object": obj, "oldObject": None, "dryRun": False,
        "options": {"kind": "CreateOptions", "apiVersion": "meta.k8s.io/v1",
                    "fieldManager": "kubectl-client-side-apply"},
    },
}
with open(out, "w") as f:
    json.dump(review, f, separators=(",", ":"))
