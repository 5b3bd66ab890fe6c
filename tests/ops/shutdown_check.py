"""SIGTERM with requests in flight (driven by shutdown.test.sh).

Slow reviews (the fault server's `slow` scenario) are sent on their own
connections and an idle keep-alive connection is held open. Once the fault
server's /metrics shows them in flight, SIGTERM: /readyz on the kept connection must turn
503 with Connection: close; with `expect=complete` every slow review must
still get its 200 and patch, with `expect=cut` (grace shorter than the
requests) the process must exit without waiting for them."""
import os
import signal
import sys
import threading

sys.path.insert(0, sys.argv[1])
import opsclient as oc  # noqa: E402

_, _, port, mport, ca, F, pid, n, expect = sys.argv
port, mport, pid, n = int(port), int(mport), int(pid), int(n)
fails = []
def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        fails.append(what)

def in_flight():
    return oc.metrics(mport).get("tagpin_http_requests_in_flight", 0)

idle = oc.Conn(port, ca)  # one request, then idle until the server closes it
check(idle.request("GET", "/healthz")[0] == 200, "idle keep-alive connection open")
kept = oc.Conn(port, ca)
status, _, body = kept.request("GET", "/readyz")
check((status, body) == (200, b"ready\n"), "ready before SIGTERM")
results = [None] * n
def slow(i):
    try:
        c = oc.Conn(port, ca, timeout=60)
        status, resp = oc.admit(c, oc.review(["%s/slow/app%d:v1" % (F, i)]))
        results[i] = (status, bool(resp and resp["allowed"] and resp.get("patch")))
        c.close()
    except Exception as e:  # noqa: BLE001 - recorded as a failed request
        results[i] = ("failed: %r" % (e,), False)
threads = [threading.Thread(target=slow, args=(i,)) for i in range(n)]
for t in threads:
    t.start()
oc.wait_for("slow requests in flight", lambda: in_flight() >= n)
os.kill(pid, signal.SIGTERM)

def readyz_fails():
    status, headers, body = kept.request("GET", "/readyz")
    return status == 503 and (body, headers.get("connection"))
if expect == "complete":
    # The requests outlast the drain's start, so the kept connection is
    # still served (a grace shorter than them may close it at any moment).
    got = oc.wait_for("/readyz 503 on the kept connection", readyz_fails)
    check(got == (b"draining\n", "close"), "/readyz 503 draining, Connection: close, during the drain")
kept.close()
for t in threads:
    t.join()
if expect == "complete":
    check(all(r == (200, True) for r in results), "every in-flight review answered 200 with a patch: %s" % results)
else:
    check(all(r != (200, True) for r in results), "reviews past the grace were cut: %s" % results)
# The idle connection must not hold the shutdown: the server closes it
# (end of stream) once the drain is over, without a request on it.
idle.sock.settimeout(60)
try:
    eof = idle.sock.recv(1) == b""
except OSError:
    eof = True  # reset: closed as well
check(eof, "the server closed the idle keep-alive connection")
sys.exit(1 if fails else 0)
