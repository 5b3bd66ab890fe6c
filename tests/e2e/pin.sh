#!/usr/bin/env bash
# End to end: tagpin pins images through a real kube-apiserver v1.20.2
# (issue 4, "Proven end to end through a real API server").
#
# A plain-HTTP docker-registry holds freshly pushed images (new digests every
# run); tagpin serves on 127.0.0.1 with the chart's own rendered policy; the
# API server calls it through the chart's rendered MutatingWebhookConfiguration
# (webhook.url, tls.mode=secret). The chart's other objects are applied too, so
# the API server validates every one of them (they never run: no kubelet).
#
# Needs TAGPIN_BIN (ctest passes it) and TAGPIN_SOURCE_DIR. On failure the
# work directory is kept and its path printed. Env PIN_KEEP=1 keeps it always.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=${TAGPIN_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
export TAGPIN_SOURCE_DIR=$src
: "${TAGPIN_BIN:?set TAGPIN_BIN to the tagpin binary}"
# shellcheck source=kube.sh
source "$here/kube.sh"
# shellcheck source=../registry/lib.sh
source "$src/tests/registry/lib.sh"
py() { PYENV_VERSION=system /usr/bin/python3 "$@"; }
check() { py "$here/pin/check.py" "$@"; }

work=$(mktemp -d "${TMPDIR:-/tmp}/tagpin-e2e-pin.XXXXXX")
tp_pid=
failures=0

stop_tagpin() {
  [[ -n $tp_pid ]] || return 0
  kill "$tp_pid" 2>/dev/null || true
  local i
  for i in $(seq 1 50); do kill -0 "$tp_pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$tp_pid" 2>/dev/null || true
  wait "$tp_pid" 2>/dev/null || true
  tp_pid=
}
cleanup() {
  local rc=$?
  set +e # the kits' stop functions are not written for errexit
  stop_tagpin
  kube_down
  reg_stop_all
  if ((rc != 0)) || [[ -n ${PIN_KEEP:-} ]]; then
    if ((rc != 0)); then
      [[ -n ${KUBE_DIR:-} ]] && kube__logs_tail >&2
      echo "--- tagpin stderr (tail)" >&2
      tail -n 30 "$work/tagpin.err" >&2 2>/dev/null || true
    fi
    echo "pin: state kept in $work" >&2
  else
    rm -rf "$work"
  fi
  exit "$rc"
}
trap cleanup EXIT

fail() { echo "pin: FAIL: $*" >&2; exit 1; }
# soft FAIL: keep going so one run reports every broken promise, exit 1 at the end.
bad() { echo "pin: FAIL: $*" >&2; failures=$((failures + 1)); }
step() { echo "pin: == $*"; }
poll() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.5
  done
}

# --- registry and images -----------------------------------------------------
step "registry: push images"
reg_tmpdir D
# lib.sh is not written for set -e (its variable listing ends in a false &&):
# call it in an || context, where it returns 1 only on real failure.
reg_start R plain "$D" || fail "registry did not start"
declare -A DIG  # repo:tag -> digest pushed
push() { # KIND REPO:TAG
  reg_push --name R image "$1" "$2" > "$work/push-${2//[:\/]/_}.json"
  DIG[$2]=$(check digest "$work/push-${2//[:\/]/_}.json")
  [[ ${DIG[$2]} == sha256:* ]] || fail "push $2: no digest"
}
push oci-index shop/app:1.4.2     # multi-arch, the Deployment's main image
push docker shop/init:1.0.0       # Deployment init container
push oci shop/db:5.7.1            # StatefulSet
push docker-list shop/agent:1.0.0 # DaemonSet
push docker shop/cron:1.2.3       # CronJob
push oci shop/batch:0.9.0         # Job
push oci shop/pod:1.0.1           # bare Pod
push docker shop/old:1.0.0        # the old unpinned Deployment
push oci shop/fail:1.0.0          # failurePolicy checks
H=$R_HOST
img() { echo "$H/$1"; }

# --- control plane, tagpin, the chart ------------------------------------------
step "kube-apiserver up"
kube_up "$work/kube"
kube_cert_issue tagpin "IP:127.0.0.1"
tp_port=$(kube_free_port)

