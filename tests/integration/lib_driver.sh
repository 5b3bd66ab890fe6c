# Helpers for resolver.sh: drive resolve_driver over FIFOs (one live cache
# per driver) and check JSON answers. Sourced, not run.
DRIVER=${TAGPIN_BUILD_DIR:?}/tests/integration/resolve_driver
FAILS=0
DRV_PID=

# drv_open DIR ARGS...: starts a driver reading commands on fd 7, answering on fd 8.
drv_open() {
  local d=$1; shift
  drv_close
  rm -f "$d/drv.in" "$d/drv.out"
  mkfifo "$d/drv.in" "$d/drv.out"
  "$DRIVER" --stdin "$@" <"$d/drv.in" >"$d/drv.out" 2>>"$d/drv.err" &
  DRV_PID=$!
  exec 7>"$d/drv.in" 8<"$d/drv.out"
}

drv_close() {
  [ -n "$DRV_PID" ] || return 0
  echo quit >&7 2>/dev/null || true
  exec 7>&- 8<&-
  wait "$DRV_PID" || { echo "FAIL: driver exited with $?"; FAILS=$((FAILS + 1)); }
  DRV_PID=
}

# drv CMD...: sends one command, prints its first answer line.
drv() {
  echo "$*" >&7
  local line
  IFS= read -r -t 120 line <&8 || { echo '{"code":"DRIVER_NO_ANSWER"}'; return; }
  printf '%s\n' "$line"
}

# jf JSON KEY: prints one field (lists joined by commas, booleans as true/false).
jf() {
  PYENV_VERSION=system /usr/bin/python3 -c '
import json, sys
v = json.loads(sys.argv[1]).get(sys.argv[2], "")
if isinstance(v, bool): v = "true" if v else "false"
elif isinstance(v, list): v = ",".join(map(str, v))
print(v)' "$1" "$2"
}

# pushed FILE KIND FIELD: a field of push.py's output.
pushed() {
  PYENV_VERSION=system /usr/bin/python3 -c '
import json, sys
v = json.load(open(sys.argv[1]))[sys.argv[2]][sys.argv[3]]
print(",".join(v) if isinstance(v, list) else v)' "$1" "$2" "$3"
}

expect_eq() { # NAME ACTUAL EXPECTED
  if [ "$2" = "$3" ]; then echo "ok   $1"
  else echo "FAIL $1: got '$2', want '$3'"; FAILS=$((FAILS + 1)); fi
}

expect_contains() { # NAME HAYSTACK NEEDLE
  case "$2" in *"$3"*) echo "ok   $1" ;;
  *) echo "FAIL $1: '$2' does not contain '$3'"; FAILS=$((FAILS + 1)) ;; esac
}

expect_lt() { # NAME ACTUAL BOUND
  if [ "$2" -lt "$3" ]; then echo "ok   $1"
  else echo "FAIL $1: $2 is not below $3"; FAILS=$((FAILS + 1)); fi
}
