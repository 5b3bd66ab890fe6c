#!/usr/bin/env bash
# /metrics after a known sequence of reviews against a real registry
# (tests/registry kit, docker-registry 2.8) and the fault server (429, 500,
# 404, a dropped connection): exact admission, registry, resolution and
# cache counters, and a token-auth registry's Bearer flow, checked against
# the registries' own counts.
set -uo pipefail  # not -e: the kit's functions return the status of their last test
work=$(mktemp -d /tmp/tagpin-ops-metrics.XXXXXX)
. "${TAGPIN_SOURCE_DIR:?}/tests/ops/lib.sh"
. "$src/tests/registry/lib.sh"
cleanup() { [ -n "$tp_pid" ] && kill "$tp_pid" 2>/dev/null; reg_stop_all; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

reg_tmpdir D
reg_start R plain "$D" >/dev/null
[ -n "${R_HOST:-}" ] || { echo "FAIL registry did not start"; exit 1; }
reg_start_fault F "$D" plain >/dev/null
[ -n "${F_HOST:-}" ] || { echo "FAIL fault server did not start"; exit 1; }
reg_start T token "$D" >/dev/null
[ -n "${T_HOST:-}" ] || { echo "FAIL token registry did not start"; exit 1; }
reg_push --name R image oci public/app:v1 > "$D/app.json" || { echo "FAIL push"; exit 1; }
reg_push --name T image oci public/tok:v1 > "$D/tok.json" || { echo "FAIL push"; exit 1; }

bash "$src/.ci/dev-cert" "$work/tls" >/dev/null || { echo "FAIL dev-cert"; exit 1; }
cat > "$work/policy.yaml" <<YAML
registry:
  caFile: $T_CA
  insecure: ["$R_HOST", "$F_HOST"]
  allow: ["127.0.0.1*"]
server:
  auditLog: "off"
  shutdownDelay: 0s
YAML
mark=$(reg_log_mark R); tmark=$(reg_log_mark T); tokmark=$(wc -l < "$T_TOKEN_LOG")
ops_start "$work/policy.yaml" "$work/tls/server.pem" "$work/tls/server.key"
if ops_python "$ops_dir/metrics_check.py" "$ops_dir" "$port" "$mport" "$work/tls/ca.pem" \
    "$R_HOST" "$F_HOST" "$T_HOST"; then ok "exact metrics after the sequence"; else bad "exact metrics after the sequence"; fi
expect "registry R served exactly one manifest request" 1 "$(reg_log_count R '*' '^/v2/public/' '*' "$mark")"
expect "registry T: one 401, then one 200" "1 1" "$(reg_log_count T HEAD '^/v2/public/tok/manifests/v1$' 401 "$tmark") $(reg_log_count T HEAD '^/v2/public/tok/manifests/v1$' 200 "$tmark")"
expect "token server issued one token" 1 "$(reg_token_count T "$tokmark")"

ops_stop; expect "SIGTERM exits 0" 0 "$?"
ops_check_sanitizers
finish