# render_chart DIR FAILUREPOLICY: the chart as an out-of-cluster install would be.
render_chart() {
  "$src/tests/chart/render.sh" "$1" --kube-version 1.20.2 \
    --set webhook.url="https://127.0.0.1:$tp_port" \
    --set webhook.failurePolicy="$2" \
    --set tls.mode=secret --set tls.existingSecret=tagpin-tls \
    --set tls.caBundle="$(base64 -w0 < "$KUBE_PKI/ca.crt")" \
    --set "policy.registry.insecure[0]=$H" \
    --set policy.server.auditLog="$work/audit.jsonl" \
    --set policy.cache.ttl=1h > /dev/null
}
render_chart "$work/chart" Fail
render_chart "$work/chart-ignore" Ignore
# tagpin runs with exactly the policy the chart's ConfigMap carries.
py - "$work/chart/resources.yaml" > "$work/policy.yaml" <<'EOF'
import sys, yaml
for doc in yaml.safe_load_all(open(sys.argv[1])):
    if doc and doc["kind"] == "ConfigMap" and "policy.yaml" in doc.get("data", {}):
        sys.stdout.write(doc["data"]["policy.yaml"])
EOF
grep -q "$H" "$work/policy.yaml" || fail "chart policy lacks the insecure registry"

start_tagpin() {
  setpriv --pdeathsig TERM -- "$TAGPIN_BIN" serve --config "$work/policy.yaml" \
    --listen "127.0.0.1:$tp_port" --tls-cert "$KUBE_PKI/tagpin.crt" \
    --tls-key "$KUBE_PKI/tagpin.key" >> "$work/tagpin.out" 2>> "$work/tagpin.err" &
  tp_pid=$!
  up() { curl -fsS --cacert "$KUBE_PKI/ca.crt" "https://127.0.0.1:$tp_port/healthz" > /dev/null 2>&1; }
  poll 20 up || fail "tagpin did not answer /healthz (see $work/tagpin.err)"
}
start_tagpin

step "chart resources pass the API server's validation"
kubectl apply -f "$work/chart/namespace.yaml"
# Kubernetes >= 1.21 sets this label itself; the chart's namespaceSelector
# relies on it to exclude kube-system and its own namespace (NOTE in report).
kubectl label --overwrite namespace tagpin kubernetes.io/metadata.name=tagpin > /dev/null
kubectl label --overwrite namespace kube-system kubernetes.io/metadata.name=kube-system > /dev/null
kubectl apply -f "$work/chart/resources.yaml" > "$work/resources.out" ||
  fail "chart resources refused: $(cat "$work/resources.out")"
kubectl apply -f "$work/chart/webhooks.yaml"

kubectl create namespace shop
# Configuration reaches the API server asynchronously: probe with server dry
# runs until tagpin refuses a :latest Pod.
probe() {
  ! kubectl -n shop run probe --image="$(img shop/app:latest)" --dry-run=server -o name \
    > /dev/null 2> "$work/probe.err" && grep -q 'deny-latest' "$work/probe.err"
}
poll 60 probe || fail "tagpin's webhook never answered (last: $(cat "$work/probe.err"))"

# --- 2. every workload kind is pinned ------------------------------------------
step "apply Deployment, StatefulSet, DaemonSet, CronJob, Job and Pod with version tags"
cat > "$work/workloads.yaml" <<EOF
apiVersion: apps/v1
kind: Deployment
metadata: {name: app}
spec:
  replicas: 2
  selector: {matchLabels: {app: app}}
  template:
    metadata: {labels: {app: app}}
    spec:
      initContainers:
      - {name: init, image: $(img shop/init:1.0.0)}
      containers:
      - {name: app, image: $(img shop/app:1.4.2)}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers:
      - {name: db, image: $(img shop/db:5.7.1)}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      containers:
      - {name: agent, image: $(img shop/agent:1.0.0)}
---
apiVersion: batch/v1beta1
kind: CronJob
metadata: {name: cron}
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
          - {name: cron, image: $(img shop/cron:1.2.3)}
