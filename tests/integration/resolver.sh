#!/bin/bash
# The resolver against real registries (Debian's docker-registry in plain,
# TLS, token and htpasswd modes) and the kit's fault server, through
# resolve_driver. Every digest is compared with sha256 of the bytes push.py
# sent; request counts come from the registries' access logs.
set -u
: "${TAGPIN_SOURCE_DIR:?}" "${TAGPIN_BUILD_DIR:?}"
. "$TAGPIN_SOURCE_DIR/tests/registry/lib.sh"
. "$TAGPIN_SOURCE_DIR/tests/integration/lib_driver.sh"
trap 'drv_close; reg_stop_all' EXIT
[ -x "$DRIVER" ] || { echo "missing $DRIVER"; exit 1; }
reg_tmpdir D || exit 1

section_plain() {
  reg_start P plain "$D" >/dev/null || exit 1
  reg_push --name P standard > "$D/p.json" || exit 1
  drv_open "$D" --insecure "$P_HOST" --ttl-ms 600000
  local kind repo out
  for kind in oci docker oci_index docker_list oci_index_amd64; do
    repo=$(pushed "$D/p.json" "$kind" reference)
    out=$(drv resolve "$repo")
    expect_eq "plain $kind digest = sha256 of pushed bytes" "$(jf "$out" digest)" \
      "$(pushed "$D/p.json" "$kind" digest)"
    expect_eq "plain $kind media type" "$(jf "$out" media_type)" \
      "$(pushed "$D/p.json" "$kind" media_type)"
  done
  out=$(drv resolve "$P_HOST/public/oci-index:v1")
  expect_eq "oci index platforms" "$(jf "$out" platforms)" "linux/amd64,linux/arm64"
  expect_eq "oci index is an index" "$(jf "$out" index)" true
  out=$(drv resolve "$P_HOST/public/docker-list:v1")
  expect_eq "docker list platforms" "$(jf "$out" platforms)" "linux/amd64,linux/arm64/v8"
  out=$(drv resolve "$P_HOST/public/oci-index-amd64:v1")
  expect_eq "index without arm64 reports its platforms" "$(jf "$out" platforms)" "linux/amd64"

  local mark; mark=$(reg_log_mark P)
  out=$(drv resolve "$P_HOST/public/oci:v1")
  expect_eq "cache hit source" "$(jf "$out" source)" cache
  expect_eq "cache hit makes no request (log)" "$(reg_log_count P '*' '.*' '*' "$mark")" 0
  out=$(drv resolve "$P_HOST/public/missing:v1")
  expect_eq "missing tag" "$(jf "$out" code)" TP_NOT_FOUND
  expect_contains "404 message names registry and repository" "$(jf "$out" error)" \
    "404 from $P_HOST for public/missing:v1"
  mark=$(reg_log_mark P)
  out=$(drv resolve "$P_HOST/public/missing:v1")
  expect_eq "404 is cached" "$(reg_log_count P '*' '.*' '*' "$mark"),$(jf "$out" code)" "0,TP_NOT_FOUND"
  drv_close

  # 50 concurrent resolutions of one tag share one request.
  drv_open "$D" --insecure "$P_HOST"
  mark=$(reg_log_mark P)
  out=$(drv concurrent 50 "$P_HOST/public/docker:v1")
  expect_eq "50 concurrent: all ok, one digest" "$(jf "$out" ok),$(jf "$out" distinct_digests)" "50,1"
  expect_eq "50 concurrent: driver counts one request" "$(jf "$out" requests)" 1
  expect_eq "50 concurrent: registry log has one request" "$(reg_log_count P '*' '.*' '*' "$mark")" 1
  drv_close

  # A re-pushed tag: the new digest after the TTL, counted as moved.
  drv_open "$D" --insecure "$P_HOST" --ttl-ms 300
  out=$(drv resolve "$P_HOST/public/moving:v1")
  expect_eq "moving tag first digest" "$(jf "$out" digest)" "$(pushed "$D/p.json" repushed digest)"
  reg_push --name P image oci public/moving:v1 > "$D/moved.json" || exit 1
  local new; new=$(PYENV_VERSION=system /usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["digest"])' "$D/moved.json")
  drv sleep 400 >/dev/null
  out=$(drv resolve "$P_HOST/public/moving:v1")
  expect_eq "moved tag resolves to the new digest" "$(jf "$out" digest)" "$new"
  out=$(drv stats)
  expect_eq "moved tag counted" "$(jf "$out" moved_tags)" 1
  drv_close
  expect_contains "moved tag logged" "$(cat "$D/drv.err")" '"msg":"tag moved"'

  # The allow-list refuses before any I/O.
  drv_open "$D" --insecure "$P_HOST" --allow "ghcr.io" --allow "*.example.com"
  mark=$(reg_log_mark P)
  out=$(drv resolve "$P_HOST/public/oci:v1")
  expect_eq "registry outside allow-list refused" "$(jf "$out" code)" TP_FORBIDDEN
  expect_eq "refused without a request" "$(reg_log_count P '*' '.*' '*' "$mark")" 0
  drv_close
}

