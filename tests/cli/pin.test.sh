#!/usr/bin/env bash
# `tagpin pin` against a real registry (tests/registry kit, plain HTTP on a
# free port): a commented multi-document file comes back byte for byte except
# the image values, whose expected text is computed here from the digests
# push.py reports; a second pin changes nothing; a denied image leaves every
# file untouched; --stdout and `-` leave the file alone; mode and symlinks kept.
set -uo pipefail  # not -e: the kit's functions return the status of their last test
src=${TAGPIN_SOURCE_DIR:?}
bin=${TAGPIN_BIN:?}
fix="$src/tests/cli/fixtures"
. "$src/tests/registry/lib.sh"
trap reg_stop_all EXIT
reg_tmpdir D
reg_start R plain "$D" >/dev/null
[ -n "${R_HOST:-}" ] || { echo "registry did not start"; exit 1; }

fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }

# KEY KIND REPO:TAG, as tests/pin-cases push them.
declare -A digest
while read -r key kind ref; do
  out=$(reg_push --name R image "$kind" "$ref") || { echo "push $ref failed"; exit 1; }
  digest[$key]=$(reg_python -c 'import json,sys; print(json.load(sys.stdin)["digest"])' <<< "$out")
done <<EOF
shop/init:3.1 oci shop/init:3.1
shop/app:1.4.2 oci-index shop/app:1.4.2
shop/web:2.0 docker shop/web:2.0
shop/job:7 docker-list shop/job:7
ops/tool:0.9 oci-index-amd64 ops/tool:0.9
EOF

printf 'registry:\n  insecure: ["%s"]\n  allow: ["127.0.0.1*"]\n' "$R_HOST" > "$D/policy.yaml"
pin() { "$bin" pin --config "$D/policy.yaml" "$@"; }
sed "s/@@REGISTRY@@/$R_HOST/g" "$fix/pin-input.yaml" > "$D/m.yaml"
cp "$D/m.yaml" "$D/original.yaml"

# Expected: every value of an `image:` key naming a pushed image gets
# @digest appended, wherever it sits (quoted, flow mapping, next line);
# the same strings elsewhere (args, env, ConfigMap data, comments) stay.
REG="$R_HOST" DIGESTS="$(for k in "${!digest[@]}"; do echo "$k ${digest[$k]}"; done)" \
reg_python - "$D/m.yaml" "$D/expected.yaml" <<'PY'
import os, re, sys
reg = os.environ["REG"]
digests = dict(line.split() for line in os.environ["DIGESTS"].splitlines())
text = open(sys.argv[1]).read()
n = 0
def sub(m):
    global n
    n += 1
    return m.group(1) + m.group(2) + "@" + digests[m.group(2)[len(reg) + 1:]]
pattern = r"(\bimage:\s*['\"]?)(" + re.escape(reg) + r"/[a-z/]+:[0-9.]+)"
out = re.sub(pattern, sub, text)
assert n == 6, f"{n} image values found in the fixture, want 6"
open(sys.argv[2], "w").write(out)
PY
[ -s "$D/expected.yaml" ] || { echo "could not compute the expected file"; exit 1; }

chmod 0640 "$D/m.yaml"
pin "$D/m.yaml" 2> "$D/pin.err"; rc=$?
cat "$D/pin.err"
[ "$rc" = 0 ] || fail "pin exited $rc"
if cmp -s "$D/m.yaml" "$D/expected.yaml"; then ok "pinned file equals the expected bytes"
else fail "pinned file differs:"; diff "$D/expected.yaml" "$D/m.yaml"; fi
[ "$(stat -c %a "$D/m.yaml")" = 640 ] && ok "mode kept" || fail "mode $(stat -c %a "$D/m.yaml")"
grep -q 'm.yaml: pinned 6 images' "$D/pin.err" && ok "summary" || fail "no summary line"
grep -q "warning: Pod ops/tool: .*tool:0.9.* lacks platforms linux/arm64" "$D/pin.err" \
  && ok "missing platform warned" || fail "missing platform warning"
# The warning points at the tool image's line and column.
want=$(grep -n 'ops/tool:0.9' "$D/original.yaml" | cut -d: -f1)
grep -q "m.yaml:$want:12: warning:" "$D/pin.err" && ok "warning position" || fail "warning position"
ls -a "$D" | grep -q 'tagpin-' && fail "temporary file left behind" || ok "no temporary file left"

# Idempotent: the pinned file pins to itself, and is not rewritten.
cp "$D/m.yaml" "$D/once.yaml"
touch -d '2001-01-01' "$D/m.yaml"
pin "$D/m.yaml" 2> "$D/pin2.err"; rc=$?
[ "$rc" = 0 ] || { cat "$D/pin2.err"; fail "second pin exited $rc"; }
cmp -s "$D/m.yaml" "$D/once.yaml" && ok "second pin changes nothing" || fail "second pin changed the file"
[ "$(stat -c %Y "$D/m.yaml")" = "$(date -d 2001-01-01 +%s)" ] && ok "unchanged file not rewritten" \
  || fail "unchanged file was rewritten"

