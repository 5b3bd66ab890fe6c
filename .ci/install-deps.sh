#!/usr/bin/env bash
# Installs what tagpin needs on Debian 12, idempotently: `build` for building
# and serving, `test` for every test (real registry, Helm, kube-apiserver
# sources, sanitizers). Only missing packages are installed.
set -euo pipefail

build_pkgs=(build-essential cmake pkg-config ca-certificates openssl curl
  libmicrohttpd-dev libgnutls28-dev libjansson-dev libcurl4-openssl-dev libyaml-dev libssl-dev)
test_pkgs=(clang libclang-rt-14-dev python3 python3-jwt python3-cryptography python3-jsonpatch
  python3-yaml docker-registry apache2-utils skopeo nodejs npm unzip procps psmisc valgrind
  golang-go etcd-server rsync golang-github-modern-go-reflect2-dev dpkg-dev
  buildah debootstrap)

want=("${build_pkgs[@]}")
if [ "${1:-build}" = test ]; then
  want+=("${test_pkgs[@]}")
fi

missing=()
for p in "${want[@]}"; do
  # Node.js and npm may come from outside Debian (as on CI's machines);
  # Debian's packages would conflict with them, and either works.
  case $p in nodejs|npm) command -v "${p/nodejs/node}" >/dev/null 2>&1 && continue ;; esac
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
