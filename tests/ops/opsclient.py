"""Helpers for tests/ops: AdmissionReviews, a keep-alive HTTPS client that
knows which connection and certificate served it, and a /metrics parser.
Debian's python3 standard library only."""
import http.client
import json
import re
import ssl
import time
import urllib.request
import uuid

POD = {"kind": "Pod", "apiVersion": "v1",
       "metadata": {"name": "web", "namespace": "shop"}, "spec": {"containers": []}}


def review(images, kind="Pod", operation="CREATE"):
    """An AdmissionReview v1 for a Pod (or a Deployment) running images."""
    containers = [{"name": "c%d" % i, "image": im} for i, im in enumerate(images)]
    if kind == "Pod":
        obj = json.loads(json.dumps(POD))
        obj["spec"]["containers"] = containers
        resource = "pods"
        group = ""
    else:
        obj = {"kind": kind, "apiVersion": "apps/v1",
               "metadata": {"name": "web", "namespace": "shop"},
               "spec": {"template": {"spec": {"containers": containers}}}}
        resource = kind.lower() + "s"
        group = "apps"
    gvk = {"group": group, "version": "v1", "kind": kind}
    gvr = {"group": group, "version": "v1", "resource": resource}
    return json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
                       "request": {"uid": str(uuid.uuid4()), "kind": gvk, "resource": gvr,
                                   "requestKind": gvk, "requestResource": gvr,
                                   "name": "web", "namespace": "shop", "operation": operation,
                                   "userInfo": {"username": "ops-test"}, "object": obj,
                                   "oldObject": None, "dryRun": False}}).encode()


def tls_context(ca):
    ctx = ssl.create_default_context(cafile=ca)
    ctx.check_hostname = False  # the certificate names 127.0.0.1 as an IP SAN
    return ctx


def serial_of(sock):
    """Serial number (int) of the certificate the peer presented."""
    der = sock.getpeercert(binary_form=True)
    # Parse just enough DER: Certificate -> TBSCertificate -> [0] version, serial.
    def tlv(b, i):
        tag = b[i]; n = b[i + 1]; i += 2
        if n & 0x80:
            k = n & 0x7f
            n = int.from_bytes(b[i:i + k], "big"); i += k
        return tag, i, n
    _, i, _ = tlv(der, 0)          # Certificate SEQUENCE
    _, i, _ = tlv(der, i)          # TBSCertificate SEQUENCE
    tag, j, n = tlv(der, i)
    if tag == 0xA0:                # explicit version
        i = j + n
    tag, j, n = tlv(der, i)        # serialNumber INTEGER
    return int.from_bytes(der[j:j + n], "big")


class Conn:
    """One keep-alive HTTPS connection; never reconnects by itself, so a
    request that needs a new connection fails loudly."""

    def __init__(self, port, ca, timeout=30):
        self.c = http.client.HTTPSConnection("127.0.0.1", port, context=tls_context(ca),
                                             timeout=timeout)
        self.c.auto_open = 0
        self.c.connect()
        self.sock = self.c.sock
        self.serial = serial_of(self.sock)

    def request(self, method, path, body=None):
        """(status, headers dict lower-case, body bytes); raises when the
        connection is gone or was replaced."""
        if self.c.sock is not self.sock:
            raise ConnectionError("connection was replaced")
        hdrs = {"Content-Type": "application/json"} if body is not None else {}
        self.c.request(method, path, body=body, headers=hdrs)
        r = self.c.getresponse()
        data = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data

    def close(self):
        self.c.close()


def admit(conn, body, path="/mutate?timeout=10s"):
    """(http status, response dict or None)."""
    status, _, data = conn.request("POST", path, body)
    try:
        return status, json.loads(data)["response"]
    except (ValueError, KeyError):
        return status, None


def new_connection_serial(port, ca):
    c = Conn(port, ca)
    s = c.serial
    c.close()
    return s


LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)$')


def metrics(mport):
    """{'name{labels}': float} from the plain-HTTP /metrics listener."""
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % mport, timeout=10) as r:
        text = r.read().decode()
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = LINE.match(line)
        if not m:
            raise ValueError("bad exposition line: %r" % line)
        out[m.group(1)] = float(m.group(2))
    return out


def wait_for(what, fn, limit=60.0, step=0.05):
    """Polls fn until it returns a true value (bounded, not a timing check)."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        v = fn()
        if v:
            return v
        time.sleep(step)
    raise TimeoutError("gave up waiting for " + what)