---
apiVersion: batch/v1
kind: Job
metadata: {name: batch}
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
      - {name: batch, image: $(img shop/batch:0.9.0)}
---
apiVersion: v1
kind: Pod
metadata: {name: pod}
spec:
  containers:
  - {name: pod, image: $(img shop/pod:1.0.1)}
EOF
mark_all=$(reg_log_mark R)
kubectl -n shop apply -f "$work/workloads.yaml" > "$work/apply1.out" 2>&1 ||
  fail "apply of version tags refused: $(cat "$work/apply1.out")"

get() { kubectl -n "${3:-shop}" get "$1" "$2" -o json > "$work/obj-$1-$2.json"; echo "$work/obj-$1-$2.json"; }
# expect_images FILE PATH=IMAGE...: exactly these images at these paths.
expect_images() {
  local file=$1; shift
  local want got
  want=$(printf '%s\n' "$@" | sort)
  got=$(check images "$file" | sort)
  [[ $got == "$want" ]] || bad "$(basename "$file"): images
got:  $got
want: $want"
}
pin() { echo "$(img "$1")@${DIG[$1]}"; }
T=/spec/template/spec
expect_images "$(get deployment app)" "$T/containers/0=$(pin shop/app:1.4.2)" \
  "$T/initContainers/0=$(pin shop/init:1.0.0)"
check pinned "$work/obj-deployment-app.json" "$(img shop/app:1.4.2)" "${DIG[shop/app:1.4.2]}" \
  "$(img shop/init:1.0.0)" "${DIG[shop/init:1.0.0]}" || bad "deployment/app annotation"
expect_images "$(get statefulset db)" "$T/containers/0=$(pin shop/db:5.7.1)"
check pinned "$work/obj-statefulset-db.json" "$(img shop/db:5.7.1)" "${DIG[shop/db:5.7.1]}" ||
  bad "statefulset/db annotation"
expect_images "$(get daemonset agent)" "$T/containers/0=$(pin shop/agent:1.0.0)"
check pinned "$work/obj-daemonset-agent.json" "$(img shop/agent:1.0.0)" "${DIG[shop/agent:1.0.0]}" ||
  bad "daemonset/agent annotation"
expect_images "$(get cronjob cron)" \
  "/spec/jobTemplate/spec/template/spec/containers/0=$(pin shop/cron:1.2.3)"
check pinned "$work/obj-cronjob-cron.json" "$(img shop/cron:1.2.3)" "${DIG[shop/cron:1.2.3]}" ||
  bad "cronjob/cron annotation"
expect_images "$(get job batch)" "$T/containers/0=$(pin shop/batch:0.9.0)"
check pinned "$work/obj-job-batch.json" "$(img shop/batch:0.9.0)" "${DIG[shop/batch:0.9.0]}" ||
  bad "job/batch annotation"
expect_images "$(get pod pod)" "/spec/containers/0=$(pin shop/pod:1.0.1)"
check pinned "$work/obj-pod-pod.json" "$(img shop/pod:1.0.1)" "${DIG[shop/pod:1.0.1]}" ||
  bad "pod/pod annotation"

step "controller-made ReplicaSet, Pods (Deployment, StatefulSet, Job) carry the same digests"
n_pods() { # SELECTOR WANT
  [[ $(kubectl -n shop get pods -l "$1" -o name | wc -l) -ge $2 ]]
}
poll 90 n_pods app=app 2 || fail "no 2 Pods for deployment/app"
poll 90 n_pods app=db 1 || fail "no Pod for statefulset/db"
poll 90 n_pods job-name=batch 1 || fail "no Pod for job/batch"
kubectl -n shop get rs -l app=app -o json > "$work/rs.json"
py - "$work/rs.json" > "$work/rs-images.txt" <<'EOF'
import json, sys
for rs in json.load(open(sys.argv[1]))["items"]:
    for c in rs["spec"]["template"]["spec"]["initContainers"] + rs["spec"]["template"]["spec"]["containers"]:
        print(c["image"])
EOF
[[ $(sort "$work/rs-images.txt") == "$(printf '%s\n' "$(pin shop/app:1.4.2)" "$(pin shop/init:1.0.0)" | sort)" ]] ||
  bad "replicaset images: $(cat "$work/rs-images.txt")"
