"""Policy reloads under concurrent requests (driven by reload.test.sh).

Four keep-alive clients send the same review (an image with :latest) the
whole time while the policy file changes: warn (admits it), a bad file,
enforce (denies it), then by SIGHUP warn again and a bad file again. Every
request must get an answer; a request that started after a reload was
counted must see the new verdict, one that ended before the file changed
the old one; refused files change nothing."""
import os
import signal
import sys
import threading
import time

sys.path.insert(0, sys.argv[1])
import opsclient as oc  # noqa: E402

_, _, port, mport, ca, policy_path, pid = sys.argv
port, mport, pid = int(port), int(mport), int(pid)
fails = []
def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        fails.append(what)

body = oc.review(["127.0.0.1:1/app:latest"])
records = []  # (start, end, ok, allowed)
lock = threading.Lock()
stop = threading.Event()

def client():
    conn = oc.Conn(port, ca)
    while not stop.is_set():
        t0 = time.monotonic()
        try:
            status, resp = oc.admit(conn, body)
            good = status == 200 and resp is not None
            allowed = resp["allowed"] if good else None
        except Exception as e:  # noqa: BLE001 - any failure is a failed request
            print("request failed: %r" % (e,))
            good, allowed = False, None
        with lock:
            records.append((t0, time.monotonic(), good, allowed))
        if not good:
            return
    conn.close()

def count(result):
    return oc.metrics(mport).get('tagpin_policy_reloads_total{result="%s"}' % result)

def write(text):
    tmp = policy_path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, policy_path)  # as editors and ConfigMap swaps do: a new inode

WARN = "mode: warn\nserver:\n  auditLog: \"off\"\n  reloadInterval: %s\n"
ENFORCE = "mode: enforce\nserver:\n  auditLog: \"off\"\n  reloadInterval: %s\n"
BAD = "mode: sometimes\n"
# (text, via SIGHUP, counter that must move, its new value, verdict afterwards)
steps = [(WARN % "200ms", False, "ok", 1, True),
         (BAD, False, "error", 1, True),
         (ENFORCE % "0s", False, "ok", 2, False),  # the watcher stops checking
         (WARN % "0s", True, "ok", 3, True),
         (BAD, True, "error", 2, True)]
windows = []  # (changed, observed, verdict after)
threads = [threading.Thread(target=client) for _ in range(4)]
for t in threads:
    t.start()
try:
    oc.wait_for("first answers", lambda: len(records) >= 8)
    for text, hup, which, value, verdict in steps:
        n = len(records)
        changed = time.monotonic()
        write(text)
        if hup:
            os.kill(pid, signal.SIGHUP)
        oc.wait_for("%s reload %d" % (which, value), lambda: count(which) == value)
        windows.append((changed, time.monotonic(), verdict))
        oc.wait_for("traffic", lambda: len(records) >= n + 8)
finally:
    stop.set()
    for t in threads:
        t.join()

check(all(r[2] for r in records), "%d concurrent reviews, none failed" % len(records))
wrong = 0
for start, end, good, allowed in records:
    verdict = False  # the initial policy denies :latest
    ambiguous = False
    for changed, observed, after in windows:
        if observed <= start:
            verdict = after
        elif end > changed:
            ambiguous = True  # in flight while this reload happened
    if good and not ambiguous and allowed != verdict:
        wrong += 1
check(wrong == 0, "every review outside a reload window saw the policy in force (%d wrong)" % wrong)
m = oc.metrics(mport)
check(m.get('tagpin_policy_reloads_total{result="ok"}') == 3, "3 good reloads counted")
check(m.get('tagpin_policy_reloads_total{result="error"}') == 2, "2 refused reloads counted")
check(m.get("tagpin_policy_last_reload_success_timestamp_seconds", 0) > 1e9, "last success time set")
sys.exit(1 if fails else 0)
