#!/usr/bin/env bash
# Runs one pin case against a real registry: starts Debian's docker-registry
# (plain HTTP, tests/registry kit) on a free port, pushes the images the case
# lists in images.txt ("KEY KIND REPO:TAG" per line; KIND as push.py takes),
# fills the placeholders @@REGISTRY@@ and @@DIGEST:KEY@@ (the sha256 of the
# exact manifest bytes pushed) into request.json, policy.yaml, expected.json
# and object.json, then checks the answer with tests/cases/run.py, which also
# applies the patch with python3-jsonpatch and compares the object.
# Usage: run.sh CASE_DIR (TAGPIN_BIN, TAGPIN_SOURCE_DIR from ctest).
set -uo pipefail  # not -e: the kit's functions return the status of their last test
case_dir=${1:?usage: run.sh CASE_DIR}
src=${TAGPIN_SOURCE_DIR:?}
. "$src/tests/registry/lib.sh"
trap reg_stop_all EXIT
reg_tmpdir D
reg_start R plain "$D" >/dev/null
[ -n "${R_HOST:-}" ] || { echo "registry did not start"; exit 1; }

declare -A digest
if [ -f "$case_dir/images.txt" ]; then
  while read -r key kind ref; do
    [ -n "$key" ] && [ "${key#\#}" = "$key" ] || continue
    out=$(reg_push --name R image "$kind" "$ref") || { echo "push $ref failed"; exit 1; }
    digest[$key]=$(reg_python -c 'import json,sys; print(json.load(sys.stdin)["digest"])' <<< "$out")
  done < "$case_dir/images.txt"
fi

mkdir -p "$D/case"
for f in request.json policy.yaml expected.json object.json; do
  [ -f "$case_dir/$f" ] || continue
  sed "s/@@REGISTRY@@/$R_HOST/g" "$case_dir/$f" > "$D/case/$f"
  for key in "${!digest[@]}"; do
    sed -i "s/@@DIGEST:$key@@/${digest[$key]}/g" "$D/case/$f"
  done
  if grep -q '@@' "$D/case/$f"; then echo "unfilled placeholder in $f"; exit 1; fi
done
# Every pin case may use the registry; nothing else is reachable.
printf '\nregistry:\n  insecure: ["%s"]\n  allow: ["127.0.0.1*"]\n' "$R_HOST" >> "$D/case/policy.yaml"
mark=$(reg_log_mark R)
reg_python "$src/tests/cases/run.py" "${TAGPIN_BIN:?}" "$D/case" || exit 1
# Registry requests: one HEAD per distinct tag, plus one GET per image index
# (its platforms are checked); the file `requests` holds the expected total.
want=$(cat "$case_dir/requests" 2>/dev/null || echo any)
got=$(reg_log_count R '*' '^/v2/' '*' "$mark")
if [ "$want" != any ] && [ "$got" != "$want" ]; then
  echo "FAIL: $got registry requests, want $want"; exit 1
fi
echo "registry requests: $got"
