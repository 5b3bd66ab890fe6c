# tests/registry/lib.sh - start real registries (Debian docker-registry 2.8),
# a token server and a fault server on free loopback ports for tests.
#
# Source it; nothing happens until a function is called:
#   . "$TAGPIN_SOURCE_DIR/tests/registry/lib.sh"
#   trap reg_stop_all EXIT
#   reg_tmpdir D; reg_start R token "$D"       # not in $(...): it exports
#   reg_push --name R image oci public/app:v1      # JSON on stdout
# See tests/registry/README.md for every variable reg_start exports.

REG_KIT_DIR=${REG_KIT_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
REG_KIT_PIDS=${REG_KIT_PIDS:-}
REG_KIT_TMPDIRS=${REG_KIT_TMPDIRS:-}

# Debian's python3 (python3-jwt, python3-cryptography), not a pyenv one.
reg_python_bin() {
  if [ -n "${REG_PYTHON:-}" ]; then echo "$REG_PYTHON"
  elif [ -x /usr/bin/python3 ]; then echo /usr/bin/python3
  else command -v python3; fi
}
reg_python() { PYENV_VERSION=system "$(reg_python_bin)" "$@"; }

reg_die() { echo "registry-kit: $*" >&2; return 1; }

# Installs what the kit needs when missing (CI starts from a fresh Debian 12).
reg_require_deps() {
  [ -n "${REG_KIT_DEPS_OK:-}" ] && return 0
  local pkgs=""
  command -v docker-registry >/dev/null 2>&1 || pkgs="$pkgs docker-registry"
  command -v openssl >/dev/null 2>&1 || pkgs="$pkgs openssl"
  command -v htpasswd >/dev/null 2>&1 || pkgs="$pkgs apache2-utils"
  command -v curl >/dev/null 2>&1 || pkgs="$pkgs curl"
  [ -x /usr/bin/python3 ] || pkgs="$pkgs python3"
  if [ -x /usr/bin/python3 ]; then
    /usr/bin/python3 -c 'import jwt' 2>/dev/null || pkgs="$pkgs python3-jwt"
    /usr/bin/python3 -c 'import cryptography' 2>/dev/null || pkgs="$pkgs python3-cryptography"
  else
    pkgs="$pkgs python3-jwt python3-cryptography"
  fi
  [ -z "$pkgs" ] && { REG_KIT_DEPS_OK=1; return 0; }
  [ "$(id -u)" = 0 ] || { reg_die "missing packages:$pkgs (need root to install)"; return 1; }
  echo "registry-kit: installing$pkgs" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $pkgs >/dev/null 2>&1 || {
    apt-get update -qq >/dev/null 2>&1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $pkgs >/dev/null
  } || { reg_die "apt-get install$pkgs failed"; return 1; }
  REG_KIT_DEPS_OK=1
}

# Prints a loopback port that was free a moment ago.
reg_free_port() {
  reg_python -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# reg_make_ca DIR: DIR/ca.pem + ca.key (test CA), DIR/server.pem + server.key
# (127.0.0.1 and localhost as IP and DNS SANs), DIR/token-signer.pem + .key
# (self-signed key the token server signs JWTs with). Idempotent.
reg_make_ca() {
  local d=${1:?reg_make_ca DIR}
  mkdir -p "$d" || return 1
  [ -s "$d/ca.pem" ] && [ -s "$d/server.pem" ] && [ -s "$d/token-signer.pem" ] && return 0
  (
    set -e
    cd "$d"
    openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3 \
      -keyout ca.key -out ca.pem -subj "/CN=tagpin test CA $$" \
      -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -sha256 -keyout server.key -out server.csr \
      -subj "/CN=127.0.0.1" 2>/dev/null
    printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" \
      "basicConstraints=critical,CA:FALSE" \
      "keyUsage=critical,digitalSignature,keyEncipherment" \
      "extendedKeyUsage=serverAuth" > server.ext
    openssl x509 -req -sha256 -days 3 -in server.csr -CA ca.pem -CAkey ca.key \
      -CAcreateserial -out server.pem -extfile server.ext 2>/dev/null
    # distribution verifies the x5c leaf against rootcertbundle; a
    # self-signed signer listed there is its own root.
    openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3 \
      -keyout token-signer.key -out token-signer.pem -subj "/CN=tagpin test token signer $$" \
      -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,digitalSignature,keyCertSign" 2>/dev/null
    chmod 600 ca.key server.key token-signer.key
    rm -f server.csr server.ext
  ) || { reg_die "reg_make_ca $d failed"; return 1; }
}

reg_random_password() {
  head -c 18 /dev/urandom | base64 | tr '+/' '-_'
}

# The first tracked pid or directory starts a watchdog: if this shell dies
# without running its trap (e.g. ctest's timeout kill), it stops the recorded
# pids and removes the recorded directories. State: "pid N" / "dir PATH" lines.
reg_kit_watch() {
  [ -n "${REG_KIT_STATE:-}" ] && return 0
  REG_KIT_STATE=$(mktemp "${TMPDIR:-/tmp}/tagpin-reg-state.XXXXXX") || return 1
  local parent=$$ state=$REG_KIT_STATE keep=${REG_KEEP:-}
  ( trap - EXIT
    while kill -0 "$parent" 2>/dev/null && [ -f "$state" ]; do sleep 1; done
    [ -f "$state" ] || exit 0
    pids=$(awk '$1 == "pid" { print $2 }' "$state")
    # shellcheck disable=SC2086 # one pid per word, splitting intended
    [ -n "$pids" ] && { kill $pids; sleep 2; kill -9 $pids; }
    [ -z "$keep" ] && awk '$1 == "dir" { print substr($0, 5) }' "$state" |
      while IFS= read -r dir; do rm -rf "$dir"; done
    rm -f "$state" ) >/dev/null 2>&1 </dev/null &
  REG_KIT_WATCHDOG=$!
}

# Records a child pid so reg_stop_all ends it (and only it).
reg_track_pid() {
  REG_KIT_PIDS="$REG_KIT_PIDS $1"
  reg_kit_watch && echo "pid $1" >> "$REG_KIT_STATE"
}

# reg_wait_file FILE PID WHAT: waits (bounded) until FILE is non-empty.
reg_wait_file() {
  local f=$1 pid=$2 what=$3
  for _ in $(seq 1 100); do
    [ -s "$f" ] && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  reg_die "$what did not start"; return 1
}

# reg_wait_http URL CA PID LOG: waits (bounded, 15 s) until URL answers any
# HTTP status; on failure shows LOG.
reg_wait_http() {
  local url=$1 ca=$2 pid=$3 log=$4 code
  local cacert=()
  [ -n "$ca" ] && cacert=(--cacert "$ca")
  for _ in $(seq 1 150); do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "${cacert[@]}" "$url" 2>/dev/null)
    case "$code" in 2??|401) return 0;; esac
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "registry-kit: $url did not answer (last status '$code'); log $log:" >&2
  tail -n 40 "$log" >&2 2>/dev/null
  return 1
}

