#!/usr/bin/python3
"""Assertions on one `helm template` render of charts/tagpin.

usage: check.py SCENARIO RENDERED.yaml RELEASE NAMESPACE SOURCE_DIR

Every scenario gets the common checks (safety properties that must hold for any
values); the scenario name adds checks for what its values switch on. Exits 1
with one line per failed assertion.
"""
import base64
import json
import os
import subprocess
import sys
import tempfile

import yaml

FAILS = []


def check(cond, what):
    if not cond:
        FAILS.append(what)
    return cond


def one(docs, kind, what=None):
    found = [d for d in docs if d["kind"] == kind]
    check(len(found) == 1, f"expected exactly one {kind}, got {len(found)}"
          + (f" ({what})" if what else ""))
    return found[0] if found else None


def kinds(docs, kind):
    return [d for d in docs if d["kind"] == kind]


def container(dep):
    return dep["spec"]["template"]["spec"]["containers"][0]


def arg_value(args, flag):
    return args[args.index(flag) + 1] if flag in args else None


def common(docs, text, rel, ns, src):
    check(":latest" not in text, "':latest' appears in the render")
    dep = one(docs, "Deployment")
    svc = one(docs, "Service")
    cm = [d for d in kinds(docs, "ConfigMap") if "policy.yaml" in d["data"]]
    check(len(cm) == 1, "one ConfigMap with policy.yaml")
    if not (dep and svc and cm):
        return
    for d in docs:
        if d["kind"] not in ("MutatingWebhookConfiguration",
                             "ValidatingWebhookConfiguration", "Namespace"):
            check(d["metadata"].get("namespace") == ns,
                  f"{d['kind']}/{d['metadata']['name']} is in namespace {ns}")
    spec = dep["spec"]
    pod = spec["template"]["spec"]
    podlabels = spec["template"]["metadata"]["labels"]
    sel = spec["selector"]["matchLabels"]
    check(all(podlabels.get(k) == v for k, v in sel.items()),
          "Deployment selector matches its pod labels")
    check(spec["replicas"] >= 2, "at least 2 replicas by default")
    check(spec["strategy"]["rollingUpdate"]["maxUnavailable"] == 0,
          "rolling update never drops below the replica count")
    anti = pod.get("affinity", {}).get("podAntiAffinity", {})
    check(anti.get("preferredDuringSchedulingIgnoredDuringExecution")
          or anti.get("requiredDuringSchedulingIgnoredDuringExecution"),
          "pod anti-affinity present")
    check(pod.get("automountServiceAccountToken") is False,
          "no service account token mounted")
    psc = pod["securityContext"]
    check(psc.get("runAsNonRoot") is True, "pod runAsNonRoot")
    check(isinstance(psc.get("runAsUser"), int) and psc["runAsUser"] != 0,
          "pod runAsUser is numeric non-zero")
    check(psc.get("seccompProfile", {}).get("type") == "RuntimeDefault",
          "seccomp RuntimeDefault")
    c = container(dep)
    csc = c["securityContext"]
    check(csc.get("allowPrivilegeEscalation") is False, "no privilege escalation")
    check(csc.get("readOnlyRootFilesystem") is True, "read-only root filesystem")
    check(csc.get("capabilities", {}).get("drop") == ["ALL"], "drop ALL capabilities")
    check(csc.get("privileged") in (None, False), "not privileged")
    res = c["resources"]
    check(res.get("requests", {}).get("cpu") and res.get("requests", {}).get("memory")
          and res.get("limits", {}).get("memory"), "resource requests and memory limit set")
    img = c["image"]
    last = img.split("/")[-1]
    check(":" in last.split("@")[0], f"image {img} has an explicit tag")
    lp, rp = c["livenessProbe"]["httpGet"], c["readinessProbe"]["httpGet"]
    check(lp["path"] == "/healthz" and lp["scheme"] == "HTTPS", "liveness GET /healthz over HTTPS")
    check(rp["path"] == "/readyz" and rp["scheme"] == "HTTPS", "readiness GET /readyz over HTTPS")
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    check({"https", "metrics"} <= set(ports), "container ports https and metrics")
    args = c["args"]
    check(args[0] == "serve", "container runs `tagpin serve`")
    listen = arg_value(args, "--listen") or ""
    check(listen.endswith(f":{ports.get('https')}"), "--listen matches the https port")
    check((arg_value(args, "--metrics-listen") or "").endswith(f":{ports.get('metrics')}"),
          "--metrics-listen matches the metrics port")
    mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
    vols = {v["name"]: v for v in pod["volumes"]}
    conf = arg_value(args, "--config") or ""
    check(vols.get("config", {}).get("configMap", {}).get("name") == cm[0]["metadata"]["name"]
          and conf == mounts.get("config", "?") + "/policy.yaml",
          "--config points at the mounted policy ConfigMap")
    for flag, key in (("--tls-cert", "tls.crt"), ("--tls-key", "tls.key")):
        check(arg_value(args, flag) == mounts.get("tls", "?") + "/" + key,
              f"{flag} points into the tls volume")
    check(not any(m.get("subPath") for m in c["volumeMounts"] if m["name"] == "tls"),
          "tls is not a subPath mount (rotation would not propagate)")
    check("/tmp" in mounts.values(), "writable /tmp despite read-only root")
    check(dep["spec"]["template"]["metadata"]["annotations"].get("checksum/policy"),
          "pods roll when the policy changes")

    # Service -> pods.
    check(svc["spec"]["selector"] == sel, "Service selects the Deployment's pods")
    sports = {p["name"]: p for p in svc["spec"]["ports"]}
    check(sports.get("https", {}).get("targetPort") == "https", "Service https -> container https")

    # PDB.
    pdb = one(docs, "PodDisruptionBudget")
    if pdb:
        check(pdb["spec"]["selector"]["matchLabels"] == sel, "PDB selects the pods")
        check(pdb["spec"].get("maxUnavailable") == 1, "PDB lets one replica go at a time")

    # Policy: parses, exempts the system and release namespaces, and carries
    # every setting of the binary's embedded default policy unchanged.
    policy = yaml.safe_load(cm[0]["data"]["policy.yaml"])
    ex = policy.get("exemptNamespaces", [])
    check("kube-system" in ex and ns in ex, "policy exempts kube-system and the release namespace")
    with open(os.path.join(src, "webhook/default-policy.yaml")) as f:
        default = yaml.safe_load(f)
    for k, v in default.items():
        if k == "exemptNamespaces":
            check(set(v) <= set(ex), "chart policy keeps the default exempt namespaces")
        elif isinstance(v, dict):
            for k2, v2 in v.items():
                # Set by the chart through flags, or by a scenario's values.
                if (k, k2) in (("pinning", "scope"), ("server", "listen"),
                               ("server", "tlsCert"), ("server", "tlsKey"),
                               ("server", "metricsListen"), ("registry", "caFile"),
                               ("registry", "authFile")):
                    continue
                check(policy.get(k, {}).get(k2) == v2,
                      f"chart policy {k}.{k2} equals webhook/default-policy.yaml")
        else:
            check(policy.get(k) == v, f"chart policy {k} equals webhook/default-policy.yaml")

    # Webhook configurations.
    hooks = kinds(docs, "MutatingWebhookConfiguration") + kinds(docs, "ValidatingWebhookConfiguration")
    check(hooks, "at least one webhook configuration")
    for h in hooks:
        mutating = h["kind"].startswith("Mutating")
        for w in h["webhooks"]:
            name = f"{h['kind']}/{w['name']}"
            check(w["sideEffects"] == "None", f"{name} sideEffects None")
            check(w["admissionReviewVersions"] == ["v1"], f"{name} admissionReviewVersions [v1]")
            check(w["failurePolicy"] in ("Fail", "Ignore"), f"{name} failurePolicy valid")
            check(1 <= w["timeoutSeconds"] <= 30, f"{name} timeoutSeconds in 1..30")
            if mutating:
                check(w.get("reinvocationPolicy") == "IfNeeded", f"{name} reinvocationPolicy IfNeeded")
            exprs = w["namespaceSelector"]["matchExpressions"]
            names = [e for e in exprs if e["key"] == "kubernetes.io/metadata.name"]
            check(names and names[0]["operator"] == "NotIn"
                  and {"kube-system", ns} <= set(names[0]["values"]),
                  f"{name} namespaceSelector excludes kube-system and {ns}")
            check(any(e["key"] == "tagpin.io/ignore" and e["operator"] == "NotIn"
                      and e["values"] == ["true"] for e in exprs),
                  f"{name} honours the tagpin.io/ignore=true opt-out")
            res = {(g, r) for rule in w["rules"] for g in rule["apiGroups"]
                   for r in rule["resources"]}
            check(("", "pods") in res and ("", "pods/ephemeralcontainers") in res,
                  f"{name} covers pods and pods/ephemeralcontainers")
            for rule in w["rules"]:
                check(set(rule["operations"]) >= {"CREATE", "UPDATE"},
                      f"{name} rule {rule['resources']} on CREATE and UPDATE")
            cc = w["clientConfig"]
            if "service" in cc:
                s = cc["service"]
                check(s["name"] == svc["metadata"]["name"] and s["namespace"] == ns
                      and s["port"] == sports["https"]["port"],
                      f"{name} calls the chart's Service on its https port")
                check(s["path"] == ("/mutate" if mutating else "/validate"),
                      f"{name} path is /mutate or /validate")


