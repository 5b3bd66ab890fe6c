#!/usr/bin/env bash
# Regenerates the request.json of the data-driven cases from real objects made
# by kubectl (`kubectl create … --dry-run=client -o json`, kubectl from the npm
# package the chart tests use) wrapped by wrap.py. expected.json files are
# written by hand and are never generated. Usage: tests/cases/generate.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
KUBECTL=${KUBECTL:-$(bash "$here/../chart/helm.sh" --kubectl)}
py() { PYENV_VERSION=system python3 "$@"; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

obj() { # obj NAME kubectl-create-args...: a real object in $tmp/NAME.json
  local name=$1; shift
  "$KUBECTL" create "$@" --dry-run=client -o json > "$tmp/$name.json"
}
case_() { # case_ DIR OBJECT wrap-args...
  local dir=$here/$1 object=$2; shift 2
  mkdir -p "$dir"
  py "$here/wrap.py" "$tmp/$object.json" "$@" > "$dir/request.json"
}

obj latest deployment web --image=nginx:latest
obj untagged2 deployment web --image=nginx --image=redis:main
obj versions deployment web --image=nginx:1.25.3 --image=ghcr.io/acme/api:2.4.1
obj pinned deployment web --image=nginx:1.25.3@sha256:4c0fdaa8b6341bfdeca5f18f7837462c80cff90527ee35ef185571e1c327beac
obj invalid deployment web --image=Nginx:1.0
obj job job once --image=busybox:latest
obj cronjob cronjob nightly --image=registry.example.com/tools/backup:dev --schedule='0 1 * * *'
obj configmap configmap settings --from-literal=image=nginx:latest

case_ deployment-latest latest
case_ deployment-untagged-and-main untagged2
case_ deployment-versions versions
case_ deployment-pinned pinned
case_ deployment-invalid-reference invalid
case_ job-latest job
case_ cronjob-mutable-tag cronjob
case_ statefulset-untagged-init versions --as StatefulSet --add-init busybox
case_ daemonset-latest latest --as DaemonSet
case_ replicaset-latest latest --as ReplicaSet
case_ replicationcontroller-latest latest --as ReplicationController
case_ podtemplate-latest latest --as PodTemplate
case_ pod-ephemeral-latest versions --as Pod --add-ephemeral busybox:latest
case_ pod-all-lists-versions versions --as Pod --add-init busybox:1.36 --add-ephemeral busybox:1.36
case_ exempt-namespace latest --namespace kube-system
case_ warn-mode latest
case_ mode-off latest
case_ unknown-kind configmap
case_ delete-operation latest --operation DELETE --old "$tmp/latest.json"
case_ update-unchanged-latest latest --operation UPDATE --old "$tmp/latest.json"
case_ update-changed-to-latest latest --operation UPDATE --old "$tmp/versions.json"
case_ dry-run-latest latest --dry-run
case_ registry-rule versions
case_ namespace-rule versions --namespace payments
case_ validate-require-pinned versions
case_ validate-pinned pinned
echo "regenerated requests in $here"