py -c 'import json,sys
for rs in json.load(open(sys.argv[1]))["items"]:
    if "tagpin.io/pinned" in rs["spec"]["template"]["metadata"].get("annotations", {}):
        sys.exit(1)' "$work/rs.json" || bad "tagpin.io/pinned reached the ReplicaSet's pod template"
pod_images() { # SELECTOR -> one line per pod: its images sorted, space separated
  kubectl -n shop get pods -l "$1" -o json |
    py -c 'import json,sys
for p in json.load(sys.stdin)["items"]:
    s = p["spec"]
    print(" ".join(sorted(c["image"] for c in s.get("initContainers", []) + s["containers"])))'
}
want_app="$(printf '%s\n' "$(pin shop/app:1.4.2)" "$(pin shop/init:1.0.0)" | sort | paste -sd' ')"
while read -r line; do
  [[ $line == "$want_app" ]] || bad "deployment pod images: $line"
done < <(pod_images app=app)
while read -r line; do
  [[ $line == "$(pin shop/db:5.7.1)" ]] || bad "statefulset pod images: $line"
done < <(pod_images app=db)
while read -r line; do
  [[ $line == "$(pin shop/batch:0.9.0)" ]] || bad "job pod images: $line"
done < <(pod_images job-name=batch)
# Controller-created Pods came from pinned templates: admitted without a
# registry request, so the whole apply cost one HEAD per unique tag.
step "registry: one manifest HEAD per unique tag, no other manifest traffic"
for t in shop/app:1.4.2 shop/init:1.0.0 shop/db:5.7.1 shop/agent:1.0.0 shop/cron:1.2.3 \
  shop/batch:0.9.0 shop/pod:1.0.1; do
  n=$(reg_log_count R HEAD "^/v2/${t%%:*}/manifests/${t##*:}\$" '*' "$mark_all")
  [[ $n == 1 ]] || bad "$t: $n HEAD requests, want 1"
done
reg_log_requests R "$mark_all" > "$work/registry-apply1.txt"

# --- 3. refusals ------------------------------------------------------------------
step ":latest and untagged images are refused with tagpin's message"
refused() { # NAME IMAGE RULE
  kubectl -n shop create deployment "$1" --image="$2" --dry-run=client -o yaml |
    grep -v 'creationTimestamp: null' > "$work/$1.yaml"
  if kubectl -n shop apply -f "$work/$1.yaml" > "$work/$1.out" 2>&1; then
    bad "$1 ($2) admitted: $(cat "$work/$1.out")"
    return
  fi
  local out; out=$(cat "$work/$1.out")
  for want in "denied the request" "Deployment shop/$1" "container \"${1%%-*}\"" "image \"$2\"" \
    "rule \"$3\""; do
    [[ $out == *"$want"* ]] || bad "$1: kubectl stderr lacks '$want': $out"
  done
  ! kubectl -n shop get deployment "$1" > /dev/null 2>&1 || bad "$1 stored despite the denial"
}
# kubectl create deployment names the container after the image's last path part.
refused app-latest "$(img shop/app:latest)" deny-latest
refused app-untagged "$(img shop/app)" deny-untagged

# --- 4. dry run, re-apply, old unpinned Deployment ----------------------------------
step "--dry-run=server answers with the digest and stores nothing"
kubectl -n shop create deployment preview --image="$(img shop/app:1.4.2)" --dry-run=client -o yaml |
  grep -v 'creationTimestamp: null' > "$work/preview.yaml"
kubectl -n shop apply --dry-run=server -o json -f "$work/preview.yaml" > "$work/preview-dry.json" ||
  bad "server dry run refused"
expect_images "$work/preview-dry.json" "$T/containers/0=$(pin shop/app:1.4.2)"
! kubectl -n shop get deployment preview > /dev/null 2>&1 || bad "dry run stored deployment/preview"