def review(tagpin, policy_text, ns, image):
    """One AdmissionReview for a Pod through `tagpin review --config` (no TLS,
    no network: only deny/allow verdicts are asked for)."""
    req = {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
           "request": {"uid": "chart-check", "namespace": ns, "operation": "CREATE",
                       "kind": {"group": "", "version": "v1", "kind": "Pod"},
                       "resource": {"group": "", "version": "v1", "resource": "pods"},
                       "object": {"apiVersion": "v1", "kind": "Pod",
                                  "metadata": {"name": "p", "namespace": ns},
                                  "spec": {"containers": [{"name": "c", "image": image}]}}}}
    with tempfile.TemporaryDirectory() as d:
        pol, rv = os.path.join(d, "policy.yaml"), os.path.join(d, "review.json")
        with open(pol, "w") as f:
            f.write(policy_text)
        with open(rv, "w") as f:
            json.dump(req, f)
        r = subprocess.run([tagpin, "review", "--config", pol, rv],
                           capture_output=True, text=True, timeout=60)
    if not check(r.returncode == 0, f"tagpin review --config <rendered policy> exits 0: {r.stderr.strip()}"):
        return {}
    return json.loads(r.stdout).get("response", {})


def binary_accepts_policy(docs, ns):
    """The real binary loads the rendered policy and applies it as the chart says."""
    tagpin = os.environ.get("TAGPIN_BIN")
    if not tagpin or not os.access(tagpin, os.X_OK):
        print("# TAGPIN_BIN not set: rendered policy not run through tagpin")
        return
    cm = [d for d in kinds(docs, "ConfigMap") if "policy.yaml" in d["data"]][0]
    text = cm["data"]["policy.yaml"]
    r = review(tagpin, text, "default", "nginx:latest")
    check(r.get("allowed") is False and "deny-latest" in r.get("status", {}).get("message", ""),
          "rendered policy denies nginx:latest with rule deny-latest")
    r = review(tagpin, text, ns, "nginx:latest")
    check(r.get("allowed") is True, f"rendered policy exempts the release namespace {ns}")
    r = review(tagpin, text, "default", "nginx@sha256:" + "0" * 64)
    check(r.get("allowed") is True, "rendered policy admits a digest as written")


