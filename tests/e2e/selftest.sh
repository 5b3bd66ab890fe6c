#!/usr/bin/env bash
# Self-test of the end-to-end harness (kube.sh), not of tagpin: the control
# plane comes up, controllers turn a Deployment into a ReplicaSet and Pods,
# kubectl's apply modes work against it, and a `url:` mutating webhook on
# 127.0.0.1 is called (also for controller-created Pods) and its
# auditAnnotations reach the audit log.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=kube.sh
source "$here/kube.sh"

work=$(mktemp -d "${TMPDIR:-/tmp}/tagpin-e2e-selftest.XXXXXX")
hook_pid=
cleanup() {
  local rc=$?
  if [[ -n $hook_pid ]]; then
    kill "$hook_pid" 2>/dev/null || true
    wait "$hook_pid" 2>/dev/null || true
  fi
  kube_down
  if ((rc != 0)); then
    [[ -n ${KUBE_DIR:-} ]] && kube__logs_tail >&2
    echo "selftest: FAILED (state kept in $work)" >&2
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT

fail() { echo "selftest: FAIL: $*" >&2; exit 1; }
step() { echo "selftest: $*"; }

# poll SECONDS CMD...: retry CMD until it succeeds or SECONDS pass.
poll() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.5
  done
}

kube_up "$work/kube"
ns=selftest
kubectl create namespace "$ns"
kubectl label namespace "$ns" tagpin-e2e-selftest=yes

step "controllers turn a Deployment into a ReplicaSet and a Pod"
kubectl create deployment web --image=nginx:1.25.3 --dry-run=client -o yaml |
  grep -v 'creationTimestamp: null' > "$work/web.yaml"
kubectl -n "$ns" apply -f "$work/web.yaml"
has_pods() { [[ -n $(kubectl -n "$ns" get pods -l app=web -o name) ]]; }
poll 60 has_pods || fail "no Pod for deployment/web after 60 s"
rs=$(kubectl -n "$ns" get rs -l app=web -o jsonpath='{.items[0].metadata.name}')
[[ -n $rs ]] || fail "no ReplicaSet for deployment/web"
owner=$(kubectl -n "$ns" get pods -l app=web \
  -o jsonpath='{.items[0].metadata.ownerReferences[0].name}')
[[ $owner == "$rs" ]] || fail "pod owned by '$owner', want ReplicaSet '$rs'"
image=$(kubectl -n "$ns" get pods -l app=web -o jsonpath='{.items[0].spec.containers[0].image}')
[[ $image == nginx:1.25.3 ]] || fail "pod image '$image'"

step "kubectl apply: unchanged, --dry-run=server, --server-side"
# --dry-run=client -o yaml writes `creationTimestamp: null`, which makes
# every later apply report "configured"; manifests for these tests drop it.
out=$(kubectl -n "$ns" apply -f "$work/web.yaml")
[[ $out == *unchanged* ]] || fail "second apply: $out"
sed 's/nginx:1.25.3/nginx:1.25.4/' "$work/web.yaml" > "$work/web2.yaml"
out=$(kubectl -n "$ns" apply --dry-run=server -f "$work/web2.yaml")
[[ $out == *"(server dry run)"* ]] || fail "server dry run: $out"
image=$(kubectl -n "$ns" get deploy web -o jsonpath='{.spec.template.spec.containers[0].image}')
[[ $image == nginx:1.25.3 ]] || fail "dry run changed the stored image to $image"
kubectl -n "$ns" apply --server-side --force-conflicts -f "$work/web.yaml" > /dev/null \
  || fail "server-side apply"

step "a url: mutating webhook on 127.0.0.1 is called"
kube_cert_issue echo-webhook "IP:127.0.0.1"
mkdir -p "$work/reviews"
PYENV_VERSION=system setpriv --pdeathsig TERM -- python3 "$here/echo_webhook.py" \
  "$KUBE_PKI/echo-webhook.crt" "$KUBE_PKI/echo-webhook.key" "$work/reviews" \
  "$work/hook.port" 2> "$work/hook.log" &
hook_pid=$!
poll 20 test -s "$work/hook.port" || fail "echo webhook did not start"
cat > "$work/hook.yaml" <<EOF
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata:
  name: e2e-echo
webhooks:
- name: echo.selftest.tagpin.dev
  clientConfig:
    url: https://127.0.0.1:$(cat "$work/hook.port")/mutate
    caBundle: $(base64 -w0 < "$KUBE_PKI/ca.crt")
  rules:
  - apiGroups: ["", "apps"]
    apiVersions: ["v1"]
    operations: ["CREATE", "UPDATE"]
    resources: ["pods", "deployments"]
  namespaceSelector:
    matchLabels: {tagpin-e2e-selftest: "yes"}
  sideEffects: None
  admissionReviewVersions: ["v1"]
  failurePolicy: Fail
  timeoutSeconds: 10
EOF
kubectl apply -f "$work/hook.yaml"

# The API server picks up webhook configurations asynchronously: probe with
# server-side dry runs (sideEffects: None allows them) until one is seen.
reviews() { compgen -G "$work/reviews/review-*.json" | wc -l; }
probe() {
  kubectl -n "$ns" run probe --image=nginx:1.25.3 --dry-run=server -o name > /dev/null &&
  (($(reviews) > 0))
}
poll 30 probe || fail "webhook received no AdmissionReview (see $work/hook.log)"

step "the webhook sees Pods the controller-manager creates"
kubectl -n "$ns" scale deployment web --replicas=2
controller_pod_seen() {
  PYENV_VERSION=system python3 - "$work/reviews" <<'EOF'
import glob, json, sys
for path in glob.glob(sys.argv[1] + "/review-*.json"):
    req = json.load(open(path))["request"]
    if (req["kind"]["kind"] == "Pod" and req["operation"] == "CREATE"
            and not req.get("dryRun")
            and req["object"]["metadata"]["ownerReferences"][0]["kind"] == "ReplicaSet"
            and req["object"]["spec"]["containers"][0]["image"] == "nginx:1.25.3"):
        sys.exit(0)
sys.exit(1)
EOF
}
poll 60 controller_pod_seen || fail "no review of a controller-created Pod"

step "auditAnnotations reach the audit log"
in_audit() { grep -q '"echo.selftest.tagpin.dev/seen"' "$KUBE_AUDIT_LOG"; }
poll 20 in_audit || fail "no echo.selftest.tagpin.dev/seen annotation in $KUBE_AUDIT_LOG"

step "kube_down stops every process"
pids=("${KUBE_PIDS[@]}")
kube_down
for pid in "${pids[@]}"; do
  ! kill -0 "$pid" 2>/dev/null || fail "process $pid still running after kube_down"
done
step "PASS"
