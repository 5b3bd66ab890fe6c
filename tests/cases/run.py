#!/usr/bin/env python3
"""Runs one data-driven admission case through `tagpin review` and checks the answer.

A case is a folder:
  request.json   the AdmissionReview the API server sends
  policy.yaml    optional; without it the embedded default policy judges
  expected.json  what must hold of the answer:
    "allowed": bool, "code": int (status.code when denied),
    "message": [substrings of status.message], "warnings": [substrings, each found in
    some warning] (an empty list means no warnings at all), "decision": the
    auditAnnotations decision, "patch": the exact JSON Patch ops or null for none,
    "validate": true to review as /validate, "exit": expected exit status (default 0),
    "stderr": [substrings] (for refused input)
  object.json    optional: the object after applying the patch with python3-jsonpatch,
                 an implementation independent of tagpin's.
Usage: run.py TAGPIN_BIN CASE_DIR
"""
import base64
import json
import os
import subprocess
import sys

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)


def main():
    tagpin, case = sys.argv[1], sys.argv[2]
    exp = json.load(open(os.path.join(case, "expected.json")))
    cmd = [tagpin, "review"]
    if os.path.exists(os.path.join(case, "policy.yaml")):
        cmd += ["--config", os.path.join(case, "policy.yaml")]
    if exp.get("validate"):
        cmd.append("--validate")
    cmd.append(os.path.join(case, "request.json"))
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    check(p.returncode == exp.get("exit", 0),
          f"exit status {p.returncode}, want {exp.get('exit', 0)}; stderr: {p.stderr.strip()}")
    for s in exp.get("stderr", []):
        check(s in p.stderr, f"stderr lacks {s!r}: {p.stderr.strip()}")
    if p.returncode != 0 or "allowed" not in exp:
        return
    request = json.load(open(os.path.join(case, "request.json")))
    answer = json.loads(p.stdout)
    resp = answer["response"]
    check(answer["apiVersion"] == request["apiVersion"], "apiVersion not echoed")
    check(answer["kind"] == "AdmissionReview", "kind is not AdmissionReview")
    check(resp["uid"] == request["request"]["uid"], "uid not echoed")
    check(resp["allowed"] == exp["allowed"], f"allowed={resp['allowed']}, want {exp['allowed']}")
    status = resp.get("status", {})
    if not exp["allowed"]:
        check(status.get("code") == exp.get("code", 403), f"status.code={status.get('code')}")
        for s in exp.get("message", []):
            check(s in status.get("message", ""), f"message lacks {s!r}: {status.get('message')!r}")
    warnings = resp.get("warnings", [])
    if "warnings" in exp:
        if not exp["warnings"]:
            check(not warnings, f"unexpected warnings {warnings}")
        for s in exp["warnings"]:
            check(any(s in w for w in warnings), f"no warning contains {s!r}: {warnings}")
    if "decision" in exp:
        got = resp.get("auditAnnotations", {}).get("decision")
        check(got == exp["decision"], f"decision={got!r}, want {exp['decision']!r}")
    if "patch" in exp:
        patch = json.loads(base64.b64decode(resp["patch"])) if "patch" in resp else None
        check(("patchType" in resp) == (patch is not None), "patchType without patch or patch without patchType")
        check(patch == exp["patch"], f"patch={json.dumps(patch)}, want {json.dumps(exp['patch'])}")
        obj_file = os.path.join(case, "object.json")
        if patch is not None and os.path.exists(obj_file):
            import jsonpatch  # Debian's python3-jsonpatch: an independent RFC 6902 implementation
            patched = jsonpatch.apply_patch(request["request"]["object"], patch)
            check(patched == json.load(open(obj_file)), "patched object differs from object.json")


if __name__ == "__main__":
    main()
    for f in failures:
        print("FAIL:", f)
    print(f"{sys.argv[2]}: {'FAIL' if failures else 'ok'}")
    sys.exit(1 if failures else 0)
