# shellcheck shell=bash
# A throwaway Kubernetes v1.20.2 control plane on 127.0.0.1 for end-to-end
# tests: etcd, kube-apiserver and kube-controller-manager. No kubelet, so Pods
# are stored but never run; controllers still create ReplicaSets and Pods.
#
#   source tests/e2e/kube.sh
#   trap kube_down EXIT
#   kube_up "$workdir"        # builds or reuses the cached binaries
#   kubectl get ns            # Debian's kubectl 1.20.2 is first in PATH
#
# After kube_up:
#   KUBECONFIG       $DIR/kubeconfig (admin, system:masters), exported
#   KUBECTL          Debian's kubectl 1.20.2 (also first in PATH)
#   KUBE_API_URL     https://127.0.0.1:<port>
#   KUBE_PKI         $DIR/pki: ca.crt/ca.key sign every certificate here
#   KUBE_AUDIT_LOG   JSON lines at Metadata level (auditAnnotations included)
#   KUBE_DIR         $DIR; logs are $DIR/{etcd,kube-apiserver,kube-controller-manager}.log
# kube_cert_issue NAME SAN [ORG] issues $KUBE_PKI/NAME.{crt,key} (RSA 2048,
# SHA-256, SAN e.g. "IP:127.0.0.1") for a webhook's serving certificate.
# kube_down stops everything; it is idempotent and safe in an EXIT trap.
#
# Timeouts: KUBE_UP_TIMEOUT (s, default 90) bounds each wait in kube_up.

KUBE_E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
KUBE_PIDS=()
KUBE_UP_TIMEOUT=${KUBE_UP_TIMEOUT:-90}
KUBE_ADMISSION=NamespaceLifecycle,LimitRanger,ServiceAccount,DefaultTolerationSeconds
KUBE_ADMISSION+=,MutatingAdmissionWebhook,ValidatingAdmissionWebhook,ResourceQuota
KUBE_CONTROLLERS=deployment,replicaset,job,cronjob,statefulset,daemonset
KUBE_CONTROLLERS+=,serviceaccount,serviceaccount-token,namespace,garbagecollector

kube__log() { printf 'kube: %s\n' "$*" >&2; }

