#!/usr/bin/env bash
# The HTTPS server over real TLS with curl: probes, allowed/denied reviews,
# malformed/oversized/deep input, wrong method and path, keep-alive reuse,
# concurrent requests, SIGHUP reloads (good and bad policy), audit records
# and a clean SIGTERM. Needs TAGPIN_BIN and TAGPIN_SOURCE_DIR (set by ctest).
set -uo pipefail
work=$(mktemp -d /tmp/tagpin-server.XXXXXX)
# Shared with tests/ops: ok/bad/expect/contains/finish and ops_start.
. "${TAGPIN_SOURCE_DIR:?}/tests/ops/lib.sh"
cleanup() { [ -n "$tp_pid" ] && kill "$tp_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

bash "$src/.ci/dev-cert" "$work/tls" || exit 1
cases=$src/tests/cases
# reloadInterval 0s: only SIGHUP reloads here (tests/ops/reload covers file changes).
cat > "$work/policy.yaml" <<YAML
defaultAction: allow
server:
  auditLog: $work/audit.log
  reloadInterval: 0s
  shutdownDelay: 0s
YAML

start() {
  ops_start "$work/policy.yaml" "$work/tls/server.pem" "$work/tls/server.key"
  pid=$tp_pid
}
req() { # req METHOD PATH [BODYFILE] -> prints "STATUS BODY"
  local args=(-sS --max-time 10 --cacert "$work/tls/ca.pem" -X "$1" -o "$work/body" -w '%{http_code}')
  [ -n "${3:-}" ] && args+=(-H 'Content-Type: application/json' --data-binary "@$3")
  local code; code=$(curl "${args[@]}" "$base$2")
  echo "$code $(tr -d '\n' < "$work/body")"
}
# reloads RESULT N: waits (bounded) until N reloads with RESULT were counted.
reloads() {
  local v
  for _ in $(seq 1 200); do
    v=$(curl -sS --max-time 5 "http://127.0.0.1:$mport/metrics" | sed -n "s/^tagpin_policy_reloads_total{result=\"$1\"} //p")
    [ "$v" = "$2" ] && return 0
    sleep 0.05
  done
  echo "reloads $1: want $2 got $v"; return 1
}
field() { PYENV_VERSION=system python3 -c "import json,sys; r=json.load(sys.stdin)['response']; print($1)"; }

start
expect healthz "200 ok" "$(req GET /healthz)"
expect readyz "200 ready" "$(req GET /readyz)"

out=$(req POST '/mutate?timeout=10s' "$cases/deployment-latest/request.json")
expect "mutate denies latest: status" 200 "${out%% *}"
expect "mutate denies latest: allowed" False "$(echo "${out#* }" | field "r['allowed']")"
contains "mutate denies latest: message" 'rule \"deny-latest\"' "$(echo "${out#* }" | field "json.dumps(r['status']['message'])")"
expect "uid echoed" "$(PYENV_VERSION=system python3 -c "import json; print(json.load(open('$cases/deployment-latest/request.json'))['request']['uid'])")" \
  "$(echo "${out#* }" | field "r['uid']")"

out=$(req POST /validate "$cases/deployment-pinned/request.json")
expect "validate allows a digest" "200 True" "${out%% *} $(echo "${out#* }" | field "r['allowed']")"

printf '{"kind": "AdmissionReview", ' > "$work/broken.json"
out=$(req POST /mutate "$work/broken.json")
expect "malformed JSON: 400" 400 "${out%% *}"
contains "malformed JSON: reason" "not JSON" "$out"
contains "not a review: reason" "not an AdmissionReview" "$(req POST /mutate "$cases/invalid-not-review/request.json")"
expect "deep nesting: 400" 400 "$(req POST /mutate "$cases/invalid-deep-nesting/request.json" | cut -d' ' -f1)"
expect "empty body: 400" 400 "$(req POST /mutate | cut -d' ' -f1)"
expect "GET /mutate: 405" 405 "$(req GET /mutate | cut -d' ' -f1)"
allow=$(curl -sS --cacert "$work/tls/ca.pem" -o /dev/null -D - "$base/mutate" | tr -d '\r' | sed -n 's/^[Aa]llow: //p')
expect "405 names the method" POST "$allow"
expect "unknown path: 404" 404 "$(req POST /nope "$cases/deployment-latest/request.json" | cut -d' ' -f1)"

head -c $((4 * 1024 * 1024)) /dev/zero | tr '\0' ' ' > "$work/big.json"
expect "oversized (Content-Length): 413" 413 "$(req POST /mutate "$work/big.json" | cut -d' ' -f1)"
code=$(curl -sS --max-time 20 --cacert "$work/tls/ca.pem" -H 'Transfer-Encoding: chunked' \
  --data-binary "@$work/big.json" -o /dev/null -w '%{http_code}' "$base/mutate")
expect "oversized (chunked): 413" 413 "$code"

# Keep-alive: three requests in one curl run open exactly one connection.
conns=$(curl -sS --cacert "$work/tls/ca.pem" -o /dev/null -o /dev/null -o /dev/null \
  -w '%{num_connects}\n' "$base/healthz" "$base/readyz" "$base/healthz" | paste -sd' ')
expect "keep-alive reuses one connection" "1 0 0" "$conns"

# Concurrency: 20 reviews at once all get their own answer.
curls=()
for i in $(seq 1 20); do
  curl -sS --max-time 10 --cacert "$work/tls/ca.pem" -o "$work/c$i" -w '%{http_code}\n' \
    --data-binary "@$cases/deployment-untagged-and-main/request.json" "$base/mutate" > "$work/code$i" &
  curls+=($!)
done
wait "${curls[@]}"
n200=$(cat "$work"/code* | grep -c '^200$')
expect "20 concurrent reviews answered" 20 "$n200"

# Audit: one record per review that touched images, with the decision.
denied=$(grep -c '"decision":"denied"' "$work/audit.log")
[ "$denied" -ge 21 ] && ok "audit records for denials ($denied)" || bad "audit records for denials: $denied"
contains "audit record names the rule" '"rule":"deny-latest"' "$(head -1 "$work/audit.log")"

# SIGHUP: a good policy takes effect, a bad one is refused and the old stays.
printf 'mode: warn\nserver:\n  auditLog: %s\n  reloadInterval: 0s\n' "$work/audit.log" > "$work/policy.yaml"
kill -HUP "$pid"; reloads ok 1 || bad "SIGHUP reload counted"
expect "reload to warn mode admits latest" True \
  "$(req POST /mutate "$cases/deployment-latest/request.json" | cut -d' ' -f2- | field "r['allowed']")"
printf 'mode: sometimes\n' > "$work/policy.yaml"
kill -HUP "$pid"; reloads error 1 || bad "SIGHUP refusal counted"
contains "bad policy refused with line and column" "policy.yaml:1:7" "$(cat "$work/stderr.log")"
expect "old policy stays after a bad reload" True \
  "$(req POST /mutate "$cases/deployment-latest/request.json" | cut -d' ' -f2- | field "r['allowed']")"

# Metrics after the known sequence above: exact counter values.
metrics=$(curl -sS --max-time 5 "http://127.0.0.1:$mport/metrics")
contains "metrics: 21 denied Deployment creates" \
  'tagpin_admission_requests_total{operation="CREATE",kind="Deployment",decision="denied"} 21' "$metrics"
contains "metrics: 2 warned after reload" \
  'tagpin_admission_requests_total{operation="CREATE",kind="Deployment",decision="warned"} 2' "$metrics"
contains "metrics: 1 allowed /validate" \
  'tagpin_admission_requests_total{operation="CREATE",kind="Deployment",decision="allowed"} 1' "$metrics"
contains "metrics: latency histogram" 'tagpin_admission_duration_seconds_count' "$metrics"
contains "metrics: certificate expiry known" 'tagpin_certificate_expiry_timestamp_seconds 1' "$metrics"

kill -TERM "$pid"; wait "$pid"; rc=$?; tp_pid=
expect "SIGTERM exits 0" 0 "$rc"

finish
