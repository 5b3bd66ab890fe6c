#!/usr/bin/env bash
# shellcheck disable=SC2154 # NAME_* variables are exported by reg_start via eval
# Proves the registry kit itself: every mode starts, every image kind pushes,
# curl sees the digests push.py computed, auth behaves, the access log counts
# requests, the fault server answers as documented, and cleanup stops all.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/lib.sh"
trap reg_stop_all EXIT

failures=0
pass() { echo "ok   - $*"; }
fail() { echo "FAIL - $*"; failures=$((failures + 1)); }
check_eq() { # check_eq WHAT EXPECTED ACTUAL
  if [ "$2" = "$3" ]; then pass "$1"; else fail "$1: expected '$2', got '$3'"; fi
}
check_ne() {
  if [ "$2" != "$3" ]; then pass "$1"; else fail "$1: both '$2'"; fi
}

# jflat FILE: one python call turns JSON into FILE.flat lines "a.b.0.c<TAB>value"
# (scalars, and containers as compact JSON) so jget needs no interpreter.
jflat() {
  reg_python - "$1" > "$1.flat" <<'EOF'
import json, sys
def walk(prefix, d):
    if isinstance(d, (dict, list)):
        print("%s\t%s" % (prefix, json.dumps(d, sort_keys=True)))
        items = d.items() if isinstance(d, dict) else enumerate(d)
        for k, v in items:
            walk("%s.%s" % (prefix, k) if prefix else str(k), v)
    else:
        print("%s\t%s" % (prefix, d))
walk("", json.load(open(sys.argv[1])))
EOF
}
jget() { # jget FILE a.b.0.c (after jflat FILE)
  awk -F '\t' -v k="$2" '$1 == k { print $2; found = 1; exit } END { exit !found }' "$1.flat"
}

ALL_TYPES="application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json"
V2=application/vnd.docker.distribution.manifest.v2+json

reg_tmpdir D || exit 1
reg_require_deps || exit 1

# curl with the registry's CA; credentials (if any) go through a 0600 config
# file so they never show up on a command line or in output.
rcurl() { # rcurl NAME [curl args...]
  local name=$1; shift
  local ca; eval "ca=\${${name}_CA:-}"
  local args=(-s --max-time 20)
  [ -n "$ca" ] && args+=(--cacert "$ca")
  curl "${args[@]}" "$@"
}
header() { # header NAME (from stdin, case-insensitive, HTTP/2 lower-cases)
  tr -d '\r' | awk -v h="$(echo "$1" | tr A-Z a-z)" -F': ' 'tolower($1) == h { print $2 }'
}
status_of() { tr -d '\r' | awk 'NR == 1 { print $2 }'; }

basic_cfg() { # basic_cfg NAME -> path of a curl config with user creds
  local name=$1 user pass; eval "user=\${${name}_USER} pass=\${${name}_PASS}"
  ( umask 077; printf 'user = "%s:%s"\n' "$user" "$pass" > "$D/$name.curlrc" )
  echo "$D/$name.curlrc"
}

bearer_for() { # bearer_for NAME SCOPE [curlrc] -> token
  local name=$1 scope=$2 cfg=${3:-} url
  eval "url=\${${name}_TOKEN_URL}"
  local extra=(); [ -n "$cfg" ] && extra=(-K "$cfg")
  rcurl "$name" "${extra[@]}" "$url?service=tagpin-test-registry&scope=$scope" |
    reg_python -c 'import json,sys; d=json.load(sys.stdin); print(d["token"])'
}

head_digest() { # head_digest NAME REPO TAG [curl auth args...]
  local name=$1 repo=$2 tag=$3 url; shift 3
  eval "url=\${${name}_URL}"
  rcurl "$name" -I -H "Accept: $ALL_TYPES" "$@" "$url/v2/$repo/manifests/$tag" |
    header docker-content-digest
}

images="oci docker oci_index docker_list oci_index_amd64 private repushed"

