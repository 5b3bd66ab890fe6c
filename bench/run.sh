#!/usr/bin/env bash
# bench/run.sh [--quick] [--check]: tagpin's benchmarks, each against a
# baseline measured in this same run on this same machine.
#   1. admission: warm-cache /mutate over TLS keep-alive vs a minimal MHD TLS
#      server returning a fixed AdmissionReview (closed loop and 1,000/s);
#      cold path: registry requests per unique tag.
#   2. resolver: `tagpin resolve` vs `skopeo inspect` on one local registry,
#      cold (fresh process) and warm (in one process), with registry requests
#      per resolution and, without --quick, callgrind instruction counts.
# Prints results and ratios; asserts nothing about speed. --quick shortens
# every run (smoke test); --check fails if any result line is missing or
# unparsable. Needs a build: TAGPIN_BUILD_DIR (default ./build).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=${TAGPIN_SOURCE_DIR:-$(dirname "$here")}
build=${TAGPIN_BUILD_DIR:-$src/build}
quick="" check=""
for a in "$@"; do
  case "$a" in --quick) quick=1;; --check) check=1;; *) echo "usage: $0 [--quick] [--check]" >&2; exit 2;; esac
done
if [ -n "$quick" ]; then
  dur=1 rate_dur=1 conns=4 cold_runs=2 warm_n=10000 callgrind=""
else
  dur=${BENCH_DURATION:-10} rate_dur=${BENCH_RATE_DURATION:-10} conns=${BENCH_CONNECTIONS:-4}
  cold_runs=${BENCH_COLD_RUNS:-10} warm_n=${BENCH_WARM_N:-1000000} callgrind=${BENCH_CALLGRIND-1}
fi
tagpin=$build/tagpin load=$build/bench/tagpin_load baseline=$build/bench/tagpin_baseline_server
loopbin=$build/bench/tagpin_resolve_loop admitbin=$build/bench/tagpin_admit_loop
for b in "$tagpin" "$load" "$baseline" "$loopbin" "$admitbin"; do
  [ -x "$b" ] || { echo "bench: $b not built (cmake --build $build)" >&2; exit 2; }
done
command -v skopeo >/dev/null || {
  [ "$(id -u)" = 0 ] && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq skopeo >/dev/null; }

. "$src/tests/registry/lib.sh"
pids=""
cleanup() {
  local rc=$? p
  set +e # the kit's cleanup is not written for errexit
  for p in $pids; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  reg_stop_all
  exit "$rc"
}
trap cleanup EXIT
reg_tmpdir D
# The kit is not written for set -e: call it only where errexit is off (||).
reg_start R plain "$D/reg" >/dev/null || exit 1
# Problems are collected in a file: many are found inside $(...) subshells.
fail() { echo "bench: $*" >&2; echo "$*" >>"$D/failures"; }
ms_now() { date +%s%N; }

# --- images, certificate, policy, review -----------------------------------
reg_push --name R image oci-index bench/web:1.0 >"$D/web.json" || exit 1
reg_push --name R image docker bench/sidecar:2.1 >"$D/sidecar.json" || exit 1
reg_push --name R image oci bench/agent:3.2 >"$D/agent.json" || exit 1
bash "$src/.ci/dev-cert" "$D/tls"
printf 'registry: {insecure: ["%s"]}\n' "$R_HOST" >"$D/policy.yaml"
reg_python "$here/make_review.py" "$R_HOST" "$D/review.json"
# Diagnostic variant: the same review with one image in all 3 containers, so
# the resolver has one distinct reference and starts no threads of its own.
sed "s#bench/sidecar:2.1#bench/web:1.0#g; s#bench/agent:3.2#bench/web:1.0#g" \
  "$D/review.json" >"$D/review-one.json"

# --- servers ------------------------------------------------------------------
# Audit records go to stdout as shipped; here they are formatted and dropped.
"$tagpin" serve --config "$D/policy.yaml" --listen 127.0.0.1:0 --tls-cert "$D/tls/server.pem" \
  --tls-key "$D/tls/server.key" >/dev/null 2>"$D/tagpin.err" &