ALL_KINDS = {("", "pods"), ("", "pods/ephemeralcontainers"), ("", "replicationcontrollers"),
             ("", "podtemplates"), ("apps", "deployments"), ("apps", "replicasets"),
             ("apps", "statefulsets"), ("apps", "daemonsets"), ("batch", "jobs"),
             ("batch", "cronjobs")}


def resources(hook):
    return {(g, r) for w in hook["webhooks"] for rule in w["rules"]
            for g in rule["apiGroups"] for r in rule["resources"]}


def pem_of(b64):
    return base64.b64decode(b64).decode()


def openssl(*args, stdin=None):
    return subprocess.run(["openssl", *args], input=stdin, capture_output=True, text=True)


def self_signed(docs, rel, ns):
    mut = one(docs, "MutatingWebhookConfiguration")
    check(not kinds(docs, "ValidatingWebhookConfiguration"), "mode mutate: no validating webhook")
    check(not kinds(docs, "Certificate"), "self-signed: no cert-manager objects")
    if mut:
        check(resources(mut) == ALL_KINDS, "mutating webhook covers every workload kind")
    sec = [d for d in kinds(docs, "Secret") if d.get("type") == "kubernetes.io/tls"]
    pdb = one(docs, "PodDisruptionBudget")
    check(pdb and pdb["apiVersion"] == "policy/v1", "current API servers get policy/v1 PDBs")
    if not (check(len(sec) == 1, "self-signed: one TLS Secret") and mut):
        return
    dep = one(docs, "Deployment")
    tlsvol = [v for v in dep["spec"]["template"]["spec"]["volumes"] if v["name"] == "tls"][0]
    check(tlsvol["secret"]["secretName"] == sec[0]["metadata"]["name"],
          "Deployment mounts the generated TLS Secret")
    ca = mut["webhooks"][0]["clientConfig"].get("caBundle")
    if not check(ca, "self-signed: caBundle injected"):
        return
    check(ca == sec[0]["data"]["ca.crt"], "caBundle equals the Secret's ca.crt")
    svcname = one(docs, "Service")["metadata"]["name"]
    with tempfile.TemporaryDirectory() as d:
        caf, crtf = os.path.join(d, "ca.pem"), os.path.join(d, "crt.pem")
        with open(caf, "w") as f:
            f.write(pem_of(ca))
        with open(crtf, "w") as f:
            f.write(pem_of(sec[0]["data"]["tls.crt"]))
        v = openssl("verify", "-purpose", "sslserver", "-verify_hostname",
                    f"{svcname}.{ns}.svc", "-CAfile", caf, crtf)
        check(v.returncode == 0,
              f"serving cert verifies against caBundle for {svcname}.{ns}.svc: {v.stdout}{v.stderr}")
        key = pem_of(sec[0]["data"]["tls.key"])
        m1 = openssl("x509", "-noout", "-pubkey", "-in", crtf).stdout
        m2 = openssl("pkey", "-pubout", stdin=key).stdout
        check(m1 and m1 == m2, "tls.key belongs to tls.crt")