# A loopback port that was free a moment ago. Callers retry on a lost race.
kube_free_port() {
  PYENV_VERSION=system python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

kube__ca_init() {
  local pki=$1
  mkdir -p "$pki"
  openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 30 \
    -keyout "$pki/ca.key" -out "$pki/ca.crt" -subj "/CN=tagpin-e2e-ca" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}

# kube_cert_issue NAME SAN [ORG]: leaf certificate for serving and client use.
kube_cert_issue() {
  local name=$1 san=$2 org=${3:-} pki=${KUBE_PKI:?kube_up first} subj ext
  subj="/CN=$name"
  [[ -n $org ]] && subj="/O=$org/CN=$name"
  ext=$(mktemp)
  printf '%s\n' "subjectAltName=$san" "basicConstraints=CA:FALSE" \
    "keyUsage=critical,digitalSignature,keyEncipherment" \
    "extendedKeyUsage=serverAuth,clientAuth" > "$ext"
  openssl req -new -newkey rsa:2048 -nodes -sha256 -subj "$subj" \
    -keyout "$pki/$name.key" -out "$pki/$name.csr" 2>/dev/null &&
  openssl x509 -req -sha256 -days 30 -in "$pki/$name.csr" -CA "$pki/ca.crt" \
    -CAkey "$pki/ca.key" -set_serial "0x$(openssl rand -hex 12)" \
    -extfile "$ext" -out "$pki/$name.crt" 2>/dev/null
  local rc=$?
  rm -f "$ext" "$pki/$name.csr"
  return $rc
}

# kubeconfig FILE USER: client certificate $KUBE_PKI/USER.{crt,key}.
kube__kubeconfig_write() {
  local file=$1 user=$2
  cat > "$file" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: e2e
  cluster:
    server: $KUBE_API_URL
    certificate-authority: $KUBE_PKI/ca.crt
users:
- name: $user
  user:
    client-certificate: $KUBE_PKI/$user.crt
    client-key: $KUBE_PKI/$user.key
contexts:
- name: e2e
  context: {cluster: e2e, user: $user}
current-context: e2e
EOF
}

# Start a logged background process. --pdeathsig: if the test shell is
# killed outright (ctest timeout), the kernel still stops its servers.
kube__spawn() {
  local name=$1
  shift
  setpriv --pdeathsig TERM -- "$@" > "$KUBE_DIR/$name.log" 2>&1 &
  KUBE_PIDS+=("$!")
  echo "$!" > "$KUBE_DIR/$name.pid"
}

# Wait until CMD succeeds, failing early when a started process dies.
kube__wait() {
  local what=$1 deadline=$((SECONDS + KUBE_UP_TIMEOUT)) pid
  shift
  while ! "$@" > /dev/null 2>&1; do
    for pid in "${KUBE_PIDS[@]}"; do
      kill -0 "$pid" 2>/dev/null || { kube__log "a process died waiting for $what"; return 1; }
    done
    ((SECONDS < deadline)) || { kube__log "timed out waiting for $what"; return 1; }
    sleep 0.5
  done
}

kube__etcd_start() {
  local client peer
  client=$(kube_free_port) && peer=$(kube_free_port) || return 1
  KUBE_ETCD_URL=http://127.0.0.1:$client
  kube__spawn etcd etcd --name e2e --data-dir "$KUBE_DIR/etcd" \
    --listen-client-urls "$KUBE_ETCD_URL" --advertise-client-urls "$KUBE_ETCD_URL" \
    --listen-peer-urls "http://127.0.0.1:$peer" \
    --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
    --initial-cluster "e2e=http://127.0.0.1:$peer" --initial-cluster-state new
  kube__wait etcd curl -fsS "$KUBE_ETCD_URL/health"
}

kube__apiserver_start() {
  local port pki=$KUBE_PKI
  port=$(kube_free_port) || return 1
  KUBE_API_URL=https://127.0.0.1:$port
  cat > "$KUBE_DIR/audit-policy.yaml" <<'EOF'
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: Metadata
EOF
  kube__spawn kube-apiserver "$KUBE_BIN/kube-apiserver" \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$port" \
    --insecure-port=0 --etcd-servers="$KUBE_ETCD_URL" \
    --tls-cert-file="$pki/apiserver.crt" --tls-private-key-file="$pki/apiserver.key" \
    --client-ca-file="$pki/ca.crt" --authorization-mode=Node,RBAC \
    --enable-admission-plugins="$KUBE_ADMISSION" \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$pki/sa.key" \
    --service-account-signing-key-file="$pki/sa.key" \
    --service-cluster-ip-range=10.0.0.0/24 --endpoint-reconciler-type=none \
    --audit-log-path="$KUBE_AUDIT_LOG" --audit-policy-file="$KUBE_DIR/audit-policy.yaml" \
    --audit-log-mode=blocking --profiling=false --v=1
  kube__wait kube-apiserver curl -fsS --cacert "$pki/ca.crt" --cert "$pki/admin.crt" \
    --key "$pki/admin.key" "$KUBE_API_URL/readyz"
}

kube__controller_manager_start() {
  local pki=$KUBE_PKI cfg=$KUBE_DIR/kube-controller-manager.kubeconfig
  kube__kubeconfig_write "$cfg" system:kube-controller-manager
  kube__spawn kube-controller-manager "$KUBE_BIN/kube-controller-manager" \
    --kubeconfig="$cfg" --port=0 --secure-port=0 --leader-elect=false \
    --controllers="$KUBE_CONTROLLERS" \
    --service-account-private-key-file="$pki/sa.key" --root-ca-file="$pki/ca.crt" \
    --use-service-account-credentials=false --profiling=false --v=1
  # Pods are admitted only once a namespace has its "default" ServiceAccount.
  kube__wait "ServiceAccount default/default" \
    "$KUBECTL" --request-timeout=5s -n default get serviceaccount default
}

kube__pki_init() {
  local pki=$KUBE_PKI san="IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes"
  san+=",DNS:kubernetes.default,DNS:kubernetes.default.svc"
  kube__ca_init "$pki" &&
  kube_cert_issue apiserver "$san" &&
  kube_cert_issue admin "DNS:admin" system:masters &&
  # system:masters: with --use-service-account-credentials=false one identity
  # runs every controller, and RBAC's controller-manager role is too narrow.
  kube_cert_issue system:kube-controller-manager "DNS:kube-controller-manager" system:masters &&
  openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null
}

kube__up_once() {
  kube__etcd_start || return 1
  kube__apiserver_start || return 1
  kube__kubeconfig_write "$KUBE_DIR/kubeconfig" admin
  export KUBECONFIG=$KUBE_DIR/kubeconfig
  kube__controller_manager_start
}

# kube_up DIR: start the control plane with its state, logs and certificates in DIR.
kube_up() {
  local dir=${1:?kube_up DIR} attempt
  mkdir -p "$dir" && KUBE_DIR=$(cd "$dir" && pwd) || return 1
  KUBE_BIN=$(bash "$KUBE_E2E_DIR/kube-build.sh") || { kube__log "build failed"; return 1; }
  KUBECTL=$KUBE_BIN/kubectl
  KUBE_PKI=$KUBE_DIR/pki
  KUBE_AUDIT_LOG=$KUBE_DIR/audit.log
  export KUBECTL KUBE_API_URL KUBE_PKI KUBE_AUDIT_LOG KUBE_DIR
  case ":$PATH:" in *":$KUBE_BIN:"*) ;; *) export PATH=$KUBE_BIN:$PATH ;; esac
  kube__pki_init || { kube__log "certificate generation failed"; return 1; }
  # A free port can be taken between probe and bind: retry from scratch.
  for attempt in 1 2 3; do
    if kube__up_once; then
      kube__log "up at $KUBE_API_URL (KUBECONFIG=$KUBECONFIG)"
      return 0
    fi
    kube__log "attempt $attempt failed; log tails follow"
    kube__logs_tail >&2
    kube_down
    rm -rf "$KUBE_DIR/etcd"
  done
  return 1
}

kube__logs_tail() {
  local f
  for f in etcd kube-apiserver kube-controller-manager; do
    [[ -f $KUBE_DIR/$f.log ]] || continue
    echo "--- $f.log (last 15 lines)"
    tail -n 15 "$KUBE_DIR/$f.log"
  done
}

# kube_down: stop in reverse start order; TERM, then KILL after 10 s.
kube_down() {
  local i pid n
  for ((i = ${#KUBE_PIDS[@]} - 1; i >= 0; i--)); do
    pid=${KUBE_PIDS[i]}
    kill -TERM "$pid" 2>/dev/null || continue
    for ((n = 0; n < 100; n++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  KUBE_PIDS=()
  return 0
}