check_mode() {
  local mode=$1 name=R_$1 auth=()
  reg_start "$name" "$mode" "$D" >/dev/null || { fail "$mode: registry start"; return; }
  pass "$mode: registry answers /v2/"
  if ! reg_push --name "$name" standard > "$D/$mode.json" 2> "$D/$mode.push.err"; then
    fail "$mode: push.py standard: $(tail -n 3 "$D/$mode.push.err")"; return
  fi
  pass "$mode: push.py pushed every kind (and verified by HEAD)"
  jflat "$D/$mode.json"
  case "$mode" in
    htpasswd) auth=(-K "$(basic_cfg "$name")");;
  esac
  local img repo tag want got
  for img in $images; do
    repo=$(jget "$D/$mode.json" "$img.repository"); tag=$(jget "$D/$mode.json" "$img.tag")
    want=$(jget "$D/$mode.json" "$img.digest")
    if [ "$mode" = token ]; then
      local cfg=""; [ "$img" = private ] && cfg=$(basic_cfg "$name")
      auth=(-H "Authorization: Bearer $(bearer_for "$name" "repository:$repo:pull" "$cfg")")
    fi
    got=$(head_digest "$name" "$repo" "$tag" "${auth[@]}")
    check_eq "$mode: curl HEAD $repo:$tag digest = push.py digest" "$want" "$got"
  done
  check_ne "$mode: re-pushed tag has a new digest" \
    "$(jget "$D/$mode.json" repushed.previous_digest)" "$(jget "$D/$mode.json" repushed.digest)"
}

for mode in plain tls token htpasswd; do check_mode "$mode"; done

# --- registry 2.8 behaviour the resolver tests rely on (tls registry) -------
if [ -n "${R_tls_URL:-}" ]; then
  got=$(rcurl R_tls -I -H "Accept: $V2" "$R_tls_URL/v2/public/docker-list/manifests/v1" |
    header docker-content-digest)
  check_eq "2.8: docker list with only v2 Accept is replaced by its amd64 child" \
    "$(jget "$D/tls.json" docker_list.children.0.digest)" "$got"
  got=$(rcurl R_tls -I -H "Accept: $V2" "$R_tls_URL/v2/public/oci/manifests/v1" | status_of)
  check_eq "2.8: OCI manifest without OCI Accept answers 404" 404 "$got"
  got=$(rcurl R_tls -I -H "Accept: $ALL_TYPES" "$R_tls_URL/v2/public/oci-index/manifests/v1" |
    header content-type)
  check_eq "tls: index content type" application/vnd.oci.image.index.v1+json "$got"
  got=$(rcurl R_tls -o /dev/null -w '%{http_code}' "https://localhost:$R_tls_PORT/v2/")
  check_eq "tls: certificate valid for DNS localhost" 200 "$got"
  got=$(openssl x509 -in "$R_tls_CA" -noout 2>/dev/null && openssl verify -CAfile "$R_tls_CA" \
    "$R_tls_DIR/server.pem" 2>&1 | awk '{print $NF}')
  check_eq "tls: server certificate verifies against the kit CA" OK "$got"

  # Access log: three HEADs after a mark are three lines, nothing else.
  mark=$(reg_log_mark R_tls)
  for _ in 1 2 3; do head_digest R_tls public/oci v1 >/dev/null; done
  check_eq "access log: 3 HEADs counted" 3 \
    "$(reg_log_count R_tls HEAD '^/v2/public/oci/manifests/v1$' 200 "$mark")"
  check_eq "access log: nothing else since the mark" 3 "$(reg_log_count R_tls '*' . '*' "$mark")"
  check_eq "access log: no GET counted" 0 "$(reg_log_count R_tls GET . '*' "$mark")"
fi