def cert_manager(docs, rel, ns, own_issuer=True):
    check(not [d for d in kinds(docs, "Secret") if d.get("type") == "kubernetes.io/tls"],
          "cert-manager: the chart renders no TLS Secret of its own")
    certs = {d["metadata"]["name"]: d for d in kinds(docs, "Certificate")}
    dep = one(docs, "Deployment")
    svcname = one(docs, "Service")["metadata"]["name"]
    tlsvol = [v for v in dep["spec"]["template"]["spec"]["volumes"] if v["name"] == "tls"][0]
    serving = [c for c in certs.values() if c["spec"]["secretName"] == tlsvol["secret"]["secretName"]]
    if not check(len(serving) == 1, "a Certificate writes the Secret the Deployment mounts"):
        return
    cert = serving[0]
    check(f"{svcname}.{ns}.svc" in cert["spec"]["dnsNames"], "Certificate names the Service DNS")
    check(not cert["spec"].get("isCA"), "serving certificate is not a CA")
    for h in kinds(docs, "MutatingWebhookConfiguration") + kinds(docs, "ValidatingWebhookConfiguration"):
        ann = h["metadata"].get("annotations", {})
        check(ann.get("cert-manager.io/inject-ca-from") == f"{ns}/{cert['metadata']['name']}",
              f"{h['kind']} has cert-manager.io/inject-ca-from {ns}/<serving Certificate>")
        check(all("caBundle" not in w["clientConfig"] for w in h["webhooks"]),
              f"{h['kind']}: caBundle left to the cainjector")
    issuers = {d["metadata"]["name"]: d for d in kinds(docs, "Issuer")}
    ref = cert["spec"]["issuerRef"]
    if own_issuer:
        check(ref["name"] in issuers and "ca" in issuers[ref["name"]]["spec"],
              "serving Certificate is issued by the chart's CA Issuer")
        ca_secret = issuers.get(ref["name"], {}).get("spec", {}).get("ca", {}).get("secretName")
        ca_cert = [c for c in certs.values() if c["spec"]["secretName"] == ca_secret]
        check(ca_cert and ca_cert[0]["spec"].get("isCA") is True,
              "CA Issuer's secret comes from an isCA Certificate")
    else:
        check(not issuers, "external issuer: chart creates no Issuer")
        check(ref == {"name": "corp-ca", "kind": "ClusterIssuer", "group": "cert-manager.io"},
              "Certificate uses the given issuerRef")


