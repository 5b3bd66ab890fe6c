#!/usr/bin/python3
"""Fault server: a fake registry for failures a real one cannot produce.

The first component of the repository picks the behaviour, e.g.
HEAD/GET /v2/<scenario>[/<variant>]/<name>/manifests/<tag-or-digest>.
A variant component `index` makes the tag serve an OCI index instead of an
OCI image manifest. GET /_control/info gives the digests of the real content.
See tests/registry/README.md for the table of scenarios.

Control: GET /_control/stats, GET /_control/info, POST /_control/reset,
POST /_control/fail-all[?status=503] (status 0 = drop the connection),
POST /_control/recover.
"""
import argparse
import hashlib
import json
import os
import re
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
MANIFEST_RE = re.compile(r"^/v2/(?P<repo>[a-z0-9._/-]+)/manifests/(?P<ref>[A-Za-z0-9._:-]+)$")
MALFORMED_AUTH = {
    "": 'Bearer realm="https://127.0.0.1:1/token,service="unterminated',
    "norealm": 'Bearer service="tagpin-fault",scope="repository:x:pull"',
    "noscheme": 'realm="https://127.0.0.1:1/token",service="tagpin-fault"',
    "metadata": 'Bearer realm="http://169.254.169.254/latest/meta-data/token",service="x"',
    "huge": 'Bearer realm="https://127.0.0.1:1/token",service="' + "a" * 65536 + '"',
}


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def make_content(huge_bytes):
    """Random-per-run manifest, two children, an index and an oversized body."""
    def manifest(arch):
        nonce = os.urandom(8).hex()
        return json.dumps({
            "schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                       "digest": sha256(nonce.encode()), "size": len(nonce)},
            "layers": [], "annotations": {"tagpin.test.arch": arch}}, indent=3).encode()
    single, amd, arm = manifest("amd64"), manifest("amd64"), manifest("arm64")
    index = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
        {"mediaType": OCI_MANIFEST, "digest": sha256(amd), "size": len(amd),
         "platform": {"os": "linux", "architecture": "amd64"}},
        {"mediaType": OCI_MANIFEST, "digest": sha256(arm), "size": len(arm),
         "platform": {"os": "linux", "architecture": "arm64"}}]}, indent=3).encode()
    head = b'{"schemaVersion": 2, "mediaType": "' + OCI_MANIFEST.encode() + b'", "pad": "'
    tail = b'"}'
    huge = head + b"x" * max(0, huge_bytes - len(head) - len(tail)) + tail
    blobs = {sha256(b): (OCI_MANIFEST, b) for b in (single, amd, arm)}
    blobs[sha256(index)] = (OCI_INDEX, index)
    return {"single": (OCI_MANIFEST, single), "index": (OCI_INDEX, index),
            "huge": (OCI_MANIFEST, huge), "by_digest": blobs}


class State:
    def __init__(self, args):
        self.args = args
        self.content = make_content(args.huge_bytes)
        self.lock = threading.Lock()
        self.counts = {}
        self.seen = {}
        self.fail_status = None
        self.log = open(args.log, "a", buffering=1) if args.log else None

    def count(self, method, path, status):
        key = "%s %s" % (method, path)
        with self.lock:
            entry = self.counts.setdefault(key, {"count": 0, "statuses": {}})
            entry["count"] += 1
            entry["statuses"][str(status)] = entry["statuses"].get(str(status), 0) + 1
            if self.log:
                self.log.write(json.dumps({"time": time.time(), "method": method,
                                           "path": path, "status": status}) + "\n")

    def first_time(self, key):
        """True once per key (until reset)."""
        with self.lock:
            n = self.seen.get(key, 0)
            self.seen[key] = n + 1
            return n == 0

    def stats(self):
        with self.lock:
            total = sum(e["count"] for e in self.counts.values())
            return {"total": total, "paths": json.loads(json.dumps(self.counts)),
                    "fail_all": self.fail_status}


