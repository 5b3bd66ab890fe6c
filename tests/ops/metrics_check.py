"""A known sequence of reviews, then /metrics parsed and compared exactly
(driven by metrics.test.sh). R is a real registry holding public/app:v1,
F the fault server; the expected registry traffic is also checked against
what F itself counted."""
import json
import sys
import urllib.request

sys.path.insert(0, sys.argv[1])
import opsclient as oc  # noqa: E402

_, _, port, mport, ca, R, F, T = sys.argv
port, mport = int(port), int(mport)
fails = []
def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        fails.append(what)

app, ok_y = R + "/public/app:v1", F + "/ok/y:v1"
conn = oc.Conn(port, ca)
steps = [  # (images, kind, path, expected decision)
    ([app], "Pod", "/mutate", "patched"),              # R: HEAD 200
    ([app], "Pod", "/mutate", "patched"),              # cache
    ([F + "/ratelimit/x:v1"], "Pod", "/mutate", "patched"),  # F: 429, then 200
    ([F + "/error500/x:v1"], "Pod", "/mutate", "denied"),    # F: 500, not retried
    ([F + "/notfound/x:v1"], "Pod", "/mutate", "denied"),    # F: 404
    ([F + "/notfound/x:v1"], "Pod", "/mutate", "denied"),    # negative cache
    ([F + "/drop/x:v1"], "Pod", "/mutate", "denied"),        # F: no answer
    (["nginx:latest"], "Deployment", "/mutate", "denied"),   # policy, no lookup
    ([app, ok_y], "Pod", "/mutate", "patched"),        # app from cache, F: 200
    ([app + "@sha256:" + "0" * 64], "Pod", "/validate", "allowed"),
    ([T + "/public/tok:v1"], "Pod", "/mutate", "patched"),  # T: 401, token, 200
]
for images, kind, path, want in steps:
    status, resp = oc.admit(conn, oc.review(images, kind), path + "?timeout=10s")
    got = "error"
    if status == 200 and resp is not None:
        got = "denied" if not resp["allowed"] else "patched" if resp.get("patch") else "allowed"
    check(got == want, "%s %s %s: %s" % (path, kind, " ".join(images), got))
conn.close()

m = oc.metrics(mport)
want = {
    'tagpin_admission_requests_total{operation="CREATE",kind="Pod",decision="patched"}': 5,
    'tagpin_admission_requests_total{operation="CREATE",kind="Pod",decision="denied"}': 4,
    'tagpin_admission_requests_total{operation="CREATE",kind="Deployment",decision="denied"}': 1,
    'tagpin_admission_requests_total{operation="CREATE",kind="Pod",decision="allowed"}': 1,
    'tagpin_admission_duration_seconds_count': 11,
    'tagpin_registry_requests_total{registry="%s",status="200"}' % R: 1,
    'tagpin_registry_requests_total{registry="%s",status="200"}' % F: 2,
    'tagpin_registry_requests_total{registry="%s",status="429"}' % F: 1,
    'tagpin_registry_requests_total{registry="%s",status="500"}' % F: 1,
    'tagpin_registry_requests_total{registry="%s",status="404"}' % F: 1,
    'tagpin_registry_requests_total{registry="%s",status="error"}' % F: 1,
    'tagpin_registry_request_duration_seconds_count{registry="%s"}' % R: 1,
    'tagpin_registry_requests_total{registry="%s",status="401"}' % T: 1,
    'tagpin_registry_requests_total{registry="%s",status="200"}' % T: 1,
    'tagpin_registry_request_duration_seconds_count{registry="%s"}' % T: 2,
    'tagpin_registry_request_duration_seconds_count{registry="%s"}' % F: 6,
    'tagpin_registry_request_duration_seconds_bucket{registry="%s",le="+Inf"}' % F: 6,
    'tagpin_resolutions_total{source="registry",result="ok"}': 4,
    'tagpin_resolutions_total{source="cache",result="ok"}': 2,
    'tagpin_resolutions_total{source="registry",result="not_found"}': 1,
    'tagpin_resolutions_total{source="cache",result="not_found"}': 1,
    'tagpin_resolutions_total{source="registry",result="error"}': 2,
    'tagpin_resolutions_total{source="stale",result="ok"}': 0,
    'tagpin_resolutions_total{source="shared",result="ok"}': 0,
    'tagpin_resolutions_total{source="none",result="error"}': 0,
    'tagpin_cache_hits_total': 2,
    'tagpin_cache_negative_hits_total': 1,
    'tagpin_cache_misses_total': 7,
    'tagpin_token_fetches_total{result="ok"}': 1,
    'tagpin_token_fetches_total{result="error"}': 0,
    'tagpin_moved_tags_total': 0,
    'tagpin_policy_reloads_total{result="ok"}': 0,
    'tagpin_certificate_reloads_total{result="ok"}': 0,
}
for k, v in want.items():
    check(m.get(k) == v, "%s = %s (got %s)" % (k, v, m.get(k)))
# Every series of a registry is labelled; no status slot we did not cause.
extra = [k for k in m if k.startswith("tagpin_registry_requests_total") and k not in want]
check(not extra, "no other registry series: %s" % extra)
# Cumulative buckets never decrease.
for reg in (R, F):
    bs = [v for k, v in m.items() if k.startswith(
        'tagpin_registry_request_duration_seconds_bucket{registry="%s"' % reg)]
    check(bs == sorted(bs), "buckets of %s are cumulative" % reg)

# What F saw must match what we counted for it.
with urllib.request.urlopen("http://%s/_control/stats" % F, timeout=10) as r:
    stats = json.load(r)["paths"]
def seen(path, status):
    return stats.get("HEAD " + path, {}).get("statuses", {}).get(status, 0)
check(seen("/v2/ratelimit/x/manifests/v1", "429") == 1 and
      seen("/v2/ratelimit/x/manifests/v1", "200") == 1, "F saw 429 then 200")
check(seen("/v2/error500/x/manifests/v1", "500") == 1, "F saw one 500")
check(seen("/v2/notfound/x/manifests/v1", "404") == 1, "F saw one 404")
check(seen("/v2/ok/y/manifests/v1", "200") == 1, "F saw one 200 for ok/y")
check(seen("/v2/drop/x/manifests/v1", "0") == 1, "F dropped one")
check(sum(e["count"] for p, e in stats.items() if p.startswith(("HEAD /v2/", "GET /v2/"))
          and p not in ("GET /v2/", "HEAD /v2/")) == 6, "F saw 6 manifest requests in all")
sys.exit(1 if fails else 0)