# reg_start_token_server NAME DIR: starts token_server.py over HTTPS with the
# kit CA; sets NAME_TOKEN_URL, NAME_TOKEN_LOG, NAME_USER, NAME_PASS.
reg_start_token_server() {
  local name=$1 d=$2 pass pid
  pass=$(reg_random_password) || return 1
  ( umask 077; printf '%s' "$pass" > "$d/$name.pass" )
  rm -f "$d/$name-token.port"
  PYENV_VERSION=system "$(reg_python_bin)" "$REG_KIT_DIR/token_server.py" \
    --port-file "$d/$name-token.port" --cert "$d/server.pem" --key "$d/server.key" \
    --signing-key "$d/token-signer.key" --signing-cert "$d/token-signer.pem" \
    --issuer tagpin-test-issuer --service tagpin-test-registry \
    --user alice --password-file "$d/$name.pass" \
    --expires-in "${REG_TOKEN_EXPIRES_IN:-300}" \
    --log "$d/$name-token.log" >>"$d/$name-token.err" 2>&1 &
  pid=$!
  reg_track_pid "$pid"
  reg_wait_file "$d/$name-token.port" "$pid" "token server" || {
    cat "$d/$name-token.err" >&2; return 1; }
  eval "${name}_TOKEN_PORT=\$(cat \"\$d/\$name-token.port\")"
  eval "export ${name}_TOKEN_URL=https://127.0.0.1:\${${name}_TOKEN_PORT}/token"
  eval "export ${name}_TOKEN_LOG=\$d/\$name-token.log"
  eval "export ${name}_TOKEN_PID=$pid"
  eval "export ${name}_USER=alice ${name}_PASS=\$pass"
}

