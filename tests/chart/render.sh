#!/usr/bin/env bash
# Render charts/tagpin into a directory, split so a test (or a person) can
# apply the pieces in a safe order. This is the hook the end-to-end tests use
# to apply the chart's own objects to a real kube-apiserver.
#
#   tests/chart/render.sh OUTDIR [helm template args...]
#
# Writes:
#   OUTDIR/namespace.yaml  the release Namespace (helm template never renders one)
#   OUTDIR/resources.yaml  everything but the webhook configurations
#   OUTDIR/webhooks.yaml   Mutating/ValidatingWebhookConfiguration(s) only:
#                          apply these last, once tagpin answers
#   OUTDIR/all.yaml        the whole render, in helm's order
# Release name and namespace: TAGPIN_RELEASE (default tagpin) and
# TAGPIN_NAMESPACE (default tagpin). Prints OUTDIR/all.yaml's path.
#
# Example, webhook pointed at a tagpin outside the cluster (e2e):
#   tests/chart/render.sh "$dir" --kube-version 1.20.2 \
#     --set webhook.url=https://127.0.0.1:$port \
#     --set tls.mode=secret --set tls.existingSecret=tagpin-tls \
#     --set tls.caBundle="$(base64 -w0 "$KUBE_PKI/ca.crt")"
set -euo pipefail

[ $# -ge 1 ] || { echo "usage: $0 OUTDIR [helm template args...]" >&2; exit 2; }
out=$1; shift
src=${TAGPIN_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
rel=${TAGPIN_RELEASE:-tagpin}
ns=${TAGPIN_NAMESPACE:-tagpin}
helm=$("$src/tests/chart/helm.sh")
mkdir -p "$out"

"$helm" template "$rel" "$src/charts/tagpin" --namespace "$ns" "$@" > "$out/all.yaml"

# Split on document boundaries without re-serialising, so the files keep
# helm's exact text (comments, order, quoting).
/usr/bin/python3 - "$out" "$ns" <<'PY'
import re, sys
out, ns = sys.argv[1], sys.argv[2]
text = open(f"{out}/all.yaml").read()
docs = [d for d in re.split(r"(?m)^---[ \t]*\n", text) if re.search(r"(?m)^kind:", d)]
hooks = [d for d in docs if re.search(r"(?m)^kind: (Mutating|Validating)WebhookConfiguration\s*$", d)]
rest = [d for d in docs if d not in hooks]
def write(name, parts):
    with open(f"{out}/{name}", "w") as f:
        f.write("".join("---\n" + (p if p.endswith("\n") else p + "\n") for p in parts))
write("resources.yaml", rest)
write("webhooks.yaml", hooks)
write("namespace.yaml", [f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n"])
PY
echo "$out/all.yaml"
