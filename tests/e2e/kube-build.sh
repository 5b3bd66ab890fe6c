#!/usr/bin/env bash
# Build kube-apiserver and kube-controller-manager v1.20.2 from Debian's
# `kubernetes` source package with Debian's Go, and cache them (plus Debian's
# matching kubectl) outside the checkout.
#
#   tests/e2e/kube-build.sh          build if the cache is missing or stale
#   tests/e2e/kube-build.sh --print  print the bin directory, build nothing
#
# Prints the bin directory on stdout (logs go to stderr). The cache key is the
# Kubernetes version plus a hash of this script, so a change here rebuilds and
# a fresh machine rebuilds; everything else reuses /var/cache/tagpin.
#
# Why each unusual step exists:
# - bookworm packages only kubectl from this source, but the source package
#   carries the whole upstream tree with vendor/, so the servers build offline.
# - GOPATH mode (GO111MODULE=off, tree at $GOPATH/src/k8s.io/kubernetes) is how
#   v1.20's own scripts build; module mode fails with Go 1.19.
# - `make generated_files` writes the zz_generated.* and bindata files the
#   tree does not ship.
# - the vendored modern-go/reflect2 1.0.1 crashes under Go >= 1.18; Debian's
#   1.0.2 is API-compatible and fixes it.
set -euo pipefail

KUBE_VERSION=1.20.2
CACHE_ROOT=${TAGPIN_KUBE_CACHE:-/var/cache/tagpin}
BASE=$CACHE_ROOT/kube-v$KUBE_VERSION
BIN=$BASE/bin
SELF=$(readlink -f "${BASH_SOURCE[0]}")
KEY="v$KUBE_VERSION-$(sha256sum "$SELF" | cut -c1-16)"
APT_PACKAGES=(golang-go etcd-server rsync golang-github-modern-go-reflect2-dev
  dpkg-dev openssl curl ca-certificates python3)

log() { printf 'kube-build: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

cache_is_fresh() {
  [[ -f $BIN/.key && $(cat "$BIN/.key") == "$KEY" ]] || return 1
  local b
  for b in kube-apiserver kube-controller-manager kubectl; do
    [[ -x $BIN/$b ]] || return 1
  done
}

if [[ ${1:-} == --print ]]; then
  echo "$BIN"
  exit 0
fi

# Missing packages only; wait for other apt users instead of failing.
apt_ensure() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
      || missing+=("$p")
  done
  ((${#missing[@]} == 0)) && return 0
  log "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y \
    --no-install-recommends "${missing[@]}" >&2 \
    || { apt-get -o DPkg::Lock::Timeout=600 update >&2 &&
         DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y \
           --no-install-recommends "${missing[@]}" >&2; }
}

# A deb-src entry for the suites the machine already uses (bookworm's
# deb822 debian.sources), only if apt knows no source for kubernetes yet.
debsrc_ensure() {
  apt-cache showsrc kubernetes 2>/dev/null | grep -q '^Package: kubernetes' && return 0
  local f=/etc/apt/sources.list.d/tagpin-deb-src.sources
  log "adding $f"
  cat > "$f" <<'EOF'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  apt-get -o DPkg::Lock::Timeout=600 update >&2
  apt-cache showsrc kubernetes | grep -q '^Package: kubernetes' \
    || die "apt still knows no source package 'kubernetes'"
}

# Source tree at $GOPATH/src/k8s.io/kubernetes, Debian patches applied.
source_unpack() {
  local dl=$BASE/dl tree=$1 dsc
  mkdir -p "$dl"
  ( cd "$dl" && apt-get source --download-only kubernetes >&2 )
  # shellcheck disable=SC2012 # newest download wins; names are apt's
  dsc=$(ls -t "$dl"/kubernetes_*.dsc | head -n1)
  [[ $dsc == *really$KUBE_VERSION* || $dsc == *_$KUBE_VERSION-* ]] \
    || die "$dsc is not Kubernetes $KUBE_VERSION"
  rm -rf "$tree"
  mkdir -p "$(dirname "$tree")"
  dpkg-source --no-check -x "$dsc" "$tree" >&2
  [[ -d $tree/vendor/k8s.io/apiserver ]] || die "$tree has no vendor/ tree"
}

reflect2_replace() {
  local tree=$1 src=/usr/share/gocode/src/github.com/modern-go/reflect2
  [[ -f $src/reflect2.go ]] || die "$src missing (golang-github-modern-go-reflect2-dev)"
  rm -rf "$tree/vendor/github.com/modern-go/reflect2"
  mkdir -p "$tree/vendor/github.com/modern-go/reflect2"
  cp -a "$src"/*.go "$src"/*.s "$tree/vendor/github.com/modern-go/reflect2/" 2>/dev/null \
    || cp -a "$src"/*.go "$tree/vendor/github.com/modern-go/reflect2/"
  rm -f "$tree"/vendor/github.com/modern-go/reflect2/*_test.go
}

go_build() {
  local tree=$1 out=$2 pkg=k8s.io/kubernetes/vendor/k8s.io
  local ld="-s -w" v minor=${KUBE_VERSION#*.}
  minor=${minor%%.*}
  # What v1.20's hack/lib/version.sh stamps, so /version reports v1.20.2.
  for v in client-go/pkg/version component-base/version; do
    ld+=" -X $pkg/$v.gitVersion=v$KUBE_VERSION -X $pkg/$v.gitMajor=${KUBE_VERSION%%.*}"
    ld+=" -X $pkg/$v.gitMinor=$minor -X $pkg/$v.gitTreeState=archive"
  done
  local cmd
  for cmd in kube-apiserver kube-controller-manager; do
    log "go build cmd/$cmd"
    ( cd "$tree" && go build -ldflags "$ld" -o "$out/$cmd" "./cmd/$cmd" ) >&2
  done
}

# Debian's own kubectl 1.20.2, from the same source; extracted, not
# installed, so it never fights another /usr/bin/kubectl on the machine.
kubectl_fetch() {
  local out=$1 dl=$BASE/dl deb x
  ( cd "$dl" && apt-get download kubernetes-client >&2 )
  # shellcheck disable=SC2012
  deb=$(ls -t "$dl"/kubernetes-client_*.deb | head -n1)
  x=$(mktemp -d)
  dpkg-deb -x "$deb" "$x"
  install -m 0755 "$x/usr/bin/kubectl" "$out/kubectl"
  rm -rf "$x"
}

build() {
  local start=$SECONDS gopath=$BASE/gopath tree out=$BASE/bin.new
  tree=$gopath/src/k8s.io/kubernetes
  apt_ensure "${APT_PACKAGES[@]}"
  debsrc_ensure
  source_unpack "$tree"
  reflect2_replace "$tree"
  rm -rf "$out"
  mkdir -p "$out"
  export GOPATH=$gopath GO111MODULE=off GOFLAGS='' CGO_ENABLED=0
  export GOCACHE=$BASE/gocache GOPROXY=off
  log "make generated_files ($(go version))"
  ( cd "$tree" && make generated_files ) >&2
  go_build "$tree" "$out"
  kubectl_fetch "$out"
  echo "$KEY" > "$out/.key"
  rm -rf "$BIN"
  mv "$out" "$BIN"
  # The unpacked tree is re-extracted on every build; GOCACHE is what makes
  # a rebuild after an edit of this script fast, so only the tree goes.
  rm -rf "$gopath"
  log "built $KEY in $((SECONDS - start)) s"
}

mkdir -p "$BASE"
exec 9> "$BASE/.lock"
flock 9
if cache_is_fresh; then
  log "cached: $BIN ($KEY)"
else
  build
fi
echo "$BIN"