def old_kube(docs, rel, ns):
    """--kube-version 1.20.2, the e2e API server: only APIs it serves."""
    pdb = one(docs, "PodDisruptionBudget")
    check(pdb and pdb["apiVersion"] == "policy/v1beta1", "1.20: PDB is policy/v1beta1")
    mut = one(docs, "MutatingWebhookConfiguration")
    if mut:
        vers = {v for w in mut["webhooks"] for r in w["rules"] if "cronjobs" in r["resources"]
                for v in r["apiVersions"]}
        check("v1beta1" in vers, "1.20: CronJobs matched as batch/v1beta1")


def validate_only(docs, rel, ns):
    check(not kinds(docs, "MutatingWebhookConfiguration"), "validate-only: no mutating webhook")
    val = one(docs, "ValidatingWebhookConfiguration")
    if val:
        check(val["webhooks"][0]["clientConfig"]["service"]["path"] == "/validate",
              "validating webhook calls /validate")
        check(resources(val) == ALL_KINDS, "validating webhook covers every workload kind")


def pods_only(docs, rel, ns):
    mut = one(docs, "MutatingWebhookConfiguration")
    if mut:
        check(resources(mut) == {("", "pods"), ("", "pods/ephemeralcontainers")},
              "Pods-only: mutating webhook registered for pods only")
    cm = [d for d in kinds(docs, "ConfigMap") if "policy.yaml" in d["data"]][0]
    check(yaml.safe_load(cm["data"]["policy.yaml"])["pinning"]["scope"] == "pods",
          "Pods-only: policy pinning.scope is pods")


def observability(docs, rel, ns):
    dep = one(docs, "Deployment")
    svc = one(docs, "Service")
    pol = one(docs, "NetworkPolicy")
    sm = one(docs, "ServiceMonitor")
    if not (dep and svc and pol and sm):
        return
    podlabels = dep["spec"]["template"]["metadata"]["labels"]
    sel = pol["spec"]["podSelector"]["matchLabels"]
    check(all(podlabels.get(k) == v for k, v in sel.items()), "NetworkPolicy selects the pods")
    check(set(pol["spec"]["policyTypes"]) == {"Ingress", "Egress"}, "NetworkPolicy restricts both ways")
    inports = {p["port"] for r in pol["spec"]["ingress"] for p in r["ports"]}
    check({"https", "metrics"} <= inports, "ingress allowed to the webhook and metrics ports")
    eg = [(p["port"], p["protocol"]) for r in pol["spec"]["egress"] for p in r["ports"]]
    check((53, "UDP") in eg and (53, "TCP") in eg, "egress to DNS")
    check((443, "TCP") in eg, "egress to registries on 443")
    blocks = [t["ipBlock"] for r in pol["spec"]["egress"] for t in r.get("to", []) if "ipBlock" in t]
    check(blocks and all("169.254.169.254/32" in b.get("except", []) for b in blocks),
          "registry egress excludes the cloud metadata address")
    svclabels = svc["metadata"]["labels"]
    check(all(svclabels.get(k) == v for k, v in sm["spec"]["selector"]["matchLabels"].items()),
          "ServiceMonitor selects the Service")
    sports = {p["name"] for p in svc["spec"]["ports"]}
    check(all(e["port"] in sports for e in sm["spec"]["endpoints"]),
          "ServiceMonitor endpoint port exists on the Service")
    check(sm["spec"]["endpoints"][0]["path"] == "/metrics", "ServiceMonitor scrapes /metrics")