# --- token auth --------------------------------------------------------------
if [ -n "${R_token_URL:-}" ]; then
  out=$(rcurl R_token -I "$R_token_URL/v2/public/oci/manifests/v1")
  check_eq "token: no token answers 401" 401 "$(echo "$out" | status_of)"
  chal=$(echo "$out" | header www-authenticate)
  case "$chal" in
    *"realm=\"$R_token_TOKEN_URL\""*'scope="repository:public/oci:pull"'*)
      pass "token: challenge names realm and scope";;
    *) fail "token: challenge '$chal'";;
  esac
  tmark=$(wc -l < "$R_token_TOKEN_LOG")
  anon=$(bearer_for R_token repository:private/app:pull)
  got=$(rcurl R_token -I -H "Authorization: Bearer $anon" \
    "$R_token_URL/v2/private/app/manifests/v1" | status_of)
  check_eq "token: anonymous token cannot pull private/app" 401 "$got"
  got=$(head_digest R_token public/oci v1 -H "Authorization: Bearer $(bearer_for R_token repository:public/oci:pull)")
  check_eq "token: anonymous pull of public/oci" "$(jget "$D/token.json" oci.digest)" "$got"
  check_eq "token: server counted 2 tokens" 2 "$(reg_token_count R_token "$tmark")"
  ( umask 077; printf 'user = "alice:wrong-%s"\n' "$RANDOM" > "$D/wrong.curlrc" )
  got=$(rcurl R_token -o /dev/null -w '%{http_code}' -K "$D/wrong.curlrc" \
    "$R_token_TOKEN_URL?service=tagpin-test-registry&scope=repository:private/app:pull")
  check_eq "token: wrong password answers 401" 401 "$got"
  got=$(rcurl R_token "${R_token_TOKEN_URL%/token}/stats" |
    reg_python -c 'import json,sys; print(json.load(sys.stdin)["tokens_issued"] > 0)')
  check_eq "token: /stats counts tokens" True "$got"
  if grep -qF "$R_token_PASS" "$R_token_TOKEN_LOG" "$R_token_LOG" "$D/R_token.err" "$D/R_token-token.err"; then
    fail "token: the password appears in a log"
  else
    pass "token: no log holds the password"
  fi
  got=$(reg_python - "$R_token_AUTHFILE" "$R_token_HOST" <<'EOF2'
import base64, json, os, sys
a = json.load(open(sys.argv[1]))["auths"][sys.argv[2]]["auth"]
print(base64.b64decode(a).decode() == "alice:" + os.environ["R_token_PASS"])
EOF2
)
  check_eq "token: NAME_AUTHFILE holds alice's credentials for NAME_HOST" True "$got"
fi

# --- htpasswd ------------------------------------------------------------------
if [ -n "${R_htpasswd_URL:-}" ]; then
  out=$(rcurl R_htpasswd -I "$R_htpasswd_URL/v2/public/oci/manifests/v1")
  check_eq "htpasswd: no credentials answers 401" 401 "$(echo "$out" | status_of)"
  check_eq "htpasswd: Basic challenge" 'Basic realm="tagpin-test"' \
    "$(echo "$out" | header www-authenticate)"
  got=$(rcurl R_htpasswd -o /dev/null -w '%{http_code}' -K "$D/wrong.curlrc" "$R_htpasswd_URL/v2/")
  check_eq "htpasswd: wrong password answers 401" 401 "$got"
fi

