#!/usr/bin/env bash
# `tagpin check`: exit codes 0/1/2, FILE:LINE:COL of every violation (derived
# here from the fixture's "# denied" comments), warn mode, --namespace, stdin,
# --offline without any registry; then, against a real registry, every
# document's verdict equals the one `tagpin review` gives for the same object
# wrapped as an AdmissionReview (tests/cases/wrap.py).
set -uo pipefail  # not -e: the kit's functions return the status of their last test
src=${TAGPIN_SOURCE_DIR:?}
bin=${TAGPIN_BIN:?}
fix="$src/tests/cli/fixtures"
. "$src/tests/registry/lib.sh"
trap reg_stop_all EXIT
reg_tmpdir D
# python3-yaml splits the verdict fixture into objects for `tagpin review`.
if ! reg_python -c 'import yaml' 2>/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-yaml >/dev/null 2>&1 || {
    apt-get update -qq >/dev/null 2>&1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-yaml >/dev/null
  } || { echo "python3-yaml is missing and could not be installed"; exit 1; }
fi

fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }

# ---- offline: the policy alone, nothing to resolve, no registry running ----
f="$fix/check-offline.yaml"
# Nothing is reachable: a resolution attempt would fail loudly, not pass.
printf 'registry:\n  allow: ["nowhere.invalid"]\n' > "$D/offline-policy.yaml"
"$bin" check --offline --config "$D/offline-policy.yaml" "$f" > "$D/out" 2> "$D/err"; rc=$?
cat "$D/out" "$D/err"
[ "$rc" = 1 ] && ok "violations: exit 1" || fail "violations: exit $rc"
reg_python - "$f" "$D/out" <<'PY' && ok "positions and messages" || fail "positions and messages"
import re, sys
path, out = sys.argv[1], sys.argv[2]
want = set()
for n, line in enumerate(open(path), 1):
    if "# denied" not in line or line.lstrip().startswith("#"):
        continue
    m = re.search(r"image:\s*(\S)", line)
    col = m.start(1) + 1 if m else len(line) - len(line.lstrip()) + 1
    want.add((n, col))
got = set()
for line in open(out):
    m = re.match(re.escape(path) + r":(\d+):(\d+): (.*)$", line.rstrip("\n"))
    assert m, f"unexpected output line: {line!r}"
    assert not m.group(3).startswith("warning:"), line
    assert " is denied by rule " in m.group(3), line
    got.add((int(m.group(1)), int(m.group(2))))
assert want and got == want, f"got {sorted(got)}, want {sorted(want)}"
PY
grep -q 'check-offline.yaml:[0-9]*:[0-9]*: StatefulSet data/db: container "db" image "postgres:nightly" is denied by rule "deny-mutable-tags"' "$D/out" \
  && ok "List item named with its namespace" || fail "List item message"
grep -q 'Pod default/debug: ephemeral container "dbg" image "busybox:latest"' "$D/out" \
  && ok "default namespace, ephemeral container" || fail "default namespace message"

# Warn mode: the same images are warnings, and check passes.
printf 'mode: warn\nregistry:\n  allow: ["nowhere.invalid"]\n' > "$D/warn.yaml"
"$bin" check --offline --config "$D/warn.yaml" "$f" > "$D/warn.out" 2>&1; rc=$?
n=$(grep -c ': warning: .* is denied by rule .*(warn mode)$' "$D/warn.out")
[ "$rc" = 0 ] && [ "$n" = "$(grep -c '# denied' "$f")" ] && ! grep -qv ': warning: ' "$D/warn.out" \
  && ok "warn mode: $n warnings, exit 0" || { cat "$D/warn.out"; fail "warn mode ($rc, $n warnings)"; }

# Clean input: exit 0, silent. --namespace decides for objects without one.
printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: a, image: "nginx:1.25"}]\n' > "$D/clean.yaml"
"$bin" check --offline "$D/clean.yaml" > "$D/clean.out" 2>&1; rc=$?
[ "$rc" = 0 ] && [ ! -s "$D/clean.out" ] && ok "clean: exit 0, no output" || fail "clean ($rc)"
printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: a, image: "nginx:latest"}]\n' > "$D/ns.yaml"
"$bin" check --offline "$D/ns.yaml" > /dev/null 2>&1; rc1=$?
"$bin" check --offline --namespace kube-system "$D/ns.yaml" > /dev/null 2>&1; rc2=$?
[ "$rc1" = 1 ] && [ "$rc2" = 0 ] && ok "--namespace (exempt kube-system)" || fail "--namespace ($rc1, $rc2)"
"$bin" check --offline - < "$D/ns.yaml" > "$D/stdin.out" 2>&1; rc=$?
[ "$rc" = 1 ] && grep -q '^<stdin>:5:33: Pod default/p: container "a" image "nginx:latest"' "$D/stdin.out" \
  && ok "stdin" || { cat "$D/stdin.out"; fail "stdin ($rc)"; }

# --validate judges as the /validate endpoint: with requirePinned, a tag is a violation.
printf 'validate:\n  requirePinned: true\n' > "$D/require.yaml"
"$bin" check --offline --validate --config "$D/require.yaml" "$D/clean.yaml" > "$D/req.out" 2>&1; rc=$?
"$bin" check --offline --config "$D/require.yaml" "$D/clean.yaml" > /dev/null 2>&1; rc2=$?
[ "$rc" = 1 ] && [ "$rc2" = 0 ] && grep -q 'clean.yaml:5:33: Pod default/p: container "a" image "nginx:1.25" is not pinned to a digest' "$D/req.out" \
  && ok "--validate with requirePinned" || { cat "$D/req.out"; fail "--validate ($rc, $rc2)"; }