step "a second apply of the same file changes nothing"
# Client-side apply computes its patch against the live object, whose images
# tagpin pinned, so kubectl sends the written images again and reports
# "configured"; tagpin pins them to the same digests and the API server finds
# nothing changed: no write (resourceVersion), no new generation, no rollout.
# kubectl diff (a server dry run of the same patch) sees no difference.
versions() { kubectl -n shop get deployment/app statefulset/db daemonset/agent cronjob/cron job/batch pod/pod \
  -o jsonpath='{range .items[*]}{.kind}/{.metadata.name} {.metadata.resourceVersion} {.metadata.generation}{"\n"}{end}'; }
versions > "$work/versions1.txt"
kubectl -n shop diff -f "$work/workloads.yaml" > "$work/diff.out" 2>&1 ||
  bad "kubectl diff sees a change after apply: $(cat "$work/diff.out")"
kubectl -n shop apply -v=8 -f "$work/workloads.yaml" > "$work/apply2.out" 2> "$work/apply2.v8" ||
  bad "re-apply failed: $(tail -5 "$work/apply2.v8")"
versions > "$work/versions2.txt"
diff "$work/versions1.txt" "$work/versions2.txt" > /dev/null ||
  bad "re-apply wrote objects: $(diff "$work/versions1.txt" "$work/versions2.txt")"
n_unchanged=$(grep -c ' unchanged$' "$work/apply2.out" || true)
((n_unchanged == 6)) || echo "pin: NOTE: kubectl re-apply reports $((6 - n_unchanged)) of 6 as configured (three-way patch restores the written images; see above)"
expect_images "$(get deployment app)" "$T/containers/0=$(pin shop/app:1.4.2)" \
  "$T/initContainers/0=$(pin shop/init:1.0.0)"
[[ $(kubectl -n shop get rs -l app=app -o name | wc -l) == 1 ]] || bad "re-apply started a rollout"

step "an old unpinned Deployment (namespace opted out, then opted in) is left alone"
kubectl create namespace legacy
kubectl label namespace legacy tagpin.io/ignore=true
kubectl -n legacy create deployment old --image="$(img shop/old:1.0.0)" --dry-run=client -o yaml |
  grep -v 'creationTimestamp: null' > "$work/old.yaml"
kubectl -n legacy apply -f "$work/old.yaml" > /dev/null
old_image() { kubectl -n legacy get deployment old -o jsonpath='{.spec.template.spec.containers[0].image}'; }
[[ $(old_image) == "$(img shop/old:1.0.0)" ]] || bad "opted-out namespace: image changed to $(old_image)"
kubectl label namespace legacy tagpin.io/ignore-
legacy_judged() { # tagpin now refuses :latest in legacy
  ! kubectl -n legacy run probe --image="$(img shop/old:latest)" --dry-run=server -o name \
    > /dev/null 2>&1
}
poll 30 legacy_judged || fail "namespace legacy still not sent to tagpin after removing the label"
gen1=$(kubectl -n legacy get deployment old -o jsonpath='{.metadata.generation}')
kubectl -n legacy scale deployment old --replicas=3 > /dev/null || bad "scale of the old deployment failed"
# scale goes through deployments/scale (not matched); a label change is an
# UPDATE of the Deployment itself that tagpin sees: image unchanged -> warning, no patch.
kubectl -n legacy label deployment old touched=yes > "$work/old-label.out" 2>&1 ||
  bad "label of the old deployment refused: $(cat "$work/old-label.out")"
grep -q 'left as is because this update does not change it' "$work/old-label.out" ||
  bad "no tagpin warning on the old deployment's update: $(cat "$work/old-label.out")"
gen2=$(kubectl -n legacy get deployment old -o jsonpath='{.metadata.generation}')
[[ $gen2 == $((gen1 + 1)) ]] || bad "old deployment generation $gen1 -> $gen2 (want +1 for the scale only)"
[[ $(old_image) == "$(img shop/old:1.0.0)" ]] || bad "old deployment template changed to $(old_image)"
check unpinned "$(get deployment old legacy)" || bad "old deployment got a pin annotation"
[[ $(kubectl -n legacy get rs -l app=old -o name | wc -l) == 1 ]] || bad "old deployment rolled out"
# The scale's new Pods are admitted (tagpin pins each Pod itself: scope all).
n_legacy_pods() { [[ $(kubectl -n legacy get pods -l app=old -o name | wc -l) -ge 3 ]]; }
poll 60 n_legacy_pods || bad "scaled old deployment: fewer than 3 Pods admitted"

