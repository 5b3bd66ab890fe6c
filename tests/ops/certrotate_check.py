"""Certificate rotation under keep-alive traffic (driven by certrotate.test.sh).

A client keeps one TLS connection busy with reviews the whole time; the
Secret-style volume is swapped to certificate b, then to a pair whose key
does not match. Checks: no request fails, the busy connection is never
replaced, new connections see b once the reload is counted, and the bad
pair is refused with b still served."""
import subprocess
import sys
import threading

sys.path.insert(0, sys.argv[1])
import opsclient as oc  # noqa: E402

_, _, port, mport, ca, vol, certs = sys.argv
port, mport = int(port), int(mport)
fails = []
def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        fails.append(what)

def rotate(cert, key):
    subprocess.run(["bash", "-c", '. "$0/lib.sh" 2>/dev/null; ops_volume "$1" "$2" "$3"',
                    sys.argv[1], vol, cert, key], check=True,
                   env={"TAGPIN_SOURCE_DIR": "x", "TAGPIN_BIN": "x", "PATH": "/usr/bin:/bin"})

body = oc.review(["127.0.0.1:1/app:latest"])  # denied by the default rules, no registry
busy = oc.Conn(port, ca)
check(busy.serial == 0x0a, "first connection sees certificate a")
stop = threading.Event()
results = []
def traffic():
    while not stop.is_set():
        try:
            status, resp = oc.admit(busy, body)
            results.append(status == 200 and resp is not None and resp["allowed"] is False)
        except Exception as e:  # noqa: BLE001 - any failure is a failed request
            results.append(False)
            print("request failed: %r" % (e,))
            return
t = threading.Thread(target=traffic)
t.start()
try:
    oc.wait_for("traffic", lambda: len(results) >= 5)
    rotate(certs + "/b.pem", certs + "/b.key")
    oc.wait_for("certificate reload", lambda: oc.metrics(mport).get(
        'tagpin_certificate_reloads_total{result="ok"}') == 1)
    n_at_reload = len(results)
    check(oc.new_connection_serial(port, ca) == 0x0b, "a new connection sees certificate b")
    oc.wait_for("traffic after the rotation", lambda: len(results) >= n_at_reload + 5)
    # A mismatched pair: certificate a with key b.
    rotate(certs + "/a.pem", certs + "/b.key")
    oc.wait_for("refused reload", lambda: oc.metrics(mport).get(
        'tagpin_certificate_reloads_total{result="error"}') == 1)
    check(oc.new_connection_serial(port, ca) == 0x0b, "after a bad pair, b is still served")
    m = oc.metrics(mport)
    check(m.get('tagpin_certificate_reloads_total{result="ok"}') == 1, "one good reload counted")
    check(m.get("tagpin_certificate_expiry_timestamp_seconds", 0) > 0, "expiry metric set")
    n_now = len(results)
    oc.wait_for("traffic after the bad pair", lambda: len(results) >= n_now + 5)
finally:
    stop.set()
    t.join()
check(len(results) > 15 and all(results), "%d reviews on the busy connection, none failed" % len(results))
check(busy.c.sock is busy.sock and busy.serial == 0x0a,
      "the busy connection was never replaced and keeps certificate a")
busy.close()
sys.exit(1 if fails else 0)