section_tls() {
  reg_start T tls "$D" >/dev/null || exit 1
  reg_push --name T image docker-list public/list:v1 > "$D/t.json" || exit 1
  local want; want=$(PYENV_VERSION=system /usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["digest"])' "$D/t.json")
  drv_open "$D" --ca-file "$T_CA"
  local out; out=$(drv resolve "$T_HOST/public/list:v1")
  expect_eq "tls with the test CA" "$(jf "$out" digest)" "$want"
  drv_close
  drv_open "$D"
  out=$(drv resolve "$T_HOST/public/list:v1")
  expect_eq "tls without the CA fails" "$(jf "$out" code)" TP_TLS
  drv_close
}

section_token() {
  reg_start K token "$D" >/dev/null || exit 1
  reg_push --name K standard > "$D/k.json" || exit 1
  reg_push --name K image oci public/oci:v2 > "$D/k2.json" || exit 1
  drv_open "$D" --ca-file "$K_CA"
  local out mark tmark
  out=$(drv resolve "$K_HOST/public/oci:v1")
  expect_eq "token anonymous public" "$(jf "$out" digest)" "$(pushed "$D/k.json" oci digest)"
  mark=$(reg_log_mark K); tmark=$(wc -l < "$K_TOKEN_LOG")
  out=$(drv resolve "$K_HOST/public/oci:v2")
  expect_eq "cached token: one request per new tag" "$(reg_log_count K '*' '.*' '*' "$mark")" 1
  expect_eq "cached token: that request is the HEAD" \
    "$(reg_log_count K HEAD '^/v2/public/oci/manifests/v2$' 200 "$mark")" 1
  expect_eq "cached token: no new token" "$(reg_token_count K "$tmark")" 0
  out=$(drv resolve "$K_HOST/private/app:v1")
  expect_eq "private repo without credentials" "$(jf "$out" code)" TP_AUTH
  expect_contains "hint names the registry" "$(jf "$out" error)" \
    "add credentials for $K_HOST to the registry credentials secret"
  drv_close

  drv_open "$D" --ca-file "$K_CA" --auth-file "$K_AUTHFILE"
  out=$(drv resolve "$K_HOST/private/app:v1")
  expect_eq "private repo with docker config credentials" "$(jf "$out" digest)" \
    "$(pushed "$D/k.json" private digest)"
  drv_close

  # Wrong password: a clear error that never quotes the secret.
  local bad="wrong-$RANDOM-secret"
  printf '{"auths":{"https://%s/v1/":{"username":"alice","password":"%s"}}}' "$K_HOST" "$bad" > "$D/bad.json"
  drv_open "$D" --ca-file "$K_CA" --auth-file "$D/bad.json"
  out=$(drv resolve "$K_HOST/private/app:v1")
  expect_eq "refused credentials" "$(jf "$out" code)" TP_AUTH
  expect_contains "refused credentials message" "$(jf "$out" error)" "credentials were refused"
  case "$out$(cat "$D/drv.err")" in *"$bad"*) echo "FAIL secret leaked"; FAILS=$((FAILS + 1));; *) echo "ok   secret not in output";; esac
  drv_close
}

section_htpasswd() {
  reg_start H htpasswd "$D" >/dev/null || exit 1
  reg_push --name H image oci team/app:v1 > "$D/h.json" || exit 1
  local want; want=$(PYENV_VERSION=system /usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["digest"])' "$D/h.json")
  drv_open "$D" --ca-file "$H_CA" --auth-file "$H_AUTHFILE"
  local out; out=$(drv resolve "$H_HOST/team/app:v1")
  expect_eq "htpasswd basic auth" "$(jf "$out" digest)" "$want"
  drv_close
  drv_open "$D" --ca-file "$H_CA"
  out=$(drv resolve "$H_HOST/team/app:v1")
  expect_eq "htpasswd without credentials" "$(jf "$out" code)" TP_AUTH
  drv_close
}

fault_info() { curl -sf --cacert "$F_CA" "$F_URL/_control/info"; }
fault_count() { # PATH: requests the fault server saw for PATH
  curl -sf --cacert "$F_CA" "$F_URL/_control/stats" | PYENV_VERSION=system /usr/bin/python3 -c '
import json, sys
s = json.load(sys.stdin)["paths"]
print(sum(v["count"] for k, v in s.items() if k.split(" ", 1)[1] == sys.argv[1]))' "$1"
}

