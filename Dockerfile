# syntax=docker/dockerfile:1
# tagpin container image: build and unit-test in a Debian 12 builder, then copy
# the binary and exactly the shared libraries it links into an empty image.
#
# The base is a versioned tag, never `latest`, so a rebuild uses the same
# Debian point release; pin it further with --build-arg DEBIAN_IMAGE=...@sha256:.
# Build:  docker build --build-arg VERSION=0.1.0 --build-arg REVISION=$(git rev-parse HEAD) -t tagpin .
# Offline (buildah, as CI does): see tests/image/build.sh.
ARG DEBIAN_IMAGE=docker.io/library/debian:12.11-slim

FROM ${DEBIAN_IMAGE} AS build
# Optional: an apt mirror for builds that cannot reach deb.debian.org,
# e.g. --build-arg DEBIAN_MIRROR=http://mirror.example/debian
ARG DEBIAN_MIRROR=
ENV DEBIAN_FRONTEND=noninteractive
# One layer for apt so the package lists never outlive the install.
RUN set -eu; \
    if [ -n "$DEBIAN_MIRROR" ]; then \
      rm -f /etc/apt/sources.list.d/*; \
      echo "deb $DEBIAN_MIRROR bookworm main" > /etc/apt/sources.list; \
    fi; \
    apt-get update; \
    apt-get install -y --no-install-recommends gcc libc6-dev make cmake pkg-config \
      libmicrohttpd-dev libjansson-dev libcurl4-openssl-dev libyaml-dev libssl-dev \
      ca-certificates; \
    rm -rf /var/lib/apt/lists/*

COPY . /src
# Build (no -Werror: a newer compiler's new warning must not stop an image
# build; CI builds with TAGPIN_WERROR=ON), run the unit tests (a failing test
# fails the image), then stage the
# runtime tree: the binary, every library ldd names (at the path the loader
# looks for it), the CA bundle and a passwd entry for the numeric user.
RUN set -eu; \
    cmake -S /src -B /build -DTAGPIN_BENCH=OFF; \
    cmake --build /build -j"$(nproc)"; \
    ctest --test-dir /build -L unit --output-on-failure; \
    mkdir -p /rootfs/usr/local/bin /rootfs/etc/ssl/certs /rootfs/etc/tagpin /rootfs/tmp; \
    install -m 0755 -s /build/tagpin /rootfs/usr/local/bin/tagpin; \
    for lib in $(ldd /build/tagpin | grep -o '/[^ ]*'); do \
      cp -L --parents "$lib" /rootfs/; \
    done; \
    cp /etc/ssl/certs/ca-certificates.crt /rootfs/etc/ssl/certs/; \
    echo 'nonroot:x:65532:65532:tagpin:/nonexistent:/sbin/nologin' > /rootfs/etc/passwd; \
    echo 'nonroot:x:65532:' > /rootfs/etc/group; \
    echo 'hosts: files dns' > /rootfs/etc/nsswitch.conf; \
    chmod 1777 /rootfs/tmp

# The runtime has no shell and no package manager: nothing to exec into,
# nothing to patch in place. Rebuild to update.
FROM scratch
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG SOURCE=unknown
LABEL org.opencontainers.image.title="tagpin" \
      org.opencontainers.image.description="Kubernetes admission webhook that pins container images to digests" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
COPY --from=build /rootfs/ /
ENV PATH=/usr/local/bin \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
# Numeric, so kubelet's runAsNonRoot check can verify it without /etc/passwd.
USER 65532:65532
# 8443: admission HTTPS; 9090: plain-HTTP /metrics.
EXPOSE 8443 9090
ENTRYPOINT ["tagpin"]
# The same paths the Helm chart mounts (charts/tagpin/templates/deployment.yaml).
CMD ["serve", "--config", "/etc/tagpin/config/policy.yaml", "--listen", "0.0.0.0:8443", \
     "--tls-cert", "/etc/tagpin/tls/tls.crt", "--tls-key", "/etc/tagpin/tls/tls.key", \
     "--metrics-listen", "0.0.0.0:9090"]