# Writes the registry's config.yml for MODE.
reg_write_config() {
  local name=$1 mode=$2 d=$3 port=$4 realm=$5
  {
    echo "version: 0.1"
    echo "log: {level: info, formatter: text, accesslog: {disabled: false}}"
    echo "storage:"
    echo "  filesystem: {rootdirectory: $d/$name-data}"
    echo "  delete: {enabled: true}"
    echo "  maintenance: {uploadpurging: {enabled: false}}"
    echo "http:"
    echo "  addr: 127.0.0.1:$port"
    echo "  secret: $(reg_random_password)"
    if [ "$mode" != plain ]; then
      echo "  tls: {certificate: $d/server.pem, key: $d/server.key}"
    fi
    case "$mode" in
      token)
        echo "auth:"
        echo "  token: {realm: \"$realm\", service: tagpin-test-registry,"
        echo "          issuer: tagpin-test-issuer, rootcertbundle: $d/token-signer.pem}";;
      htpasswd)
        echo "auth:"
        echo "  htpasswd: {realm: tagpin-test, path: $d/$name.htpasswd}";;
    esac
  } > "$d/$name.yml"
}

# Writes a docker config.json (kubelet's imagePullSecret format) for NAME.
reg_write_authfile() {
  local name=$1 d=$2 host=$3 user=$4 pass=$5
  ( umask 077
    printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$host" \
      "$(printf '%s:%s' "$user" "$pass" | base64 -w0)" > "$d/$name-auth.json" )
}

# reg_start NAME MODE DIR
#   MODE: plain | tls | token | htpasswd. NAME must be a shell identifier.
#   Exports NAME_PORT NAME_HOST NAME_URL NAME_CA NAME_LOG NAME_MODE NAME_PID
#   and, for token/htpasswd, NAME_USER NAME_PASS NAME_AUTHFILE (for token
#   also NAME_TOKEN_URL NAME_TOKEN_LOG). Prints the non-secret ones.
reg_start() {
  local name=${1:?reg_start NAME MODE DIR} mode=${2:?mode} d=${3:?dir}
  local port pid scheme=https realm=""
  case "$name" in [A-Za-z_]*) ;; *) reg_die "bad NAME '$name'"; return 1;; esac
  case "$mode" in plain|tls|token|htpasswd) ;; *) reg_die "bad MODE '$mode'"; return 1;; esac
  reg_require_deps || return 1
  mkdir -p "$d" && d=$(cd "$d" && pwd) || return 1
  reg_make_ca "$d" || return 1
  [ "$mode" = plain ] && scheme=http
  if [ "$mode" = token ]; then
    reg_start_token_server "$name" "$d" || return 1
    eval "realm=\$${name}_TOKEN_URL"
  elif [ "$mode" = htpasswd ]; then
    local pass; pass=$(reg_random_password) || return 1
    ( umask 077; printf '%s' "$pass" > "$d/$name.pass" )
    printf "%s" "$pass" | htpasswd -Bic "$d/$name.htpasswd" alice >/dev/null 2>&1 ||
      { reg_die "htpasswd failed"; return 1; }
    eval "export ${name}_USER=alice ${name}_PASS=\$pass"
  fi
  # The port can be taken between probing and binding: retry a few times.
  for _ in 1 2 3; do
    port=$(reg_free_port) || return 1
    reg_write_config "$name" "$mode" "$d" "$port" "$realm"
    # stdout carries the access log (combined format), stderr the app log.
    docker-registry serve "$d/$name.yml" >>"$d/$name.log" 2>>"$d/$name.err" &
    pid=$!
    reg_track_pid "$pid"
    if reg_wait_http "$scheme://127.0.0.1:$port/v2/" "$d/ca.pem" "$pid" "$d/$name.err"; then
      break
    fi
    kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
    grep -q 'address already in use' "$d/$name.err" 2>/dev/null || return 1
    pid=""
  done
  [ -n "$pid" ] || { reg_die "registry $name could not bind a port"; return 1; }
  eval "export ${name}_PORT=$port ${name}_HOST=127.0.0.1:$port"
  eval "export ${name}_URL=$scheme://127.0.0.1:$port ${name}_MODE=$mode ${name}_PID=$pid"
  eval "export ${name}_LOG=\$d/\$name.log ${name}_DIR=\$d"
  if [ "$mode" = plain ]; then eval "export ${name}_CA="
  else eval "export ${name}_CA=\$d/ca.pem"; fi
  if [ "$mode" = token ] || [ "$mode" = htpasswd ]; then
    eval "reg_write_authfile \"\$name\" \"\$d\" 127.0.0.1:$port \"\$${name}_USER\" \"\$${name}_PASS\""
    eval "export ${name}_AUTHFILE=\$d/\$name-auth.json"
  else
    eval "export ${name}_AUTHFILE="
  fi
  local v
  for v in PORT HOST URL CA LOG MODE AUTHFILE TOKEN_URL TOKEN_LOG USER; do
    eval "[ -n \"\${${name}_$v:-}\" ] && echo \"${name}_$v=\${${name}_$v}\""
  done
  return 0
}

