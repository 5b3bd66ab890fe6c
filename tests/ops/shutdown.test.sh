#!/usr/bin/env bash
# SIGTERM with requests in flight (slow registry from the fault server):
# /readyz turns 503 at once, the listener closes, in-flight reviews finish
# with 200 and the process exits 0 while an idle keep-alive connection is
# still open. With a grace shorter than the requests, it exits 0 anyway.
set -uo pipefail  # not -e: the kit's functions return the status of their last test
work=$(mktemp -d /tmp/tagpin-ops-shutdown.XXXXXX)
. "${TAGPIN_SOURCE_DIR:?}/tests/ops/lib.sh"
. "$src/tests/registry/lib.sh"
cleanup() { [ -n "$tp_pid" ] && kill -9 "$tp_pid" 2>/dev/null; reg_stop_all; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

reg_tmpdir D
REG_FAULT_SLOW_SECONDS=4 reg_start_fault F "$D" plain >/dev/null
[ -n "${F_HOST:-}" ] || { echo "FAIL fault server did not start"; exit 1; }
bash "$src/.ci/dev-cert" "$work/tls" >/dev/null || { echo "FAIL dev-cert"; exit 1; }

# run NAME DELAY GRACE EXPECT: one server, 4 slow reviews, SIGTERM, exit status.
run() {
  cat > "$work/policy.yaml" <<YAML
registry:
  insecure: ["$F_HOST"]
  allow: ["127.0.0.1*"]
server:
  auditLog: "off"
  shutdownDelay: $2
  shutdownGrace: $3
YAML
  curl -sS -X POST "http://$F_HOST/_control/reset" >/dev/null
  ops_start "$work/policy.yaml" "$work/tls/server.pem" "$work/tls/server.key"
  local pid=$tp_pid
  if ops_python "$ops_dir/shutdown_check.py" "$ops_dir" "$port" "$mport" "$work/tls/ca.pem" "$F_HOST" \
      "$pid" 4 "$4"; then ok "$1: drain checks"; else bad "$1: drain checks"; fi
  # The process must end by itself (the idle connection is gone, but it
  # must not matter); bounded so a hang fails instead of stalling ctest.
  local waited=0
  while kill -0 "$pid" 2>/dev/null && [ $waited -lt 300 ]; do sleep 0.1; waited=$((waited + 1)); done
  if kill -0 "$pid" 2>/dev/null; then bad "$1: still running 30 s after SIGTERM"; kill -9 "$pid"; fi
  wait "$pid"; expect "$1: exit status 0" 0 "$?"
  tp_pid=
  code=$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$work/tls/ca.pem" --max-time 5 "https://127.0.0.1:$port/healthz" 2>/dev/null)
  expect "$1: listener closed" 000 "$code"
  ops_check_sanitizers
}

run "within grace" 1s 20s complete
contains "drain logged" "received SIGTERM: /readyz fails now" "$(cat "$work/stderr.log")"
contains "in-flight finished logged" "in-flight requests finished" "$(cat "$work/stderr.log")"
run "grace exceeded" 0s 1s cut
contains "grace exceeded logged" "shutdown grace over with 4 requests still running" "$(cat "$work/stderr.log")"
finish