def extras(docs, rel, ns):
    dep = one(docs, "Deployment")
    if not dep:
        return
    pod = dep["spec"]["template"]["spec"]
    c = container(dep)
    check(c["image"] == "registry.example/tagpin:0.1.0@sha256:" + "a" * 64,
          f"digest given: image is repository:tag@digest (got {c['image']})")
    check(pod.get("priorityClassName") == "tagpin-critical", "priorityClassName passed")
    args = c["args"]
    mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
    vols = {v["name"]: v for v in pod["volumes"]}
    auth = vols.get("auth", {}).get("secret", {})
    check(auth.get("secretName") == "regcred"
          and auth.get("items") == [{"key": ".dockerconfigjson", "path": "config.json"}],
          "registry credentials Secret's .dockerconfigjson is mounted")
    check(arg_value(args, "--auth-file") == mounts.get("auth", "?") + "/config.json",
          "--auth-file points at the mounted credentials")
    check(arg_value(args, "--ca-file") == mounts.get("registry-ca", "?") + "/ca.crt",
          "--ca-file points at the mounted CA bundle")
    cas = [d for d in kinds(docs, "ConfigMap") if "ca.crt" in d.get("data", {})]
    check(cas and "BEGIN CERTIFICATE" in cas[0]["data"]["ca.crt"]
          and vols.get("registry-ca", {}).get("configMap", {}).get("name") == cas[0]["metadata"]["name"],
          "inline registry CA rendered to a ConfigMap and mounted")
    check(pod["affinity"]["podAntiAffinity"].get("requiredDuringSchedulingIgnoredDuringExecution"),
          "podAntiAffinity=hard gives a required rule")


def external_url(docs, rel, ns):
    check(not kinds(docs, "Secret"), "tls.mode=secret: no Secret rendered")
    for h in kinds(docs, "MutatingWebhookConfiguration") + kinds(docs, "ValidatingWebhookConfiguration"):
        for w in h["webhooks"]:
            cc = w["clientConfig"]
            path = "/mutate" if h["kind"].startswith("Mutating") else "/validate"
            check(cc.get("url") == "https://127.0.0.1:8443" + path and "service" not in cc,
                  f"{h['kind']} points at the given URL")
            check(cc.get("caBundle") == base64.b64encode(b"test-ca").decode(),
                  f"{h['kind']} carries tls.caBundle")
    dep = one(docs, "Deployment")
    tlsvol = [v for v in dep["spec"]["template"]["spec"]["volumes"] if v["name"] == "tls"][0]
    check(tlsvol["secret"]["secretName"] == "my-tls", "Deployment mounts tls.existingSecret")
    check(len(kinds(docs, "MutatingWebhookConfiguration")) == 1
          and len(kinds(docs, "ValidatingWebhookConfiguration")) == 1, "mode both: two configurations")


SCENARIOS = {
    "default": self_signed,
    # manifests/install.sh --print: same guarantees as the chart's self-signed TLS.
    "kubectl-install": self_signed,
    "cert-manager": cert_manager,
    "cert-manager-issuer": lambda d, r, n: cert_manager(d, r, n, own_issuer=False),
    "validate-only": validate_only,
    "kube-1.20": old_kube,
    "pods-only": pods_only,
    "observability": observability,
    "extras": extras,
    "external-url": external_url,
}


def main():
    scenario, path, rel, ns, src = sys.argv[1:6]
    with open(path) as f:
        text = f.read()
    docs = [d for d in yaml.safe_load_all(text) if d]
    common(docs, text, rel, ns, src)
    binary_accepts_policy(docs, ns)
    SCENARIOS[scenario](docs, rel, ns)
    for f in FAILS:
        print(f"FAIL [{scenario}] {f}")
    print(f"{scenario}: {len(docs)} objects, {len(FAILS)} failed assertions")
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