# --- 5. the cache: a second Deployment with the same tag costs nothing ---------------
step "a second Deployment with the same tag makes no registry request"
mark=$(reg_log_mark R)
kubectl -n shop create deployment second --image="$(img shop/app:1.4.2)" --dry-run=client -o yaml |
  grep -v 'creationTimestamp: null' > "$work/second.yaml"
kubectl -n shop apply -f "$work/second.yaml" > /dev/null
expect_images "$(get deployment second)" "$T/containers/0=$(pin shop/app:1.4.2)"
poll 60 n_pods app=second 1 || bad "no Pod for deployment/second"
n=$(reg_log_count R '*' '^/v2/' '*' "$mark")
[[ $n == 0 ]] || bad "second deployment cost $n registry requests: $(reg_log_requests R "$mark")"

# --- 7. audit trails (before tagpin is stopped) ----------------------------------------
step "tagpin's audit log and the API server's audit log"
audit=$work/audit.jsonl
check audit "$audit" Deployment app patched "$(img shop/app:1.4.2)" "${DIG[shop/app:1.4.2]}" registry ||
  bad "audit: deployment/app patched from registry"
check audit "$audit" Deployment second patched "$(img shop/app:1.4.2)" "${DIG[shop/app:1.4.2]}" cache ||
  bad "audit: deployment/second patched from cache"
check audit "$audit" Deployment app-latest denied || bad "audit: app-latest denied"
check audit "$audit" Deployment app-untagged denied || bad "audit: app-untagged denied"
has_kaudit() { check kaudit "$KUBE_AUDIT_LOG" app patched 2> /dev/null; }
poll 20 has_kaudit || { check kaudit "$KUBE_AUDIT_LOG" app patched || bad "API audit: app patched"; }
has_kaudit_denied() { check kaudit "$KUBE_AUDIT_LOG" app-latest denied 2> /dev/null; }
poll 20 has_kaudit_denied || bad "API audit: app-latest denied"

# --- 6. failurePolicy with tagpin stopped --------------------------------------------
step "tagpin stopped: failurePolicy Fail refuses, Ignore admits"
stop_tagpin
if grep -Eq 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$work/tagpin.err"; then
  bad "sanitizer report in tagpin's stderr"
fi
kubectl -n shop run down-fail --image="$(img shop/fail:1.0.0)" --restart=Never \
  --dry-run=client -o yaml | grep -v 'creationTimestamp: null' > "$work/down.yaml"
if kubectl -n shop apply -f "$work/down.yaml" > "$work/down-fail.out" 2>&1; then
  bad "failurePolicy Fail admitted a Pod with tagpin down"
else
  grep -q 'failed calling webhook "pin.tagpin.io"' "$work/down-fail.out" ||
    bad "Fail refusal does not name the webhook: $(cat "$work/down-fail.out")"
fi
# The chart's promise: kube-system never depends on tagpin (namespaceSelector).
kubectl -n kube-system run sys-pod --image="$(img shop/fail:1.0.0)" --restart=Never > "$work/sys.out" 2>&1 ||
  bad "failurePolicy Fail blocked kube-system with tagpin down: $(cat "$work/sys.out")"
grep -q 'failurePolicy: Ignore' "$work/chart-ignore/webhooks.yaml" || fail "Ignore render"
kubectl apply -f "$work/chart-ignore/webhooks.yaml" > /dev/null
admitted() { kubectl -n shop apply -f "$work/down.yaml" > "$work/down-ignore.out" 2>&1; }
if poll 30 admitted; then
  [[ $(kubectl -n shop get pod down-fail -o jsonpath='{.spec.containers[0].image}') == "$(img shop/fail:1.0.0)" ]] ||
    bad "Ignore: stored image is not the one written"
else
  bad "failurePolicy Ignore still refuses: $(cat "$work/down-ignore.out")"
fi

if ((failures > 0)); then
  fail "$failures check(s) failed"
fi
step "PASS"