# --stdout and stdin: the result on stdout, the file untouched.
cp "$D/original.yaml" "$D/s.yaml"
pin --stdout "$D/s.yaml" > "$D/stdout.yaml" 2>/dev/null; rc=$?
[ "$rc" = 0 ] && cmp -s "$D/stdout.yaml" "$D/expected.yaml" && ok "--stdout output" || fail "--stdout output ($rc)"
cmp -s "$D/s.yaml" "$D/original.yaml" && ok "--stdout leaves the file" || fail "--stdout changed the file"
pin - < "$D/original.yaml" > "$D/stdin.yaml" 2>/dev/null; rc=$?
[ "$rc" = 0 ] && cmp -s "$D/stdin.yaml" "$D/expected.yaml" && ok "stdin to stdout" || fail "stdin ($rc)"

# A symlink stays a link; its target is pinned.
cp "$D/original.yaml" "$D/target.yaml"
ln -s target.yaml "$D/link.yaml"
pin "$D/link.yaml" 2>/dev/null; rc=$?
[ "$rc" = 0 ] && [ -L "$D/link.yaml" ] && cmp -s "$D/target.yaml" "$D/expected.yaml" \
  && ok "symlink followed" || fail "symlink ($rc)"

# One denied image anywhere: no file is written, exit 1, the violation cited.
cp "$D/original.yaml" "$D/a.yaml"
sed 's#image: "\(.*\)/shop/app:1.4.2"#image: "\1/shop/app:latest"#' "$D/original.yaml" > "$D/b.yaml"
cp "$D/b.yaml" "$D/b.before"
grep -q 'shop/app:latest' "$D/b.yaml" || { echo "fixture edit failed"; exit 1; }
pin "$D/a.yaml" "$D/b.yaml" 2> "$D/deny.err"; rc=$?
cat "$D/deny.err"
[ "$rc" = 1 ] && ok "denied: exit 1" || fail "denied: exit $rc"
cmp -s "$D/a.yaml" "$D/original.yaml" && cmp -s "$D/b.yaml" "$D/b.before" \
  && ok "denied: no file written" || fail "denied: a file was written"
line=$(grep -n 'shop/app:latest' "$D/b.yaml" | head -1 | cut -d: -f1)
grep -q "b.yaml:$line:18: Deployment shop/web: container \"app\" image \"$R_HOST/shop/app:latest\" is denied by rule \"deny-latest\"" "$D/deny.err" \
  && ok "denied: violation cited" || fail "denied: violation not cited as expected"

# An image the registry does not have: resolution fails, denied by default.
sed 's#shop/web:2.0#shop/web:9.9#' "$D/original.yaml" > "$D/c.yaml"
cp "$D/c.yaml" "$D/c.before"
pin "$D/c.yaml" 2> "$D/missing.err"; rc=$?
[ "$rc" = 1 ] && cmp -s "$D/c.yaml" "$D/c.before" && grep -q 'could not be pinned' "$D/missing.err" \
  && ok "unresolvable: exit 1, untouched" || { cat "$D/missing.err"; fail "unresolvable ($rc)"; }

# Block scalars cannot be rewritten in place: exit 2, untouched.
printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: >-\n      %s/shop/web:2.0\n' "$R_HOST" > "$D/block.yaml"
cp "$D/block.yaml" "$D/block.before"
pin "$D/block.yaml" 2> "$D/block.err"; rc=$?
[ "$rc" = 2 ] && cmp -s "$D/block.yaml" "$D/block.before" && grep -q 'block.yaml:7:12: error: a block scalar' "$D/block.err" \
  && ok "block scalar refused" || { cat "$D/block.err"; fail "block scalar ($rc)"; }

# An anchor shared by an image and another field: pinning would change both.
printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: &img %s/shop/web:2.0\n    env: [{name: I, value: *img}]\n' "$R_HOST" > "$D/anchor.yaml"
cp "$D/anchor.yaml" "$D/anchor.before"
pin "$D/anchor.yaml" 2> "$D/anchor.err"; rc=$?
[ "$rc" = 2 ] && cmp -s "$D/anchor.yaml" "$D/anchor.before" && grep -q 'more than its image values' "$D/anchor.err" \
  && ok "shared anchor refused" || { cat "$D/anchor.err"; fail "shared anchor ($rc)"; }

# Usage errors.
"$bin" pin 2>/dev/null; [ $? = 2 ] && ok "no file: exit 2" || fail "no file"
"$bin" pin --offline "$D/a.yaml" 2>/dev/null; [ $? = 2 ] && ok "--offline refused" || fail "--offline"
"$bin" pin --validate "$D/a.yaml" 2>/dev/null; [ $? = 2 ] && ok "--validate refused" || fail "--validate"
pin "$D/nonexistent.yaml" 2>/dev/null; [ $? = 2 ] && ok "missing file: exit 2" || fail "missing file"

[ "$fails" = 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all pin checks passed"
