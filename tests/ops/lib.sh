# tests/ops/lib.sh - shared by tests/ops/*.test.sh: a tagpin server on free
# loopback ports, certificates, checks. Source it after setting `work`.
# Needs TAGPIN_BIN and TAGPIN_SOURCE_DIR (set by ctest).
src=${TAGPIN_SOURCE_DIR:?}; bin=${TAGPIN_BIN:?}
ops_dir=$src/tests/ops
fails=0; passes=0
tp_pid=
ok() { passes=$((passes + 1)); echo "ok   $1"; }
bad() { fails=$((fails + 1)); echo "FAIL $1"; }
expect() { # expect NAME WANT GOT
  if [ "$2" = "$3" ]; then ok "$1"; else bad "$1: want [$2] got [$3]"; fi
}
contains() { # contains NAME NEEDLE HAYSTACK
  case "$3" in *"$2"*) ok "$1" ;; *) bad "$1: [$2] not in [$3]" ;; esac
}
finish() { echo "$passes passed, $fails failed"; [ "$fails" -eq 0 ] && [ "$passes" -gt 0 ]; }
ops_python() { PYENV_VERSION=system /usr/bin/python3 "$@"; }

# CI starts from a fresh Debian 12: install what these tests run, when missing.
ops_require() {
  local pkgs=""
  command -v openssl >/dev/null 2>&1 || pkgs="$pkgs openssl"
  command -v curl >/dev/null 2>&1 || pkgs="$pkgs curl"
  [ -x /usr/bin/python3 ] || pkgs="$pkgs python3"
  [ -z "$pkgs" ] && return 0
  [ "$(id -u)" = 0 ] || { echo "FAIL missing packages:$pkgs (need root to install)"; exit 1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $pkgs >/dev/null 2>&1 || {
    apt-get update -qq >/dev/null 2>&1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $pkgs >/dev/null
  } || { echo "FAIL apt-get install$pkgs"; exit 1; }
}
ops_require

# ops_certs DIR: DIR/ca.pem + ca.key and leaf pairs DIR/{a,b}.{pem,key}
# for 127.0.0.1, with serials 0a and 0b, signed by the CA.
ops_certs() {
  local d=$1
  mkdir -p "$d" && (
    set -e
    cd "$d"
    openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 2 -keyout ca.key -out ca.pem \
      -subj "/CN=tagpin ops test CA" -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" "basicConstraints=critical,CA:FALSE" \
      "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" > leaf.ext
    for n in a b; do
      openssl req -newkey rsa:2048 -nodes -sha256 -keyout $n.key -out $n.csr \
        -subj "/CN=127.0.0.1" 2>/dev/null
      openssl x509 -req -sha256 -days 2 -in $n.csr -CA ca.pem -CAkey ca.key \
        -set_serial 0x0$n -out $n.pem -extfile leaf.ext 2>/dev/null
    done
    rm -f ./*.csr leaf.ext
  )
}

# ops_volume DIR CERT KEY: lays DIR out as the kubelet does a Secret volume
# (tls.crt -> ..data/tls.crt, ..data -> ..<stamp>), with copies of CERT/KEY.
# Called again, it swaps ..data atomically, as a rotation does.
ops_volume() {
  local d=$1 stamp
  stamp=..$(date +%s%N)
  mkdir -p "$d/$stamp"
  cp "$2" "$d/$stamp/tls.crt"; cp "$3" "$d/$stamp/tls.key"
  ln -sfn "$stamp" "$d/..data_tmp" && mv -T "$d/..data_tmp" "$d/..data"
  [ -L "$d/tls.crt" ] || ln -s ..data/tls.crt "$d/tls.crt"
  [ -L "$d/tls.key" ] || ln -s ..data/tls.key "$d/tls.key"
}

# ops_start POLICY CERT KEY: starts tagpin serve; sets tp_pid, port, mport, base.
ops_start() {
  "$bin" serve --config "$1" --listen 127.0.0.1:0 --tls-cert "$2" --tls-key "$3" \
    --metrics-listen 127.0.0.1:0 2> "$work/stderr.log" &
  tp_pid=$!
  port=
  for _ in $(seq 1 200); do
    port=$(sed -n 's/.*serving https on port \([0-9]*\).*/\1/p' "$work/stderr.log" | head -1)
    [ -n "$port" ] && break
    kill -0 "$tp_pid" 2>/dev/null || break
    sleep 0.05
  done
  [ -n "$port" ] || { cat "$work/stderr.log"; echo "FAIL server did not start"; exit 1; }
  mport=$(sed -n 's/.*metrics on http port \([0-9]*\).*/\1/p' "$work/stderr.log" | head -1)
  base=https://127.0.0.1:$port
}

# ops_stop: SIGTERM and the exit status (bounded: KILL after 60 s).
ops_stop() {
  [ -n "$tp_pid" ] || return 0
  kill -TERM "$tp_pid" 2>/dev/null
  local waited=0
  while kill -0 "$tp_pid" 2>/dev/null && [ $waited -lt 600 ]; do sleep 0.1; waited=$((waited + 1)); done
  kill -0 "$tp_pid" 2>/dev/null && kill -KILL "$tp_pid"
  wait "$tp_pid"; local rc=$?
  tp_pid=
  return $rc
}

# A sanitizer report in the server's stderr is a failure.
ops_check_sanitizers() {
  if grep -q -E 'ERROR: (Address|Leak|UndefinedBehavior)Sanitizer|runtime error:' "$work/stderr.log"; then
    grep -E -A20 'Sanitizer|runtime error' "$work/stderr.log" | head -40
    bad "sanitizer report in the server's stderr"
  else
    ok "no sanitizer report"
  fi
}
