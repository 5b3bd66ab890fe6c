#!/usr/bin/python3
"""Token server for tests: the Docker registry v2 Bearer token flow.

GET /token?service=S&scope=repository:NAME:ACTIONS[&scope=...]
  - Basic credentials (one user, password from a file) grant every requested
    action on every repository.
  - Anonymous clients get "pull" on repositories under public/ and nothing
    elsewhere (like Docker Hub: the token is issued with an empty access list
    and the registry then answers 401 insufficient_scope).
  - Wrong credentials answer 401.
  - The answer carries both "token" and "access_token", "expires_in" and
    "issued_at".
Tokens are RS256 JWTs with the signing certificate in the x5c header, which
distribution 2.8 verifies against its auth.token.rootcertbundle.

GET /stats answers {"tokens_issued": N, "requests": N}.
Each request is one JSON line in --log (never a credential).
"""
import argparse
import base64
import datetime
import json
import os
import secrets
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import serialization


class State:
    def __init__(self, args):
        self.args = args
        with open(args.signing_key, "rb") as f:
            self.key = serialization.load_pem_private_key(f.read(), None)
        with open(args.signing_cert, "rb") as f:
            cert = x509.load_pem_x509_certificate(f.read())
        der = cert.public_bytes(serialization.Encoding.DER)
        self.x5c = [base64.b64encode(der).decode()]
        with open(args.password_file) as f:
            self.password = f.read().strip()
        self.lock = threading.Lock()
        self.tokens = 0
        self.requests = 0
        self.log = open(args.log, "a", buffering=1) if args.log else None

    def record(self, entry):
        with self.lock:
            self.requests += 1
            if entry.get("issued"):
                self.tokens += 1
            if self.log:
                self.log.write(json.dumps(entry, sort_keys=True) + "\n")


def parse_scope(scope):
    """repository:name:pull,push -> (type, name, [actions]); name may hold ':'
    only before a port, which repository names never have, so split around
    the first and last colon."""
    first = scope.find(":")
    last = scope.rfind(":")
    if first < 0 or last <= first:
        return None
    return scope[:first], scope[first + 1:last], [a for a in scope[last + 1:].split(",") if a]


def granted_actions(user, typ, name, actions):
    if typ != "repository":
        return []
    if user is not None:
        return actions
    if name.startswith("public/"):
        return [a for a in actions if a == "pull"]
    return []


class Server(ThreadingHTTPServer):
    """TLS handshakes happen in the worker thread, so one stalled client
    cannot block accept()."""
    daemon_threads = True
    tls = None

    def finish_request(self, request, client_address):
        request.settimeout(30)
        if self.tls is not None:
            request = self.tls.wrap_socket(request, server_side=True)
        super().finish_request(request, client_address)

    def handle_error(self, request, client_address):
        print("token server: error from %s: %s" % (client_address[0], sys.exc_info()[1]),
              file=sys.stderr)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "tagpin-test-token/1"

    def log_message(self, fmt, *args):  # quiet stderr; the JSON log is the record
        pass

    def send_json(self, status, obj, extra=None):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def authenticate(self, st):
        """Returns (user or None, ok)."""
        h = self.headers.get("Authorization")
        if not h:
            return None, True
        if not h.lower().startswith("basic "):
            return None, False
        try:
            user, _, pw = base64.b64decode(h[6:].strip()).decode().partition(":")
        except Exception:
            return None, False
        if user == st.args.user and secrets.compare_digest(pw, st.password):
            return user, True
        return None, False

    def do_GET(self):
        st = self.server.state
        url = urlparse(self.path)
        if url.path == "/stats":
            with st.lock:
                return self.send_json(200, {"tokens_issued": st.tokens, "requests": st.requests})
        if url.path != "/token":
            st.record({"path": url.path, "status": 404})
            return self.send_json(404, {"error": "not found"})
        q = parse_qs(url.query)
        user, ok = self.authenticate(st)
        entry = {"time": time.time(), "path": url.path, "service": q.get("service", [""])[0],
                 "scope": q.get("scope", []), "account": user,
                 "basic": self.headers.get("Authorization") is not None}
        if not ok:
            entry.update(status=401, issued=False)
            st.record(entry)
            return self.send_json(401, {"errors": [{"code": "UNAUTHORIZED",
                                                    "message": "bad credentials"}]},
                                  {"WWW-Authenticate": 'Basic realm="tagpin-test-token"'})
        if entry["service"] != st.args.service:
            entry.update(status=400, issued=False)
            st.record(entry)
            return self.send_json(400, {"error": "unknown service"})
        access = []
        for scope in entry["scope"]:
            for one in scope.split(" "):
                parsed = parse_scope(one)
                if parsed is None:
                    continue
                typ, name, actions = parsed
                access.append({"type": typ, "name": name,
                               "actions": granted_actions(user, typ, name, actions)})
        now = int(time.time())
        claims = {"iss": st.args.issuer, "sub": user or "", "aud": st.args.service,
                  "exp": now + st.args.expires_in, "nbf": now - 1, "iat": now,
                  "jti": secrets.token_hex(12), "access": access}
        token = jwt.encode(claims, st.key, algorithm="RS256",
                           headers={"typ": "JWT", "x5c": st.x5c})
        entry.update(status=200, issued=True, granted=access)
        st.record(entry)
        issued = datetime.datetime.fromtimestamp(now, datetime.timezone.utc)
        self.send_json(200, {"token": token, "access_token": token,
                             "expires_in": st.args.expires_in,
                             "issued_at": issued.strftime("%Y-%m-%dT%H:%M:%SZ")})


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file", help="written (atomically) once listening")
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--signing-key", required=True)
    p.add_argument("--signing-cert", required=True)
    p.add_argument("--issuer", default="tagpin-test-issuer")
    p.add_argument("--service", default="tagpin-test-registry")
    p.add_argument("--user", default="alice")
    p.add_argument("--password-file", required=True)
    p.add_argument("--expires-in", type=int, default=300)
    p.add_argument("--log")
    args = p.parse_args()

    srv = Server(("127.0.0.1", args.port), Handler)
    srv.state = State(args)
    if args.cert:
        srv.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        srv.tls.load_cert_chain(args.cert, args.key)
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
