#!/usr/bin/env bash
# Regenerate manifests/ (plain YAML for kubectl users) from charts/tagpin with
# the default values, except TLS: helm's self-signed certificates are random on
# every render, so manifests/ uses tls.mode=secret with a Secret that
# manifests/install.sh creates, and keeps the webhook configurations in a
# .tmpl file that `kubectl apply -f manifests/` skips: install.sh injects the
# CA and applies them only once tagpin is running.
#
#   tests/chart/render-manifests.sh [OUTDIR]   (default: manifests/)
set -euo pipefail
src=${TAGPIN_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
out=${1:-$src/manifests}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
TAGPIN_RELEASE=tagpin TAGPIN_NAMESPACE=tagpin "$src/tests/chart/render.sh" "$tmp" \
  --set tls.mode=secret --set tls.existingSecret=tagpin-tls >/dev/null
mkdir -p "$out"
head='# Generated from charts/tagpin (default values, tls.mode=secret) by
# tests/chart/render-manifests.sh. Do not edit: change the chart and rerun it.
# Install with manifests/install.sh (docs/install.md).'
{ echo "$head"; cat "$tmp/namespace.yaml" "$tmp/resources.yaml"; } > "$out/tagpin.yaml"
{ echo "$head"
  echo '# Applied by install.sh after the CA bundle is injected under clientConfig.'
  cat "$tmp/webhooks.yaml"; } > "$out/webhooks.yaml.tmpl"
