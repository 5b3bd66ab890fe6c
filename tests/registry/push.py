#!/usr/bin/python3
"""Push test images to a registry through its HTTP API (no docker, no skopeo).

Every push makes fresh random config blobs and layers, so every run gives new
digests. The digest printed is sha256 of the exact manifest bytes PUT; the
manifests are pretty-printed with 3-space indents (as docker does), so a
client that re-serialises JSON before hashing gets a different digest.

  push.py --registry URL [--ca FILE] [--user U --password-file F] \\
          image KIND REPO:TAG          one push, JSON object on stdout
  push.py ... standard [--prefix P]    the standard set, JSON on stdout

KIND: oci | docker | oci-index | docker-list | oci-index-amd64
(oci-index-amd64 is an OCI index holding only linux/amd64).
Auth challenges (Bearer token flow or Basic) are answered by the script.
After each push, HEAD with all four manifest types in Accept must return
Docker-Content-Digest equal to the computed digest, or the script fails.
"""
import argparse
import base64
import gzip
import hashlib
import http.client
import io
import json
import os
import re
import ssl
import sys
import tarfile
import time
from urllib.parse import urlencode, urljoin, urlparse

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
ALL_MANIFEST_TYPES = [OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST]


class PushError(Exception):
    pass


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def parse_challenge(header):
    """'Bearer realm="x",service="y"' -> ("bearer", {realm: x, service: y})."""
    scheme, _, rest = header.strip().partition(" ")
    params = dict(re.findall(r'(\w+)\s*=\s*"([^"]*)"', rest))
    return scheme.lower(), params


class Client:
    """Minimal registry client: one connection per request, challenge aware."""

    def __init__(self, url, ca=None, user=None, password=None, timeout=30):
        u = urlparse(url)
        self.scheme, self.netloc = u.scheme, u.netloc
        self.user, self.password = user, password
        self.timeout = timeout
        self.ctx = None
        if self.scheme == "https":
            self.ctx = ssl.create_default_context(cafile=ca)
        self.tokens = {}  # scope -> token
        self.basic = None
        self.requests = 0

    def _open(self, scheme, netloc):
        if scheme == "https":
            ctx = self.ctx or ssl.create_default_context()
            return http.client.HTTPSConnection(netloc, timeout=self.timeout, context=ctx)
        return http.client.HTTPConnection(netloc, timeout=self.timeout)

    def raw(self, method, url, headers=None, body=None):
        u = urlparse(url)
        conn = self._open(u.scheme or self.scheme, u.netloc or self.netloc)
        path = u.path + ("?" + u.query if u.query else "")
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            data = resp.read()
            self.requests += 1
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
        finally:
            conn.close()

    def _basic_value(self):
        if self.user is None:
            return None
        cred = "%s:%s" % (self.user, self.password or "")
        return "Basic " + base64.b64encode(cred.encode()).decode()

    def _fetch_token(self, params):
        q = {"service": params.get("service", "")}
        if params.get("scope"):
            q["scope"] = params["scope"]
        url = params["realm"] + ("&" if "?" in params["realm"] else "?") + urlencode(q)
        headers = {}
        if self.user is not None:
            headers["Authorization"] = self._basic_value()
        status, _, data = self.raw("GET", url, headers)
        if status != 200:
            raise PushError("token server answered %d for scope %r" % (status, q.get("scope")))
        doc = json.loads(data)
        return doc.get("token") or doc.get("access_token")

    def request(self, method, path_or_url, headers=None, body=None, scope_hint=None):
        headers = dict(headers or {})
        url = urljoin("%s://%s" % (self.scheme, self.netloc), path_or_url)
        auth = self.tokens.get(scope_hint) if scope_hint else None
        if auth:
            headers["Authorization"] = "Bearer " + auth
        elif self.basic:
            headers["Authorization"] = self.basic
        status, h, data = self.raw(method, url, headers, body)
        if status != 401 or "www-authenticate" not in h:
            return status, h, data
        scheme, params = parse_challenge(h["www-authenticate"])
        if scheme == "bearer":
            tok = self._fetch_token(params)
            self.tokens[params.get("scope", scope_hint)] = tok
            if scope_hint:
                self.tokens[scope_hint] = tok
            headers["Authorization"] = "Bearer " + tok
        elif scheme == "basic" and self.user is not None:
            self.basic = self._basic_value()
            headers["Authorization"] = self.basic
        else:
            return status, h, data
        return self.raw(method, url, headers, body)