pids="$pids $!"
"$baseline" "$D/tls/server.pem" "$D/tls/server.key" "$D/baseline.port" 2>"$D/baseline.err" &
pids="$pids $!"
tport="" bport=""
for _ in $(seq 1 100); do
  tport=$(sed -n 's/.*serving https on port \([0-9]*\).*/\1/p' "$D/tagpin.err" | head -n1)
  bport=$(cat "$D/baseline.port" 2>/dev/null || true)
  [ -n "$tport" ] && [ -n "$bport" ] && break
  sleep 0.1
done
[ -n "$tport" ] && [ -n "$bport" ] || { cat "$D/tagpin.err" "$D/baseline.err" >&2; exit 1; }

# --- cold path: one review with nothing cached ----------------------------------
mark=$(reg_log_mark R)
curl -sS --cacert "$D/tls/ca.pem" -H 'Content-Type: application/json' \
  --data-binary @"$D/review.json" "https://127.0.0.1:$tport/mutate?timeout=10s" >"$D/warm.json"
grep -q '"patchType":"JSONPatch"' "$D/warm.json" || { cat "$D/warm.json" "$D/tagpin.err" >&2; exit 1; }
sleep 0.3 # the registry writes its access log line after answering
cold_req=$(reg_log_count R '*' '^/v2/.+/manifests/' '*' "$mark")
cold_head=$(reg_log_count R HEAD '^/v2/.+/manifests/' '*' "$mark")
cold_get=$(reg_log_count R GET '^/v2/.+/manifests/' '*' "$mark")
cold_all=$(reg_log_count R '*' '.' '*' "$mark")

# --- warm admission: closed loop and fixed rate ----------------------------------
result() { grep '^RESULT ' "$1" | tail -n1; }
field() { sed -n "s/.* $2=\([0-9.]*\).*/\1/p" <<<"$1"; }
run_load() { # NAME PORT EXTRA...
  local name=$1 port=$2 body=$D/review.json; shift 2
  [ "$name" = tagpin-one ] && body=$D/review-one.json
  if ! "$load" --port "$port" --body "$body" --path '/mutate?timeout=10s' \
       --ca "$D/tls/ca.pem" --expect '"allowed":true' "$@" >"$D/$name.out" 2>"$D/$name.err"; then
    fail "$name: load generator failed: $(cat "$D/$name.err")"
  fi
  [ -s "$D/$name.err" ] && fail "$name: $(cat "$D/$name.err")"
  result "$D/$name.out"
}
mark=$(reg_log_mark R)
base_rps=$(run_load base-rps "$bport" --connections "$conns" --duration "$dur")
tag_rps=$(run_load tagpin-rps "$tport" --connections "$conns" --duration "$dur")
one_rps=$(run_load tagpin-one "$tport" --connections "$conns" --duration "$dur")
base_rate=$(run_load base-rate "$bport" --connections "$conns" --duration "$rate_dur" --rate 1000)
tag_rate=$(run_load tagpin-rate "$tport" --connections "$conns" --duration "$rate_dur" --rate 1000)
sleep 0.3
warm_admit_req=$(reg_log_count R '*' '.' '*' "$mark")
# The pipeline alone (decode, judge, cached resolve, answer, audit record),
# in one process without TLS or HTTP: what tagpin adds to a bare server.
pipe=$("$admitbin" "$D/policy.yaml" "$D/review.json" "$([ -n "$quick" ] && echo 2000 || echo 50000)" \
  2>"$D/admit-loop.err") || fail "admit loop: $(cat "$D/admit-loop.err")"
pipe_us=$(awk -v ns="$(field "$pipe" ns_per_review)" 'BEGIN { printf "%.1f", ns / 1000 }')

