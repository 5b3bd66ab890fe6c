#!/usr/bin/env bash
# Policy reloads, by file change and by SIGHUP, with good and bad files,
# under concurrent keep-alive traffic: no request fails, the verdict flips
# when a good policy lands, a bad one is refused with its line and column,
# and a file touched without a change reloads nothing.
set -uo pipefail
work=$(mktemp -d /tmp/tagpin-ops-reload.XXXXXX)
. "${TAGPIN_SOURCE_DIR:?}/tests/ops/lib.sh"
cleanup() { [ -n "$tp_pid" ] && kill "$tp_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

ops_certs "$work/certs" || { echo "FAIL openssl"; exit 1; }
ops_volume "$work/tls" "$work/certs/a.pem" "$work/certs/a.key"
printf 'mode: enforce\nserver:\n  auditLog: "off"\n  reloadInterval: 200ms\n  shutdownDelay: 0s\n' > "$work/policy.yaml"
ops_start "$work/policy.yaml" "$work/tls/tls.crt" "$work/tls/tls.key"

if ops_python "$ops_dir/reload_check.py" "$ops_dir" "$port" "$mport" "$work/certs/ca.pem" \
    "$work/policy.yaml" "$tp_pid"; then ok "reloads under concurrent traffic"; else bad "reloads under concurrent traffic"; fi
log=$(cat "$work/stderr.log")
contains "bad policy refused with file, line and column" "policy reload refused, the previous policy stays in force: $work/policy.yaml:1:7" "$log"
contains "good reload logged" "policy reloaded from $work/policy.yaml" "$log"

# Same bytes under a new inode (a ConfigMap resync): SIGHUP still reloads,
# but the watcher must not. Turn the watcher back on first.
printf 'mode: warn\nserver:\n  auditLog: "off"\n  reloadInterval: 100ms\n' > "$work/policy.yaml"
kill -HUP "$tp_pid"
before=$(ops_python - "$ops_dir" "$mport" <<'PY'
import sys; sys.path.insert(0, sys.argv[1]); import opsclient as oc
print(int(oc.wait_for("reload", lambda: oc.metrics(int(sys.argv[2])).get('tagpin_policy_reloads_total{result="ok"}') == 4 and 4)))
PY
)
expect "SIGHUP reload counted" 4 "$before"
cp "$work/policy.yaml" "$work/policy.new" && mv "$work/policy.new" "$work/policy.yaml"
# Then rotate the certificate: the watcher checks the policy before the
# certificate in each pass, so once the rotation is counted it has seen the
# policy's new inode too.
ops_volume "$work/tls" "$work/certs/b.pem" "$work/certs/b.key"
after=$(ops_python - "$ops_dir" "$mport" <<'PY'
import sys; sys.path.insert(0, sys.argv[1]); import opsclient as oc
m = oc.wait_for("rotation", lambda: (lambda m: m.get('tagpin_certificate_reloads_total{result="ok"}') == 1 and m)(oc.metrics(int(sys.argv[2]))))
print(int(m['tagpin_policy_reloads_total{result="ok"}']))
PY
)
expect "unchanged content under a new inode reloads nothing" 4 "$after"

ops_stop; expect "SIGTERM exits 0" 0 "$?"
ops_check_sanitizers
finish
