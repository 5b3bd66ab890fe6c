#!/usr/bin/env bash
# Build the Dockerfile for real, offline, with buildah, and check the image.
#
# There is no Docker engine or registry here, so the Debian base image named
# in the Dockerfile is made locally: debootstrap --variant=minbase bookworm
# (the rootfs tarball is cached under /var/cache/tagpin so reruns are fast),
# committed with `buildah from scratch`. The builder stage still runs
# apt-get against the host's Debian mirror (chroot isolation shares the host
# network), so this test needs the same apt access the host has.
#
# Checks: the image builds (which also runs the unit tests inside the
# builder), `tagpin version` and `tagpin ref nginx` run inside it as the
# configured user, that user is numeric and not root, there is no shell, and
# the OCI labels carry the build args, and `tagpin serve` from the image
# answers /readyz over TLS, denies nginx:latest on POST /validate and serves
# /metrics (with the libraries the image ships, nothing from the host).
set -euo pipefail

src=${TAGPIN_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
cache=${TAGPIN_CACHE:-/var/cache/tagpin}
mkdir -p "$cache"

need=()
command -v buildah >/dev/null || need+=(buildah)
command -v debootstrap >/dev/null || need+=(debootstrap)
if [ ${#need[@]} -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >&2
fi

# Own storage so the test never touches other images on the machine; vfs
# because overlay needs kernel support a CI container may lack.
root=$cache/containers/storage
runroot=${XDG_RUNTIME_DIR:-/run}/tagpin-containers
bh() { buildah --root "$root" --runroot "$runroot" --storage-driver vfs "$@"; }

fail() { echo "FAIL: $*" >&2; exit 1; }

# The base image name comes from the Dockerfile itself, so the test builds
# exactly what a reader sees there.
base=$(sed -n 's/^ARG DEBIAN_IMAGE=//p' "$src/Dockerfile")
[ -n "$base" ] || fail "Dockerfile has no ARG DEBIAN_IMAGE default"
case $base in *:latest|*@*) ;; *:*) ;; *) fail "base image $base has no version tag";; esac
case $base in *:latest) fail "base image uses latest";; esac

