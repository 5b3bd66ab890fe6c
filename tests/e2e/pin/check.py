#!/usr/bin/python3
"""JSON checks for tests/e2e/pin.sh. Each subcommand exits 0 when the check
holds and 1 otherwise, printing what it saw on stderr.

  check.py digest PUSH_JSON                 print the pushed digest
  check.py images OBJ_JSON                  print every image (path=image), one a line
  check.py pinned OBJ_JSON REF DIGEST...    metadata.annotations["tagpin.io/pinned"]
                                            maps each REF to its DIGEST, and the pod
                                            template (if any) has no such annotation
  check.py unpinned OBJ_JSON                no tagpin.io/pinned annotation anywhere
  check.py audit FILE KIND NAME DECISION [REF DIGEST SOURCE]
                                            tagpin's audit log has a non-dry-run record
                                            for KIND NAME with DECISION (and that image)
  check.py kaudit FILE NAME DECISION        the API server's audit log has an event for
                                            object NAME with pin.tagpin.io/decision
"""
import json
import sys

ANN = "tagpin.io/pinned"


def fail(msg):
    print("check.py: " + msg, file=sys.stderr)
    sys.exit(1)


def load(path):
    with open(path) as f:
        return json.load(f)


def walk_images(obj, path=""):
    """Yields (path, image) for every container list in obj, any depth."""
    if isinstance(obj, dict):
        for key, val in obj.items():
            if key in ("containers", "initContainers", "ephemeralContainers") and isinstance(val, list):
                for i, c in enumerate(val):
                    if isinstance(c, dict) and "image" in c:
                        yield f"{path}/{key}/{i}", c["image"]
            else:
                yield from walk_images(val, f"{path}/{key}")


def template_of(obj):
    spec = obj.get("spec", {})
    if "jobTemplate" in spec:
        return spec["jobTemplate"]["spec"].get("template", {})
    return spec.get("template")


def cmd_pinned(args):
    obj = load(args[0])
    raw = obj["metadata"].get("annotations", {}).get(ANN)
    if raw is None:
        fail(f"{obj['kind']} {obj['metadata']['name']}: no {ANN} annotation")
    got = json.loads(raw)
    want = dict(zip(args[1::2], args[2::2]))
    if got != want:
        fail(f"{ANN} = {got}, want {want}")
    tpl = template_of(obj)
    if tpl and ANN in tpl.get("metadata", {}).get("annotations", {}):
        fail(f"{ANN} is on the pod template (would start a rollout)")


def cmd_unpinned(args):
    text = open(args[0]).read()
    if ANN in text:
        fail(f"{ANN} present in {args[0]}")


def cmd_audit(args):
    path, kind, name, decision = args[:4]
    image = args[4:7]
    seen = []
    for line in open(path):
        rec = json.loads(line)
        if rec.get("event") != "admission" or rec.get("kind") != kind or rec.get("name") != name:
            continue
        seen.append((rec.get("decision"), rec.get("dryRun"), rec.get("images")))
        if rec.get("dryRun") or rec.get("decision") != decision:
            continue
        if not image:
            return
        ref, digest, source = image
        for im in rec.get("images", []):
            if im.get("image") == ref and im.get("digest") == digest and im.get("source") == source:
                return
    fail(f"no {decision} audit record for {kind} {name} {image}; seen {seen}")


def cmd_kaudit(args):
    path, name, decision = args
    for line in open(path):
        ev = json.loads(line)
        ref = ev.get("objectRef", {})
        ann = ev.get("annotations", {})
        if ref.get("name") == name and ann.get("pin.tagpin.io/decision") == decision:
            if "pin.tagpin.io/images" not in ann:
                fail(f"audit event for {name} lacks pin.tagpin.io/images: {ann}")
            return
    fail(f"no API audit event for {name} with pin.tagpin.io/decision={decision}")


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "digest":
        print(load(args[0])["digest"])
    elif cmd == "images":
        for path, image in walk_images(load(args[0])):
            print(f"{path}={image}")
    elif cmd == "pinned":
        cmd_pinned(args)
    elif cmd == "unpinned":
        cmd_unpinned(args)
    elif cmd == "audit":
        cmd_audit(args)
    elif cmd == "kaudit":
        cmd_kaudit(args)
    else:
        fail("unknown command " + cmd)


main()