# --- fault server --------------------------------------------------------------
if REG_FAULT_SLOW_SECONDS=2 reg_start_fault F "$D" >/dev/null; then
  rcurl F "$F_URL/_control/info" > "$D/fault.json"; jflat "$D/fault.json"
  single=$(jget "$D/fault.json" single.digest); index=$(jget "$D/fault.json" index.digest)
  fh() { rcurl F -I -H "Accept: $ALL_TYPES" "$F_URL/v2/$1/manifests/${2:-v1}"; }
  check_eq "fault ok: HEAD digest" "$single" "$(fh ok/app | header docker-content-digest)"
  check_eq "fault ok/index: HEAD digest" "$index" "$(fh ok/index | header docker-content-digest)"
  got=$(rcurl F "$F_URL/v2/ok/index/manifests/$index" | sha256sum | awk '{print "sha256:" $1}')
  check_eq "fault ok/index: GET by digest hashes to it" "$index" "$got"
  check_eq "fault ratelimit: first 429" 429 "$(fh ratelimit/a | status_of)"
  check_eq "fault ratelimit: Retry-After" 1 "$(rcurl F -I "$F_URL/v2/ratelimit/b/manifests/v1" | header retry-after)"
  check_eq "fault ratelimit: then 200" 200 "$(fh ratelimit/a | status_of)"
  check_eq "fault error500" 500 "$(fh error500/a | status_of)"
  check_eq "fault nodigest: no header" "" "$(fh nodigest/a | header docker-content-digest)"
  check_eq "fault nohead: 405" 405 "$(fh nohead/a | status_of)"
  rcurl F -D "$D/bd.h" -o "$D/bd.body" "$F_URL/v2/baddigest/a/manifests/v1"
  check_eq "fault baddigest: header claims the real digest" "$single" "$(header docker-content-digest < "$D/bd.h")"
  check_ne "fault baddigest: body hashes elsewhere" "$single" "sha256:$(sha256sum < "$D/bd.body" | awk '{print $1}')"
  check_eq "fault huge: 8 MiB body" 8388608 "$(rcurl F "$F_URL/v2/huge/a/manifests/v1" | wc -c)"
  case "$(fh badauth/a | header www-authenticate)" in
    'Bearer realm="https://127.0.0.1:1/token,service="unterminated') pass "fault badauth: malformed challenge";;
    *) fail "fault badauth: unexpected challenge";;
  esac
  check_eq "fault flaky: first 200" 200 "$(fh flaky/a | status_of)"
  check_eq "fault flaky: then 503" 503 "$(fh flaky/a | status_of)"
  check_eq "fault slow: answers after the delay" 200 "$(fh slow/a | status_of)"
  check_eq "fault slow: a 1 s deadline fails" 28 \
    "$(rcurl F -I --max-time 1 "$F_URL/v2/slow/b/manifests/v1" >/dev/null; echo $?)"
  rcurl F -X POST "$F_URL/_control/fail-all" >/dev/null
  check_eq "fault fail-all: ok/app now 503" 503 "$(fh ok/app | status_of)"
  rcurl F -X POST "$F_URL/_control/recover" >/dev/null
  check_eq "fault recover: ok/app 200" 200 "$(fh ok/app | status_of)"
  rcurl F "$F_URL/_control/stats" > "$D/stats.json"; jflat "$D/stats.json"
  check_eq "fault stats: HEAD ok/app counted 3 times" 3 \
    "$(jget "$D/stats.json" 'paths.HEAD /v2/ok/app/manifests/v1.count')"
  check_eq "fault stats: ratelimit/a 429 then 200" '{"200": 1, "429": 1}' \
    "$(jget "$D/stats.json" 'paths.HEAD /v2/ratelimit/a/manifests/v1.statuses')"
else
  fail "fault server start"
fi

# --- cleanup really stops everything ---------------------------------------------
pids=$REG_KIT_PIDS
ports="${R_plain_PORT:-} ${R_tls_PORT:-} ${R_token_PORT:-} ${R_htpasswd_PORT:-} ${F_PORT:-}"
REG_KEEP=1 reg_stop_all
alive=""
for p in $pids; do kill -0 "$p" 2>/dev/null && alive="$alive $p"; done
check_eq "reg_stop_all: no process left" "" "$alive"
open=""
for p in $ports; do
  curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$p/" 2>/dev/null
  [ $? -ne 7 ] && open="$open $p"
done
check_eq "reg_stop_all: every port closed" "" "$open"
rm -rf "$D"

echo "registry kit selftest: $failures failure(s)"
[ "$failures" -eq 0 ]