# --- resolver: tagpin resolve vs skopeo inspect -------------------------------
img=$R_HOST/bench/web:1.0
want=$(reg_python -c 'import json,sys; print(json.load(open(sys.argv[1]))["digest"])' "$D/web.json")
per_run() { # LABEL CMD...: runs CMD cold_runs times; prints mean ms and registry requests per run
  local label=$1; shift
  local m t0 t1 out i
  m=$(reg_log_mark R); t0=$(ms_now)
  for i in $(seq 1 "$cold_runs"); do
    out=$("$@" 2>"$D/$label.err") || { fail "$label failed: $(cat "$D/$label.err")"; break; }
    [[ "$out" == *"$want"* ]] || fail "$label printed '$out', expected digest $want"
  done
  t1=$(ms_now); sleep 0.3
  awk -v a="$t0" -v b="$t1" -v n="$cold_runs" -v r="$(reg_log_count R '*' '.' '*' "$m")" \
    'BEGIN { printf "%.2f %.2f\n", (b - a) / 1e6 / n, r / n }'
}
read -r tp_cold_ms tp_cold_req < <(per_run tagpin-cold "$tagpin" resolve --config "$D/policy.yaml" "$img")
read -r sk_ms sk_req < <(per_run skopeo skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$img")

# Warm: many resolutions inside one process, timed in that process (a fresh
# process's start-up would drown them); the first, cold one is separate.
m=$(reg_log_mark R)
loop=$("$loopbin" "$R_HOST" "$img" "$warm_n" 2>"$D/loop.err") || fail "resolve loop: $(cat "$D/loop.err")"
sleep 0.3
[ "$(sed -n 's/.* digest=\([^ ]*\).*/\1/p' <<<"$loop")" = "$want" ] || fail "resolve loop gave '$loop', expected $want"
loop_req=$(reg_log_count R '*' '.' '*' "$m")
tp_warm_us=$(awk -v ns="$(field "$loop" warm_ns)" 'BEGIN { printf "%.3f", ns / 1000 }')
tp_inproc_cold_ms=$(awk -v us="$(field "$loop" cold_us)" 'BEGIN { printf "%.2f", us / 1000 }')
# Registry log requests beyond the cold resolution's, per warm resolution.
warm_req=$(awk -v r="$loop_req" -v c="$(field "$loop" cold_requests)" -v n="$warm_n" \
  'BEGIN { printf "%.4f", (r - c) / n }')

cg_cold="-" cg_warm="-" cg_base_review="-" cg_tag_review="-"
if [ -n "$callgrind" ] && command -v valgrind >/dev/null; then
  irs() { sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$1" | tail -n1; }
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$tagpin" resolve \
    --config "$D/policy.yaml" "$img" >/dev/null 2>"$D/cg-cold.err" || true
  cg_cold=$(irs "$D/cg-cold.err")
  for n in 1 1001; do
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$loopbin" "$R_HOST" "$img" "$n" \
      >/dev/null 2>"$D/cg-$n.err" || true
  done
  a=$(irs "$D/cg-1.err") b=$(irs "$D/cg-1001.err")
  [ -n "$a" ] && [ -n "$b" ] && cg_warm=$(( (b - a) / 1000 ))
  [ -n "$cg_cold" ] || cg_cold="-"
  # Instructions per warm review in each server: a run of 1,100 reviews minus
  # a run of 100, one connection, under callgrind (slow: about a minute).
  cg_serve() { # tagpin|baseline N: prints the server's instruction total
    local who=$1 n=$2 pid port="" log=$D/cg-$1-$2.err
    rm -f "$D/cg.port"
    if [ "$who" = tagpin ]; then
      valgrind --tool=callgrind --callgrind-out-file=/dev/null "$tagpin" serve --config \
        "$D/policy.yaml" --listen 127.0.0.1:0 --tls-cert "$D/tls/server.pem" \
        --tls-key "$D/tls/server.key" >/dev/null 2>"$log" &
    else
      valgrind --tool=callgrind --callgrind-out-file=/dev/null "$baseline" "$D/tls/server.pem" \
        "$D/tls/server.key" "$D/cg.port" 2>"$log" &
    fi
    pid=$!
    for _ in $(seq 1 300); do
      port=$(sed -n 's/.*serving https on port \([0-9]*\).*/\1/p' "$log" | head -n1)
      [ -z "$port" ] && port=$(cat "$D/cg.port" 2>/dev/null || true)
      [ -n "$port" ] && break
      sleep 0.1
    done
    if [ -n "$port" ]; then
      "$load" --port "$port" --body "$D/review.json" --path '/mutate?timeout=10s' \
        --ca "$D/tls/ca.pem" --connections 1 --duration 300 --max "$n" >/dev/null 2>&1
    fi
    kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
    irs "$log"
  }
  a=$(cg_serve baseline 100) b=$(cg_serve baseline 1100)
  [ -n "$a" ] && [ -n "$b" ] && cg_base_review=$(( (b - a) / 1000 ))
  a=$(cg_serve tagpin 100) b=$(cg_serve tagpin 1100)
  [ -n "$a" ] && [ -n "$b" ] && cg_tag_review=$(( (b - a) / 1000 ))
fi

# --- summary ---------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
date -u '+bench/run.sh %Y-%m-%d %H:%M UTC'
echo "machine: $(nproc) cores, $(uname -r); load: $conns keep-alive TLS connections, ${dur}s closed loop, ${rate_dur}s at 1000/s"
echo
echo "Admission (warm cache, Deployment with 3 containers, POST /mutate over TLS keep-alive)"
printf '%-24s %10s %10s %10s %10s %8s\n' server reviews/s p50_us p99_us p99.9_us errors
for row in "baseline:$base_rps" "tagpin:$tag_rps" "tagpin(1 distinct img):$one_rps" \
           "baseline@1000/s:$base_rate" "tagpin@1000/s:$tag_rate"; do
  r=${row#*:}
  printf '%-24s %10s %10s %10s %10s %8s\n' "${row%%:*}" "$(field "$r" rps)" "$(field "$r" p50_us)" \
    "$(field "$r" p99_us)" "$(field "$r" p999_us)" "$(field "$r" errors)"
done
t=$(field "$tag_rps" rps) b=$(field "$base_rps" rps) p=$(field "$tag_rate" p99_us)
echo "tagpin/baseline throughput: $(ratio "$t" "$b")x   (target >= 0.5x)"
echo "tagpin reviews/s: $t   (target >= 10000)"
echo "tagpin p99 at 1000/s: ${p} us   (target < 1000 us)"
echo "admission pipeline alone (in process, no TLS/HTTP): $pipe_us us per review"
echo "callgrind instructions per warm review: baseline $cg_base_review, tagpin $cg_tag_review ($(ratio "$cg_tag_review" "$cg_base_review")x)"
echo "cold review, 3 unique tags: $cold_req manifest requests ($cold_head HEAD, $cold_get GET), $cold_all registry requests in all; $(ratio "$cold_req" 3) per unique tag (target 1)"
echo "registry requests during the warm runs: $warm_admit_req"
echo
echo "Resolver ($img, OCI index, plain HTTP)"
printf '%-34s %12s %14s\n' "" "ms/resolution" "requests/res."
printf '%-34s %12s %14s\n' "skopeo inspect (fresh process)" "$sk_ms" "$sk_req"
printf '%-34s %12s %14s\n' "tagpin resolve cold (fresh process)" "$tp_cold_ms" "$tp_cold_req"
printf '%-34s %12s %14s\n' "tagpin cold (in process, no start-up)" "$tp_inproc_cold_ms" "$(field "$loop" cold_requests)"
printf '%-34s %12s %14s\n' "tagpin warm (in process, x$warm_n)" "$(awk -v u="$tp_warm_us" 'BEGIN { printf "%.6f", u / 1000 }')" \
  "$warm_req"
echo "cold: tagpin/skopeo wall time $(ratio "$tp_cold_ms" "$sk_ms")x (target <= 1x); warm: skopeo/tagpin $(ratio "$sk_ms" "$(awk -v u="$tp_warm_us" 'BEGIN { print u / 1000 }')")x"
echo "callgrind instructions: tagpin resolve cold process $cg_cold, warm resolution $cg_warm"

if [ -n "$check" ]; then
  # Stop the servers first so a sanitizer build reports leaks, then look.
  for p in $pids; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null || true; done
  pids=""
  for f in "$D/tagpin.err" "$D/baseline.err" "$D/loop.err" "$D/admit-loop.err"; do
    ! grep -q 'Sanitizer\|runtime error:' "$f" 2>/dev/null || fail "sanitizer report in $f: $(head -c 2000 "$f")"
  done
  for r in "$base_rps" "$tag_rps" "$one_rps" "$base_rate" "$tag_rate"; do
    for k in requests rps p50_us p99_us p999_us; do
      [ -n "$(field "$r" "$k")" ] || fail "result line without $k: '$r'"
    done
    [ "$(field "$r" requests)" -gt 0 ] 2>/dev/null || fail "no successful requests: '$r'"
  done
  [[ "$pipe" == *decision=patched* ]] || fail "admit loop did not pin: '$pipe'"
  for v in "$tp_cold_ms" "$sk_ms" "$tp_warm_us" "$cold_req" "$pipe_us"; do
    [[ "$v" =~ ^[0-9.]+$ ]] || fail "unparsable resolver figure '$v'"
  done
fi
[ ! -s "$D/failures" ] || { echo "bench: $(wc -l <"$D/failures") problem(s), see above" >&2; exit 1; }
