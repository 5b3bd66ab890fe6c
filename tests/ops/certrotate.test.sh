#!/usr/bin/env bash
# Certificate rotation as cert-manager and the kubelet do it (a Secret
# volume's ..data symlink swapped): a keep-alive client keeps working with no
# failed request, new connections get the new certificate, a pair whose key
# does not match is refused with a log line and the current one stays.
set -uo pipefail
work=$(mktemp -d /tmp/tagpin-ops-cert.XXXXXX)
. "${TAGPIN_SOURCE_DIR:?}/tests/ops/lib.sh"
cleanup() { [ -n "$tp_pid" ] && kill "$tp_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

ops_certs "$work/certs" || { echo "FAIL openssl"; exit 1; }
ops_volume "$work/tls" "$work/certs/a.pem" "$work/certs/a.key"
cat > "$work/policy.yaml" <<YAML
server:
  auditLog: "off"
  reloadInterval: 200ms
  shutdownDelay: 0s
YAML
ops_start "$work/policy.yaml" "$work/tls/tls.crt" "$work/tls/tls.key"

if ops_python "$ops_dir/certrotate_check.py" "$ops_dir" "$port" "$mport" "$work/certs/ca.pem" \
    "$work/tls" "$work/certs"; then ok "rotation under keep-alive traffic"; else bad "rotation under keep-alive traffic"; fi
contains "refused pair logged" "certificate reload refused, the previous certificate stays in force" "$(cat "$work/stderr.log")"
contains "rotation logged with the new serial" "certificate reloaded, serial 0b" "$(cat "$work/stderr.log")"

# SIGHUP re-reads the files too: back to a, which new connections then see.
ops_volume "$work/tls" "$work/certs/a.pem" "$work/certs/a.key"
kill -HUP "$tp_pid"
serial=$(ops_python - "$ops_dir" "$port" "$mport" "$work/certs/ca.pem" <<'PY'
import sys; sys.path.insert(0, sys.argv[1]); import opsclient as oc
oc.wait_for("reload", lambda: oc.metrics(int(sys.argv[3])).get('tagpin_certificate_reloads_total{result="ok"}') == 2)
print("%x" % oc.new_connection_serial(int(sys.argv[2]), sys.argv[4]))
PY
)
expect "after SIGHUP new connections see a again" a "$serial"

ops_stop; expect "SIGTERM exits 0" 0 "$?"
ops_check_sanitizers
finish