class Pusher:
    def __init__(self, client, registry_host):
        self.c = client
        self.host = registry_host

    def _scope(self, repo):
        return "repository:%s:pull,push" % repo

    def blob(self, repo, data, media_type):
        status, h, body = self.c.request("POST", "/v2/%s/blobs/uploads/" % repo,
                                         {"Content-Length": "0"}, b"", self._scope(repo))
        if status != 202 or "location" not in h:
            raise PushError("blob upload start for %s: HTTP %d %s" % (repo, status, body[:200]))
        digest = sha256(data)
        loc = h["location"]
        loc += ("&" if "?" in loc else "?") + urlencode({"digest": digest})
        status, h, body = self.c.request("PUT", loc, {
            "Content-Type": "application/octet-stream",
            "Content-Length": str(len(data))}, data, self._scope(repo))
        if status != 201:
            raise PushError("blob PUT for %s: HTTP %d %s" % (repo, status, body[:200]))
        return {"mediaType": media_type, "digest": digest, "size": len(data)}

    def manifest(self, repo, ref, media_type, data):
        status, h, body = self.c.request("PUT", "/v2/%s/manifests/%s" % (repo, ref), {
            "Content-Type": media_type, "Content-Length": str(len(data))}, data,
            self._scope(repo))
        if status != 201:
            raise PushError("manifest PUT %s:%s: HTTP %d %s" % (repo, ref, status, body[:300]))
        digest = sha256(data)
        got = h.get("docker-content-digest")
        if got != digest:
            raise PushError("manifest PUT %s:%s: registry digest %s != computed %s"
                            % (repo, ref, got, digest))
        return digest

    def verify(self, repo, tag, digest, media_type):
        status, h, _ = self.c.request("HEAD", "/v2/%s/manifests/%s" % (repo, tag),
                                      {"Accept": ", ".join(ALL_MANIFEST_TYPES)},
                                      None, self._scope(repo))
        if status != 200:
            raise PushError("verify HEAD %s:%s: HTTP %d" % (repo, tag, status))
        if h.get("docker-content-digest") != digest:
            raise PushError("verify HEAD %s:%s: digest %s != pushed %s"
                            % (repo, tag, h.get("docker-content-digest"), digest))
        ctype = h.get("content-type", "").split(";")[0].strip()
        if ctype != media_type:
            raise PushError("verify HEAD %s:%s: content-type %s != %s"
                            % (repo, tag, ctype, media_type))


def dumps(obj):
    return json.dumps(obj, indent=3).encode()


def random_layer():
    """A valid gzip'd tar with one random file: (compressed, diff_id)."""
    payload = os.urandom(64)
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo("tagpin-test/nonce")
        info.size, info.mtime, info.mode = len(payload), 0, 0o644
        tar.addfile(info, io.BytesIO(payload))
    tar_bytes = raw.getvalue()
    return gzip.compress(tar_bytes, mtime=0), sha256(tar_bytes)


def image_manifest(p, repo, ref, oci, os_="linux", arch="amd64", variant=None):
    """Pushes config + layer + manifest under ref (a tag, or None to push by
    its own digest); returns (digest, bytes, media type)."""
    layer, diff_id = random_layer()
    config = {"architecture": arch, "os": os_,
              "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
              "config": {"Labels": {"tagpin.test.nonce": os.urandom(8).hex()}},
              "rootfs": {"type": "layers", "diff_ids": [diff_id]}}
    if variant:
        config["variant"] = variant
    cfg = p.blob(repo, dumps(config), OCI_CONFIG if oci else DOCKER_CONFIG)
    lay = p.blob(repo, layer, OCI_LAYER if oci else DOCKER_LAYER)
    mt = OCI_MANIFEST if oci else DOCKER_MANIFEST
    body = dumps({"schemaVersion": 2, "mediaType": mt, "config": cfg, "layers": [lay]})
    return p.manifest(repo, ref or sha256(body), mt, body), body, mt


def platform_of(os_, arch, variant=None):
    plat = {"architecture": arch, "os": os_}
    if variant:
        plat["variant"] = variant
    return plat


def platform_str(plat):
    s = "%s/%s" % (plat["os"], plat["architecture"])
    return s + ("/" + plat["variant"] if plat.get("variant") else "")


