#!/usr/bin/env bash
# manifests/ must be exactly what tests/chart/render-manifests.sh makes from
# the chart now, and manifests/install.sh must produce a complete install:
# TLS Secret plus webhook configurations whose caBundle verifies the serving
# certificate (checked by check.py like the chart's own self-signed render).
set -euo pipefail
src=${TAGPIN_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
ok() { echo "ok - $*"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $*"; failed=$((failed + 1)); }

"$src/tests/chart/render-manifests.sh" "$tmp/fresh"
for f in tagpin.yaml webhooks.yaml.tmpl; do
  if diff -u "$src/manifests/$f" "$tmp/fresh/$f" > "$tmp/diff"; then
    ok "manifests/$f is up to date"
  else
    head -40 "$tmp/diff"
    not_ok "manifests/$f differs from a fresh render: run tests/chart/render-manifests.sh"
  fi
done

# `kubectl apply -f manifests/` must never register a webhook without its CA.
if grep -l -E '^kind: (Mutating|Validating)WebhookConfiguration' "$src"/manifests/*.yaml "$src"/manifests/*.yml "$src"/manifests/*.json 2>/dev/null; then
  not_ok "a file kubectl would apply from manifests/ holds a webhook configuration"
else
  ok "webhook configurations only in the .tmpl that install.sh applies"
fi

if "$src/manifests/install.sh" --print > "$tmp/install.yaml" &&
   /usr/bin/python3 "$src/tests/chart/check.py" kubectl-install "$tmp/install.yaml" tagpin tagpin "$src"; then
  ok "install.sh --print: complete install with a verifying caBundle"
else
  not_ok "install.sh --print"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