class Server(ThreadingHTTPServer):
    daemon_threads = True
    tls = None

    def finish_request(self, request, client_address):
        request.settimeout(60)
        if self.tls is not None:
            request = self.tls.wrap_socket(request, server_side=True)
        super().finish_request(request, client_address)

    def handle_error(self, request, client_address):
        err = sys.exc_info()[1]
        if not isinstance(err, (BrokenPipeError, ConnectionResetError, ssl.SSLError, TimeoutError)):
            print("fault server: %r" % (err,), file=sys.stderr)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "tagpin-fault/1"

    def log_message(self, fmt, *args):
        pass

    def do_HEAD(self):
        self.dispatch("HEAD")

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        if 0 < n <= 1 << 20:
            self.rfile.read(n)
        self.dispatch("POST")

    # -- responses ---------------------------------------------------------
    def send(self, status, headers=None, body=b"", length=True):
        self.status_sent = status
        self.send_response(status)
        self.send_header("Docker-Distribution-API-Version", "registry/2.0")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if length:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.method != "HEAD" and body:
            self.wfile.write(body)

    def send_json(self, status, obj, headers=None):
        h = {"Content-Type": "application/json"}
        h.update(headers or {})
        self.send(status, h, json.dumps(obj).encode())

    def error(self, status, code, headers=None):
        self.send_json(status, {"errors": [{"code": code, "message": "tagpin fault server: %s"
                                            % code.lower()}]}, headers)

    def drop(self):
        self.status_sent = 0
        self.close_connection = True

    def serve(self, media_type, body, digest=True, claimed=None):
        h = {"Content-Type": media_type}
        if digest:
            h["Docker-Content-Digest"] = claimed or sha256(body)
        self.send(200, h, body)

    def stream(self, media_type, body, digest, with_length):
        """Large bodies in chunks; without a length the connection closes."""
        self.status_sent = 200
        self.send_response(200)
        self.send_header("Content-Type", media_type)
        if digest:
            self.send_header("Docker-Content-Digest", sha256(body))
        if with_length:
            self.send_header("Content-Length", str(len(body)))
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.method == "HEAD":
            return
        for i in range(0, len(body), 65536):
            self.wfile.write(body[i:i + 65536])

    # -- dispatch ----------------------------------------------------------
    def dispatch(self, method):
        self.method, self.status_sent = method, None
        st = self.server.state
        url = urlparse(self.path)
        if url.path.startswith("/_control/"):
            return self.control(st, url)
        try:
            self.registry(st, url)
        finally:
            st.count(method, url.path, self.status_sent)

    def control(self, st, url):
        q = parse_qs(url.query)
        if url.path == "/_control/stats":
            return self.send_json(200, st.stats())
        if url.path == "/_control/info":
            c = st.content
            info = {k: {"digest": sha256(c[k][1]), "media_type": c[k][0], "size": len(c[k][1])}
                    for k in ("single", "index", "huge")}
            info["index"]["children"] = [m["digest"] for m in json.loads(c["index"][1])["manifests"]]
            return self.send_json(200, info)
        if self.method != "POST":
            return self.error(405, "UNSUPPORTED")
        with st.lock:
            if url.path == "/_control/reset":
                st.counts, st.seen, st.fail_status = {}, {}, None
            elif url.path == "/_control/fail-all":
                st.fail_status = int(q.get("status", ["503"])[0])
            elif url.path == "/_control/recover":
                st.fail_status = None
            else:
                return self.error(404, "NOT_FOUND")
        self.send_json(200, {"ok": True})

    def registry(self, st, url):
        if st.fail_status is not None:
            return self.drop() if st.fail_status == 0 else self.error(st.fail_status, "FAIL_ALL")
        path = url.path
        if path in ("/v2", "/v2/"):
            return self.send_json(200, {})
        if path.startswith("/v2/_token/"):
            return self.token(path[len("/v2/_token/"):])
        m = MANIFEST_RE.match(path)
        if not m or self.method == "POST":
            return self.error(404, "NAME_UNKNOWN")
        parts = m.group("repo").split("/")
        scenario, variant = parts[0], (parts[1] if len(parts) > 1 else "")
        handler = getattr(self, "s_" + scenario.replace("-", "_"), None)
        if handler is None:
            return self.error(404, "NAME_UNKNOWN")
        handler(st, variant, m.group("ref"), m.group("repo"))

    def content(self, st, variant, ref):
        """(media type, body) for ref, or None when unknown."""
        if ref.startswith("sha256:"):
            return st.content["by_digest"].get(ref)
        return st.content["index" if variant == "index" else "single"]

    def ok(self, st, variant, ref, digest=True):
        c = self.content(st, variant, ref)
        if c is None:
            return self.error(404, "MANIFEST_UNKNOWN")
        self.serve(c[0], c[1], digest)

    # -- scenarios: s_<name>(state, variant, ref, repo) --------------------
    def s_ok(self, st, variant, ref, repo):
        self.ok(st, variant, ref)

    def s_notfound(self, st, variant, ref, repo):
        self.error(404, "MANIFEST_UNKNOWN")

    def s_slow(self, st, variant, ref, repo):
        time.sleep(st.args.slow_seconds)
        self.ok(st, variant, ref)

    def s_ratelimit(self, st, variant, ref, repo):
        if st.first_time("ratelimit %s %s" % (self.method, self.path)):
            return self.error(429, "TOOMANYREQUESTS", {"Retry-After": "1"})
        self.ok(st, variant, ref)

    def s_ratelimit_always(self, st, variant, ref, repo):
        self.error(429, "TOOMANYREQUESTS", {"Retry-After": "1"})

    def s_error500(self, st, variant, ref, repo):
        self.error(500, "UNKNOWN")

    def s_error503_once(self, st, variant, ref, repo):
        if st.first_time("error503 %s %s" % (self.method, self.path)):
            return self.error(503, "UNAVAILABLE")
        self.ok(st, variant, ref)

    def s_nodigest(self, st, variant, ref, repo):
        self.ok(st, variant, ref, digest=False)

    def s_nohead(self, st, variant, ref, repo):
        if self.method == "HEAD":
            return self.send(405, {"Allow": "GET"})
        self.ok(st, variant, ref)

    def s_baddigest(self, st, variant, ref, repo):
        c = self.content(st, variant, ref)
        if c is None:
            return self.error(404, "MANIFEST_UNKNOWN")
        claimed = sha256(c[1])
        if self.method == "HEAD":
            # Single manifests omit the digest so the client must GET; an
            # index is GET anyway for its platforms.
            return self.serve(c[0], c[1], digest=(variant == "index"))
        self.serve(c[0], c[1] + b" ", claimed=claimed)

    def s_huge(self, st, variant, ref, repo):
        mt, body = st.content["huge"]
        if variant == "index":
            mt = OCI_INDEX
        self.stream(mt, body, digest=(variant == "index"), with_length=(variant != "nolength"))

    def s_badauth(self, st, variant, ref, repo):
        value = MALFORMED_AUTH.get(variant, MALFORMED_AUTH[""])
        self.error(401, "UNAUTHORIZED", {"WWW-Authenticate": value})

    def s_badtoken(self, st, variant, ref, repo):
        if self.headers.get("Authorization") == "Bearer fault-token":
            return self.ok(st, variant, ref)
        realm = "%s/v2/_token/%s" % (self.server.base_url, variant or "garbage")
        value = 'Bearer realm="%s",service="tagpin-fault",scope="repository:%s:pull"' % (realm, repo)
        self.error(401, "UNAUTHORIZED", {"WWW-Authenticate": value})

    def token(self, kind):
        if kind == "valid":
            return self.send_json(200, {"token": "fault-token", "expires_in": 60})
        if kind == "huge":
            return self.send_json(200, {"token": "t" * (1 << 20), "expires_in": 60})
        if kind == "nonstring":
            return self.send_json(200, {"token": 42})
        if kind == "error":
            return self.error(500, "UNKNOWN")
        self.send(200, {"Content-Type": "application/json"}, b"<html>not json")

    def s_flaky(self, st, variant, ref, repo):
        if st.first_time("flaky %s %s" % (self.method, self.path)):
            return self.ok(st, variant, ref)
        self.error(503, "UNAVAILABLE")

    def s_drop(self, st, variant, ref, repo):
        self.drop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--log")
    ap.add_argument("--slow-seconds", type=float,
                    default=float(os.environ.get("REG_FAULT_SLOW_SECONDS", "30")))
    ap.add_argument("--huge-bytes", type=int, default=8 << 20)
    args = ap.parse_args()

    srv = Server(("127.0.0.1", args.port), Handler)
    srv.state = State(args)
    scheme = "http"
    if args.cert:
        srv.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        srv.tls.load_cert_chain(args.cert, args.key)
        scheme = "https"
    srv.base_url = "%s://127.0.0.1:%d" % (scheme, srv.server_address[1])
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(str(srv.server_address[1]))
        os.replace(tmp, args.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
