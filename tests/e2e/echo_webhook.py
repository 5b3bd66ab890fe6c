#!/usr/bin/env python3
"""Minimal HTTPS admission webhook for the harness self-test.

Allows every request, records each AdmissionReview it receives as
<record-dir>/review-<n>.json and answers with one auditAnnotation
("seen": <request uid>) so the self-test can find it in the audit log.

usage: echo_webhook.py CERT KEY RECORD_DIR PORT_FILE
Binds 127.0.0.1 on a free port and writes the port to PORT_FILE once
listening. Standard library only.
"""
import http.server
import json
import os
import ssl
import sys
import threading

MAX_BODY = 3 * 1024 * 1024  # the API server caps objects near 3 MiB


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    counter = 0
    lock = threading.Lock()

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or "0")
        if length <= 0 or length > MAX_BODY:
            self.send_error(413 if length > 0 else 411)
            return
        body = self.rfile.read(length)
        try:
            review = json.loads(body)
            uid = review["request"]["uid"]
        except (ValueError, KeyError, TypeError):
            self.send_error(400, "not an AdmissionReview")
            return
        with Handler.lock:
            Handler.counter += 1
            n = Handler.counter
        path = os.path.join(self.server.record_dir, "review-%d.json" % n)
        with open(path + ".tmp", "wb") as f:
            f.write(body)
        os.replace(path + ".tmp", path)  # readers never see half a file
        answer = json.dumps({
            "apiVersion": review.get("apiVersion", "admission.k8s.io/v1"),
            "kind": "AdmissionReview",
            "response": {"uid": uid, "allowed": True,
                         "auditAnnotations": {"seen": uid}},
        }).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, fmt, *args):
        sys.stderr.write("echo_webhook: " + (fmt % args) + "\n")


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    cert, key, record_dir, port_file = sys.argv[1:]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.record_dir = record_dir
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    with open(port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.replace(port_file + ".tmp", port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
