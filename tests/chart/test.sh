#!/usr/bin/env bash
# helm lint --strict and helm template of charts/tagpin with several value
# sets, each render checked by check.py (assertions on the objects, not just
# "it rendered"), plus value sets the chart must refuse.
set -euo pipefail

src=${TAGPIN_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
here=$src/tests/chart
chart=$src/charts/tagpin
helm=$("$here/helm.sh")
py=/usr/bin/python3
if ! $py -c 'import yaml' 2>/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-yaml >&2
fi
command -v openssl >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssl >&2

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rel=tp
ns=tagpin-system
passed=0 failed=0

ok() { echo "ok - $*"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $*"; failed=$((failed + 1)); }

if "$helm" lint --strict "$chart" >"$tmp/lint.log" 2>&1; then
  ok "helm lint --strict (defaults)"
else
  cat "$tmp/lint.log"; not_ok "helm lint --strict (defaults)"
fi

render() { # scenario, then helm args
  local name=$1; shift
  if ! "$helm" lint --strict "$chart" --namespace "$ns" "$@" >"$tmp/$name.lint" 2>&1; then
    cat "$tmp/$name.lint"; not_ok "$name: helm lint --strict"; return
  fi
  if ! "$helm" template "$rel" "$chart" --namespace "$ns" "$@" >"$tmp/$name.yaml" 2>"$tmp/$name.err"; then
    cat "$tmp/$name.err"; not_ok "$name: helm template"; return
  fi
  if $py "$here/check.py" "$name" "$tmp/$name.yaml" "$rel" "$ns" "$src"; then
    ok "$name"
  else
    not_ok "$name"
  fi
}

refuse() { # description, then helm args that must make the render fail
  local what=$1; shift
  if "$helm" template "$rel" "$chart" --namespace "$ns" "$@" >/dev/null 2>"$tmp/refuse.err"; then
    not_ok "refuses $what"
  else
    ok "refuses $what ($(head -c 120 "$tmp/refuse.err" | tr '\n' ' '))"
  fi
}

ca_pem=$(openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -keyout /dev/null -subj /CN=test-registry-ca -days 1 2>/dev/null)

render default
render cert-manager --set tls.mode=cert-manager
render cert-manager-issuer --set tls.mode=cert-manager \
  --set tls.certManager.issuerRef.name=corp-ca --set tls.certManager.issuerRef.kind=ClusterIssuer
render validate-only --set mode=validate
render kube-1.20 --kube-version 1.20.2
render pods-only --set policy.pinning.scope=pods
render observability --set networkPolicy.enabled=true --set serviceMonitor.enabled=true
render extras --set image.repository=registry.example/tagpin \
  --set image.digest=sha256:$(printf 'a%.0s' $(seq 64)) \
  --set registry.credentialsSecret=regcred --set-string registry.caBundle.pem="$ca_pem" \
  --set priorityClassName=tagpin-critical --set podAntiAffinity=hard
render external-url --set mode=both --set tls.mode=secret --set tls.existingSecret=my-tls \
  --set tls.caBundle="$(printf test-ca | base64)" --set webhook.url=https://127.0.0.1:8443

refuse "image.tag=latest" --set image.tag=latest
refuse "a digest that is not sha256" --set image.digest=latest
refuse "an unknown mode" --set mode=audit
refuse "failurePolicy other than Fail/Ignore" --set webhook.failurePolicy=Retry
refuse "timeoutSeconds above the API server's 30 s" --set webhook.timeoutSeconds=31
refuse "tls.mode=secret without a Secret name" --set tls.mode=secret
refuse "an unknown pinning scope" --set policy.pinning.scope=some
refuse "an unknown top-level value" --set replicas=3

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