# Errors: exit 2 with a position for YAML, a reason for I/O and usage.
printf 'apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: a\n   image: x\n' > "$D/bad.yaml"
"$bin" check --offline "$D/bad.yaml" > "$D/bad.out" 2>&1; rc=$?
[ "$rc" = 2 ] && grep -q "bad.yaml:6:[0-9]*: " "$D/bad.out" && ok "YAML error: exit 2 at line 6" \
  || { cat "$D/bad.out"; fail "YAML error ($rc)"; }
printf 'a: 1\na: 2\n' > "$D/dup.yaml"
"$bin" check --offline "$D/dup.yaml" > "$D/dup.out" 2>&1; rc=$?
[ "$rc" = 2 ] && grep -q 'dup.yaml:2:1: duplicate key "a"' "$D/dup.out" && ok "duplicate key: exit 2" \
  || fail "duplicate key ($rc)"
printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: {a: b}}\n' > "$D/shape.yaml"
"$bin" check --offline "$D/shape.yaml" > "$D/shape.out" 2>&1; rc=$?
[ "$rc" = 2 ] && grep -q 'shape.yaml:1:1: error: Pod default/p: cannot be judged: /spec/containers is not a list' "$D/shape.out" \
  && ok "malformed object: exit 2" || { cat "$D/shape.out"; fail "malformed object ($rc)"; }
"$bin" check --offline "$D/missing.yaml" > /dev/null 2>&1; [ $? = 2 ] && ok "missing file: exit 2" || fail "missing file"
"$bin" check > /dev/null 2>&1; [ $? = 2 ] && ok "no file: exit 2" || fail "no file"
"$bin" check --stdout "$f" > /dev/null 2>&1; [ $? = 2 ] && ok "--stdout refused" || fail "--stdout"
# Denials in one file and an error in another: the error wins (exit 2).
"$bin" check --offline "$f" "$D/bad.yaml" > /dev/null 2>&1; [ $? = 2 ] && ok "error wins over denial" || fail "error vs denial"

# ---- against a registry: check's verdict per document == the webhook's ----
reg_start R plain "$D" >/dev/null
[ -n "${R_HOST:-}" ] || { echo "registry did not start"; exit 1; }
reg_push --name R image oci-index shop/app:1.4.2 > /dev/null || { echo "push failed"; exit 1; }
reg_push --name R image oci-index-amd64 ops/tool:0.9 > /dev/null || { echo "push failed"; exit 1; }
printf 'registry:\n  insecure: ["%s"]\n  allow: ["127.0.0.1*"]\n' "$R_HOST" > "$D/policy.yaml"
sed "s/@@REGISTRY@@/$R_HOST/g" "$fix/check-verdicts.yaml" > "$D/v.yaml"
"$bin" check --config "$D/policy.yaml" "$D/v.yaml" > "$D/v.out" 2> "$D/v.err"; rc=$?
cat "$D/v.out" "$D/v.err"
[ "$rc" = 1 ] && ok "registry: exit 1" || fail "registry: exit $rc"
grep -q 'v.yaml:[0-9]*:[0-9]*: warning: StatefulSet shop/amd64-only: .*lacks platforms linux/arm64' "$D/v.out" \
  && ok "missing platform is a warning" || fail "missing platform warning"
TAGPIN_BIN="$bin" reg_python - "$D/v.yaml" "$D/v.out" "$D/policy.yaml" "$src/tests/cases/wrap.py" "$D" <<'PY' \
  && ok "every document's verdict equals tagpin review's" || fail "verdicts differ from tagpin review"
import json, os, re, subprocess, sys, yaml
path, out, policy, wrap, tmp = sys.argv[1:6]
binary = os.environ["TAGPIN_BIN"]
lines = open(path).read().split("\n")
# Document i spans the lines after the i-th "---" separator.
starts = [1] + [n + 1 for n, l in enumerate(lines, 1) if l == "---"]
def doc_of(line):
    return max(i for i, s in enumerate(starts) if s <= line)
denied_by_check = set()
for l in open(out):
    m = re.match(re.escape(path) + r":(\d+):\d+: (.*)", l)
    if m and not m.group(2).startswith("warning:"):
        denied_by_check.add(doc_of(int(m.group(1))))
docs = list(yaml.safe_load_all(open(path)))
assert len(docs) == len(starts), (len(docs), len(starts))
denied_by_review, judged = set(), 0
for i, obj in enumerate(docs):
    if obj["kind"] == "ConfigMap":
        continue
    ns = obj["metadata"].get("namespace", "default")
    json.dump(obj, open(f"{tmp}/obj{i}.json", "w"))
    req = subprocess.run([sys.executable, wrap, f"{tmp}/obj{i}.json", "--namespace", ns],
                         check=True, capture_output=True, text=True).stdout
    ans = subprocess.run([binary, "review", "--config", policy, "-"], input=req, check=True,
                         capture_output=True, text=True).stdout
    judged += 1
    if not json.loads(ans)["response"]["allowed"]:
        denied_by_review.add(i)
print("denied by check:", sorted(denied_by_check), "by review:", sorted(denied_by_review))
assert judged == 7 and denied_by_review == {1, 2, 3}, "the fixture no longer tests what it says"
assert denied_by_check == denied_by_review
PY

[ "$fails" = 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all check checks passed"
