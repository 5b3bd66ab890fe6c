#!/usr/bin/env bash
# Install tagpin from manifests/ with kubectl, no Helm needed.
#
#   manifests/install.sh [--print] [--days N] [--timeout 180s]
#
# 1. Creates a CA and a serving certificate for tagpin.tagpin.svc with openssl
#    (or reuses the CA and key already in Secret tagpin/tagpin-tls, so a rerun
#    does not rotate anything under running pods).
# 2. Applies manifests/tagpin.yaml and the Secret, waits for the Deployment.
# 3. Only then applies the webhook configurations with the CA injected, so
#    admission never points at a webhook that cannot answer yet.
# --print writes everything it would apply to stdout instead (no cluster needed).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
ns=tagpin name=tagpin secret=tagpin-tls
print=0 days=3650 timeout=180s
while [ $# -gt 0 ]; do
  case $1 in
    --print) print=1 ;;
    --days) days=$2; shift ;;
    --timeout) timeout=$2; shift ;;
    *) echo "usage: $0 [--print] [--days N] [--timeout DURATION]" >&2; exit 2 ;;
  esac
  shift
done
kubectl=${KUBECTL:-kubectl}
command -v openssl >/dev/null || { echo "install.sh: openssl is required" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
b64() { base64 < "$1" | tr -d '\n'; }

reused=0
if [ $print = 0 ] && "$kubectl" -n $ns get secret $secret >/dev/null 2>&1; then
  for k in ca.crt tls.crt tls.key; do
    "$kubectl" -n $ns get secret $secret -o "jsonpath={.data.${k//./\\.}}" | base64 -d > "$tmp/$k"
  done
  [ -s "$tmp/ca.crt" ] && [ -s "$tmp/tls.crt" ] && [ -s "$tmp/tls.key" ] && reused=1
fi
if [ $reused = 0 ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 \
    -days "$days" -subj "/CN=$name-ca" -keyout "$tmp/ca.key" -out "$tmp/ca.crt" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  printf '%s\n' "subjectAltName=DNS:$name,DNS:$name.$ns,DNS:$name.$ns.svc,DNS:$name.$ns.svc.cluster.local" \
    "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
    "extendedKeyUsage=serverAuth" > "$tmp/ext"
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 \
    -subj "/CN=$name.$ns.svc" -keyout "$tmp/tls.key" -out "$tmp/tls.csr" 2>/dev/null
  openssl x509 -req -sha256 -days "$days" -in "$tmp/tls.csr" -CA "$tmp/ca.crt" \
    -CAkey "$tmp/ca.key" -set_serial "0x$(openssl rand -hex 12)" \
    -extfile "$tmp/ext" -out "$tmp/tls.crt" 2>/dev/null
fi

cat > "$tmp/secret.yaml" <<YAML
---
apiVersion: v1
kind: Secret
metadata:
  name: $secret
  namespace: $ns
  labels:
    app.kubernetes.io/name: tagpin
    app.kubernetes.io/instance: tagpin
type: kubernetes.io/tls
data:
  ca.crt: $(b64 "$tmp/ca.crt")
  tls.crt: $(b64 "$tmp/tls.crt")
  tls.key: $(b64 "$tmp/tls.key")
YAML
# caBundle goes right under each clientConfig, indented like its children.
ca=$(b64 "$tmp/ca.crt")
sed "s/^\( *\)clientConfig:\$/&\n\1  caBundle: $ca/" "$here/webhooks.yaml.tmpl" > "$tmp/webhooks.yaml"
grep -q "caBundle: $ca" "$tmp/webhooks.yaml" || { echo "install.sh: could not inject caBundle" >&2; exit 1; }

if [ $print = 1 ]; then
  cat "$here/tagpin.yaml" "$tmp/secret.yaml" "$tmp/webhooks.yaml"
  exit 0
fi
"$kubectl" apply -f "$here/tagpin.yaml"
"$kubectl" apply -f "$tmp/secret.yaml"
"$kubectl" -n $ns rollout status deployment/$name --timeout="$timeout"
"$kubectl" apply -f "$tmp/webhooks.yaml"
echo "tagpin installed; check it with the commands in docs/install.md"