# debootstrap from the mirror the host already uses.
mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
[ -n "$mirror" ] || mirror=$(awk '/^deb / {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian

tarball=$cache/debian-bookworm-minbase.tar
if [ ! -s "$tarball" ]; then
  echo "# debootstrap bookworm from $mirror" >&2
  tmp=$(mktemp -d "$cache/rootfs.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  debootstrap --variant=minbase bookworm "$tmp/rootfs" "$mirror" >&2
  rm -rf "$tmp/rootfs/var/cache/apt/archives/"*.deb "$tmp/rootfs/var/lib/apt/lists/"*
  tar -C "$tmp/rootfs" -cf "$tmp/rootfs.tar" .
  mv "$tmp/rootfs.tar" "$tarball"
  rm -rf "$tmp"; trap - EXIT
fi

# bud --layers keeps the apt layer of the builder between runs (vfs copies every
# layer in full, so the store is emptied when it outgrows 8 GiB).
if [ -d "$root" ] && [ "$(du -sk "$root" | cut -f1)" -gt $((8 * 1024 * 1024)) ]; then
  echo "# pruning $root" >&2
  bh rmi --all --force >/dev/null 2>&1 || true
fi

if ! bh inspect --type image "$base" >/dev/null 2>&1; then
  echo "# committing $tarball as $base" >&2
  ctr=$(bh from scratch)
  bh add "$ctr" "$tarball" / >/dev/null
  bh config --cmd '["bash"]' --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$ctr"
  bh commit --rm "$ctr" "$base" >/dev/null
fi

version=$(sed -n 's/^project(tagpin VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")
[ -n "$version" ] || fail "no project version in CMakeLists.txt"
revision=$(git -C "$src" rev-parse HEAD 2>/dev/null || echo unknown)
tag=localhost/tagpin:test-$$

ctr= serve_pid=
work=$(mktemp -d)
# Stop `tagpin serve` and everything under the buildah run that started it.
kill_tree() {
  local p
  for p in $(awk -v pp="$1" '$4 == pp {print $1}' /proc/[0-9]*/stat 2>/dev/null); do
    kill_tree "$p"
  done
  kill "$1" 2>/dev/null || true
}
cleanup() {
  [ -n "$serve_pid" ] && kill_tree "$serve_pid"
  [ -n "$serve_pid" ] && wait "$serve_pid" 2>/dev/null || true
  [ -n "$ctr" ] && bh rm "$ctr" >/dev/null 2>&1 || true
  bh rmi "$tag" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "# buildah bud $tag" >&2
bh bud --isolation chroot --pull-never --layers \
  --build-arg VERSION="$version" --build-arg REVISION="$revision" \
  -t "$tag" -f "$src/Dockerfile" "$src" >&2

# Image config, read from buildah's JSON (its --format lacks a json function).
bh inspect --type image "$tag" > "$work/inspect.json"
cfg() { /usr/bin/python3 -c 'import json,sys
c = json.load(open(sys.argv[1]))["OCIv1"]["config"]
v = eval(sys.argv[2], {}, {"c": c})
print(v if isinstance(v, str) else json.dumps(v))' "$work/inspect.json" "$1"; }
user=$(cfg 'c.get("User", "")')
echo "# image user: $user" >&2
uid=${user%%:*}
case $uid in
  ''|0|root) fail "image runs as root (user '$user')";;
  *[!0-9]*) fail "image user '$user' is not numeric (runAsNonRoot cannot check names)";;
esac
[ "$(cfg 'c["Labels"]["org.opencontainers.image.version"]')" = "$version" ] \
  || fail "version label is not $version"
[ "$(cfg 'c["Labels"]["org.opencontainers.image.revision"]')" = "$revision" ] \
  || fail "revision label is not $revision"
[ "$(cfg 'c["Entrypoint"]')" = '["tagpin"]' ] || fail "entrypoint is $(cfg 'c["Entrypoint"]')"
[ "$(cfg 'c["Cmd"][0]')" = serve ] || fail "CMD does not serve"

ctr=$(bh from --pull-never "$tag")
mnt=$(bh mount "$ctr")
for sh in bin/sh bin/bash usr/bin/apt-get usr/bin/dpkg; do
  [ ! -e "$mnt/$sh" ] || fail "runtime image contains /$sh"
done
bh umount "$ctr" >/dev/null

out=$(bh run --isolation chroot --user "$user" "$ctr" -- tagpin version)
echo "# tagpin version: $out" >&2
grep -qF "$version" <<<"$out" || fail "tagpin version does not print $version"

out=$(bh run --isolation chroot --user "$user" "$ctr" -- tagpin ref nginx)
echo "# tagpin ref nginx: $out" >&2
grep -q 'library/nginx' <<<"$out" || fail "tagpin ref nginx did not normalize to library/nginx"

# The server itself, from the minimal image: TLS (GnuTLS), policy (libyaml),
# JSON in and out. chroot isolation shares the host network, so it listens on
# a free loopback port and is asked over HTTPS like the API server would.
free_port() { /usr/bin/python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
mkdir -p "$work/tls" "$work/config"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
  -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
  -keyout "$work/tls/tls.key" -out "$work/tls/tls.crt" 2>/dev/null
chmod 0644 "$work/tls/tls.key"   # readable by the image's user; test key only
cp "$src/webhook/default-policy.yaml" "$work/config/policy.yaml"
chmod -R a+rX "$work"
port=$(free_port) mport=$(free_port)
while [ "$mport" = "$port" ]; do mport=$(free_port); done
bh run --isolation chroot --user "$user" \
  --volume "$work/tls:/etc/tagpin/tls:ro" --volume "$work/config:/etc/tagpin/config:ro" \
  "$ctr" -- tagpin serve --config /etc/tagpin/config/policy.yaml \
  --listen "127.0.0.1:$port" --tls-cert /etc/tagpin/tls/tls.crt --tls-key /etc/tagpin/tls/tls.key \
  --metrics-listen "127.0.0.1:$mport" > "$work/serve.log" 2>&1 &
serve_pid=$!
ready=0
for _ in $(seq 150); do
  if curl -sf --cacert "$work/tls/tls.crt" "https://127.0.0.1:$port/readyz" >/dev/null 2>&1; then
    ready=1; break
  fi
  kill -0 "$serve_pid" 2>/dev/null || break
  sleep 0.2
done
[ $ready = 1 ] || { cat "$work/serve.log" >&2; fail "tagpin serve in the image never became ready"; }
cat > "$work/review.json" <<'JSON'
{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"img-1",
 "kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},
 "namespace":"default","operation":"CREATE","object":{"apiVersion":"v1","kind":"Pod",
 "metadata":{"name":"p","namespace":"default"},"spec":{"containers":[{"name":"c","image":"nginx:latest"}]}}}}
JSON
out=$(curl -sf --cacert "$work/tls/tls.crt" -H 'Content-Type: application/json' \
  --data-binary @"$work/review.json" "https://127.0.0.1:$port/validate") || fail "POST /validate failed"
echo "# POST /validate: $out" >&2
/usr/bin/python3 -c 'import json,sys
r = json.loads(sys.argv[1])["response"]
sys.exit(0 if r["uid"] == "img-1" and r["allowed"] is False else 1)' "$out" \
  || fail "the image's tagpin did not deny nginx:latest"
# Into a variable first: with pipefail, `curl | grep -q` fails whenever grep
# exits before curl's last write (SIGPIPE), which made this check flaky.
metrics=$(curl -sf "http://127.0.0.1:$mport/metrics") \
  || { cat "$work/serve.log" >&2; fail "no answer on the metrics port"; }
grep -q '^[a-z_]' <<<"$metrics" || fail "no metrics on the metrics port"

echo "image: all checks passed"