def push_index(p, repo, tag, oci, platforms):
    children, out_children = [], []
    for os_, arch, variant in platforms:
        # Children go first, by digest: the registry requires them to exist.
        digest, body, mt = image_manifest(p, repo, None, oci, os_, arch, variant)
        plat = platform_of(os_, arch, variant)
        children.append({"mediaType": mt, "digest": digest, "size": len(body), "platform": plat})
        out_children.append({"digest": digest, "media_type": mt, "size": len(body),
                             "platform": platform_str(plat)})
    mt = OCI_INDEX if oci else DOCKER_LIST
    body = dumps({"schemaVersion": 2, "mediaType": mt, "manifests": children})
    digest = p.manifest(repo, tag, mt, body)
    return digest, body, mt, out_children


KINDS = {
    "oci": None, "docker": None,
    "oci-index": (True, [("linux", "amd64", None), ("linux", "arm64", None)]),
    "docker-list": (False, [("linux", "amd64", None), ("linux", "arm64", "v8")]),
    "oci-index-amd64": (True, [("linux", "amd64", None)]),
}


def push_kind(p, kind, repo, tag):
    if kind not in KINDS:
        raise PushError("unknown kind %r (one of %s)" % (kind, ", ".join(KINDS)))
    if KINDS[kind] is None:
        oci = kind == "oci"
        digest, body, mt = image_manifest(p, repo, tag, oci)
        children, platforms = [], ["linux/amd64"]
    else:
        oci, plats = KINDS[kind]
        digest, body, mt, children = push_index(p, repo, tag, oci, plats)
        platforms = [c["platform"] for c in children]
    p.verify(repo, tag, digest, mt)
    return {"kind": kind, "repository": repo, "tag": tag,
            "reference": "%s/%s:%s" % (p.host, repo, tag),
            "media_type": mt, "digest": digest, "size": len(body),
            "platforms": platforms, "children": children}


def split_ref(ref):
    repo, sep, tag = ref.rpartition(":")
    if not sep or "/" in tag or not repo:
        raise PushError("expected REPO:TAG, got %r" % ref)
    return repo, tag


def push_standard(p, prefix):
    """The set the resolver tests use; keys are stable names."""
    pub, priv = prefix + "public/", prefix + "private/"
    out = {}
    out["oci"] = push_kind(p, "oci", pub + "oci", "v1")
    out["docker"] = push_kind(p, "docker", pub + "docker", "v1")
    out["oci_index"] = push_kind(p, "oci-index", pub + "oci-index", "v1")
    out["docker_list"] = push_kind(p, "docker-list", pub + "docker-list", "v1")
    out["oci_index_amd64"] = push_kind(p, "oci-index-amd64", pub + "oci-index-amd64", "v1")
    out["private"] = push_kind(p, "oci", priv + "app", "v1")
    first = push_kind(p, "oci", pub + "moving", "v1")
    second = push_kind(p, "oci", pub + "moving", "v1")
    if first["digest"] == second["digest"]:
        raise PushError("re-push gave the same digest")
    second["previous_digest"] = first["digest"]
    out["repushed"] = second
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__)
    ap.add_argument("--registry", required=True, help="http(s)://127.0.0.1:PORT")
    ap.add_argument("--ca", help="CA bundle for https")
    ap.add_argument("--user")
    ap.add_argument("--password-file")
    sub = ap.add_subparsers(dest="cmd", required=True)
    one = sub.add_parser("image")
    one.add_argument("kind", choices=sorted(KINDS))
    one.add_argument("ref", help="REPO:TAG")
    std = sub.add_parser("standard")
    std.add_argument("--prefix", default="", help="prepended to public/ and private/")
    args = ap.parse_args()

    password = None
    if args.password_file:
        with open(args.password_file) as f:
            password = f.read().strip()
    client = Client(args.registry, args.ca, args.user, password)
    p = Pusher(client, urlparse(args.registry).netloc)
    try:
        if args.cmd == "image":
            repo, tag = split_ref(args.ref)
            out = push_kind(p, args.kind, repo, tag)
        else:
            out = push_standard(p, args.prefix)
    except (PushError, OSError, http.client.HTTPException, ValueError) as e:
        print("push.py: %s" % e, file=sys.stderr)
        return 1
    json.dump(out, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