section_faults() {
  reg_start_fault F "$D" >/dev/null || exit 1
  local info single index out
  info=$(fault_info)
  single=$(PYENV_VERSION=system /usr/bin/python3 -c 'import json,sys; print(json.loads(sys.argv[1])["single"]["digest"])' "$info")
  index=$(PYENV_VERSION=system /usr/bin/python3 -c 'import json,sys; print(json.loads(sys.argv[1])["index"]["digest"])' "$info")
  drv_open "$D" --ca-file "$F_CA" --deadline-ms 1500
  out=$(drv resolve "$F_HOST/slow/x:v1")
  expect_eq "slow registry: deadline" "$(jf "$out" code)" TP_TIMEOUT
  expect_lt "slow registry: gave up near the deadline" "$(jf "$out" elapsed_ms)" 3500
  out=$(drv resolve "$F_HOST/ratelimit-always/x:v1")
  expect_eq "429 beyond the deadline" "$(jf "$out" code)" TP_RATE_LIMITED
  expect_contains "429 message" "$(jf "$out" error)" "429 from $F_HOST for ratelimit-always/x:v1"
  drv_close

  drv_open "$D" --ca-file "$F_CA" --ttl-ms 300
  out=$(drv resolve "$F_HOST/ratelimit/x:v1")
  expect_eq "429 + Retry-After retried" "$(jf "$out" digest)" "$single"
  expect_eq "429 retried once" "$(fault_count /v2/ratelimit/x/manifests/v1)" 2
  out=$(drv resolve "$F_HOST/error500/x:v1")
  expect_eq "500 is an error" "$(jf "$out" code),$(jf "$out" http_status)" "TP_REGISTRY,500"
  expect_contains "500 message" "$(jf "$out" error)" "500 from $F_HOST for error500/x:v1"
  expect_eq "500 not retried" "$(fault_count /v2/error500/x/manifests/v1)" 1
  out=$(drv resolve "$F_HOST/error503-once/x:v1")
  expect_eq "503 retried" "$(jf "$out" digest)" "$single"
  out=$(drv resolve "$F_HOST/nodigest/x:v1")
  expect_eq "HEAD without digest: GET + hash" "$(jf "$out" digest)" "$single"
  out=$(drv resolve "$F_HOST/nohead/x:v1")
  expect_eq "HEAD refused: GET + hash" "$(jf "$out" digest)" "$single"
  # Before any good fetch of the index: index bodies are cached by digest.
  out=$(drv resolve "$F_HOST/baddigest/index/x:v1")
  expect_eq "bad index digest refused" "$(jf "$out" code)" TP_DIGEST_MISMATCH
  out=$(drv resolve "$F_HOST/ok/index/x:v1")
  expect_eq "fault index digest" "$(jf "$out" digest)" "$index"
  expect_eq "fault index platforms" "$(jf "$out" platforms)" "linux/amd64,linux/arm64"
  out=$(drv resolve "$F_HOST/baddigest/x:v1")
  expect_eq "bad digest refused" "$(jf "$out" code)" TP_DIGEST_MISMATCH
  out=$(drv resolve "$F_HOST/baddigest/x:v1")
  expect_eq "bad digest not cached" "$(jf "$out" code),$(jf "$out" source)" "TP_DIGEST_MISMATCH,registry"
  expect_eq "bad digest asked again" "$(fault_count /v2/baddigest/x/manifests/v1)" 4
  out=$(drv resolve "$F_HOST/huge/x:v1")
  expect_eq "huge manifest" "$(jf "$out" code)" TP_TOO_LARGE
  out=$(drv resolve "$F_HOST/huge/nolength/x:v1")
  expect_eq "huge manifest without length" "$(jf "$out" code)" TP_TOO_LARGE
  local v
  for v in unterminated norealm noscheme; do
    out=$(drv resolve "$F_HOST/badauth/$v/x:v1")
    expect_eq "malformed WWW-Authenticate ($v)" "$(jf "$out" code)" TP_AUTH
    expect_contains "malformed WWW-Authenticate ($v) message" "$(jf "$out" error)" "401 from $F_HOST"
  done
  out=$(drv resolve "$F_HOST/badauth/huge/x:v1")
  expect_eq "64 KiB WWW-Authenticate" "$(jf "$out" code)" TP_TOO_LARGE
  expect_contains "64 KiB WWW-Authenticate message" "$(jf "$out" error)" "headers from $F_HOST are over"
  out=$(drv resolve "$F_HOST/badauth/metadata/x:v1")
  expect_eq "token realm on the metadata address refused" "$(jf "$out" code)" TP_FORBIDDEN
  out=$(drv resolve "$F_HOST/badtoken/valid/x:v1")
  expect_eq "token flow on the fault server" "$(jf "$out" digest)" "$single"
  for v in huge nonstring error garbage; do
    out=$(drv resolve "$F_HOST/badtoken/$v/x:v1")
    expect_eq "broken token endpoint ($v)" "$(jf "$out" code)" \
      "$([ $v = huge ] && echo TP_TOO_LARGE || echo TP_AUTH)"
  done
  # Stale: a success, then the registry fails after the TTL.
  out=$(drv resolve "$F_HOST/flaky/x:v1")
  expect_eq "flaky first answer" "$(jf "$out" digest),$(jf "$out" source)" "$single,registry"
  drv sleep 400 >/dev/null
  out=$(drv resolve "$F_HOST/flaky/x:v1")
  expect_eq "stale served when the registry fails" "$(jf "$out" digest),$(jf "$out" source),$(jf "$out" code)" \
    "$single,stale,TP_OK"
  expect_contains "stale answer says why" "$(jf "$out" error)" "503 from $F_HOST"
  drv_close
}

section_plain
section_tls
section_token
section_htpasswd
section_faults
drv_close
echo "$FAILS failed checks"
[ "$FAILS" -eq 0 ]