# reg_push [--name NAME] ARGS...: runs push.py against registry NAME with its
# URL, CA and credentials (password passed by file, never on argv).
reg_push() {
  local name=""
  if [ "${1:-}" = --name ]; then name=$2; shift 2; fi
  [ -n "$name" ] || { reg_die "reg_push --name NAME ..."; return 1; }
  local url ca user d
  eval "url=\${${name}_URL:-} ca=\${${name}_CA:-} user=\${${name}_USER:-} d=\${${name}_DIR:-}"
  [ -n "$url" ] || { reg_die "registry $name not started"; return 1; }
  local args=(--registry "$url")
  [ -n "$ca" ] && args+=(--ca "$ca")
  [ -n "$user" ] && args+=(--user "$user" --password-file "$d/$name.pass")
  reg_python "$REG_KIT_DIR/push.py" "${args[@]}" "$@"
}

# reg_start_fault NAME DIR [plain|tls]: starts fault_server.py; exports
# NAME_PORT NAME_HOST NAME_URL NAME_CA NAME_LOG NAME_PID.
reg_start_fault() {
  local name=${1:?reg_start_fault NAME DIR [plain|tls]} d=${2:?dir} mode=${3:-tls}
  local pid scheme=https tlsargs=()
  reg_require_deps || return 1
  mkdir -p "$d" && d=$(cd "$d" && pwd) || return 1
  reg_make_ca "$d" || return 1
  if [ "$mode" = plain ]; then scheme=http
  else tlsargs=(--cert "$d/server.pem" --key "$d/server.key"); fi
  rm -f "$d/$name.port"
  PYENV_VERSION=system "$(reg_python_bin)" "$REG_KIT_DIR/fault_server.py" --port-file "$d/$name.port" "${tlsargs[@]}" \
    --log "$d/$name.log" >>"$d/$name.err" 2>&1 &
  pid=$!
  reg_track_pid "$pid"
  reg_wait_file "$d/$name.port" "$pid" "fault server" || { cat "$d/$name.err" >&2; return 1; }
  local port; port=$(cat "$d/$name.port")
  eval "export ${name}_PORT=$port ${name}_HOST=127.0.0.1:$port"
  eval "export ${name}_URL=$scheme://127.0.0.1:$port ${name}_PID=$pid ${name}_MODE=fault-$mode"
  eval "export ${name}_LOG=\$d/\$name.log ${name}_DIR=\$d"
  if [ "$mode" = plain ]; then eval "export ${name}_CA="
  else eval "export ${name}_CA=\$d/ca.pem"; fi
  echo "${name}_URL=$scheme://127.0.0.1:$port"
}

# reg_log_mark NAME: prints the access log's current line count, to pass as
# SINCE to reg_log_count.
reg_log_mark() {
  local log; eval "log=\${${1}_LOG:-}"
  [ -f "$log" ] && wc -l < "$log" | tr -d ' ' || echo 0
}

# reg_log_requests NAME [SINCE]: prints "METHOD PATH STATUS" per request
# served after line SINCE of the access log (combined log format).
reg_log_requests() {
  local log since=${2:-0}
  eval "log=\${${1}_LOG:-}"
  [ -f "$log" ] || { reg_die "no access log for $1"; return 1; }
  awk -v since="$since" 'NR > since {
      n = split($0, q, "\""); if (n < 3) next
      split(q[2], req, " "); split(q[3], rest, " ")
      if (req[1] ~ /^[A-Z]+$/) print req[1], req[2], rest[1] }' "$log"
}

# reg_log_count NAME METHOD PATH_ERE [STATUS] [SINCE]: counts requests whose
# method equals METHOD ('*' = any), whose path matches the extended regex
# PATH_ERE, and whose status equals STATUS (empty or '*' = any).
reg_log_count() {
  local name=$1 method=$2 path=$3 status=${4:-*} since=${5:-0}
  reg_log_requests "$name" "$since" | awk -v m="$method" -v p="$path" -v s="$status" '
    (m == "*" || $1 == m) && $2 ~ p && (s == "*" || s == "" || $3 == s) { c++ }
    END { print c + 0 }'
}

# reg_token_count NAME [SINCE]: tokens issued by NAME's token server.
reg_token_count() {
  local log since=${2:-0}
  eval "log=\${${1}_TOKEN_LOG:-}"
  [ -f "$log" ] || { echo 0; return 0; }
  awk -v since="$since" 'NR > since && /"issued": true/ { c++ } END { print c + 0 }' "$log"
}

# reg_tmpdir VAR: makes a temporary directory, stores its path in VAR, and
# has reg_stop_all remove it (unless REG_KEEP=1). Not for $(...): the
# cleanup list lives in this shell.
reg_tmpdir() {
  local t; t=$(mktemp -d "${TMPDIR:-/tmp}/tagpin-reg.XXXXXX") || return 1
  REG_KIT_TMPDIRS="$REG_KIT_TMPDIRS $t"
  reg_kit_watch && echo "dir $t" >> "$REG_KIT_STATE"
  eval "$1=\$t"
}

# reg_stop_all: stops every process this shell started through the kit
# (by pid) and removes directories from reg_tmpdir. Safe to call twice.
reg_stop_all() {
  local pid
  for pid in $REG_KIT_PIDS; do kill "$pid" 2>/dev/null; done
  for pid in $REG_KIT_PIDS; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  REG_KIT_PIDS=""
  if [ -n "${REG_KIT_STATE:-}" ]; then
    # Removing the file also tells the watchdog to end (within a second).
    rm -f "$REG_KIT_STATE"
    kill "$REG_KIT_WATCHDOG" 2>/dev/null
    REG_KIT_STATE="" REG_KIT_WATCHDOG=""
  fi
  if [ -z "${REG_KEEP:-}" ]; then
    for pid in $REG_KIT_TMPDIRS; do rm -rf "$pid"; done
  fi
  REG_KIT_TMPDIRS=""
  return 0
}
