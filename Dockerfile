# syntax=docker/dockerfile:1
# The sspr-service image for users and releases: the production build (no demo) on distroless
# `cc`, which holds glibc, libgcc_s, CA certificates and the `nonroot` user (65532) and nothing
# else, not even a shell. It runs as 65532 with a read-only root file system: the only places it
# writes are the store (the volume at /var/lib/sspr) and /tmp.
#
#   docker build -t sspr-service .
#   docker run --read-only --tmpfs /tmp -v sspr-data:/var/lib/sspr \
#     -v ./sspr.toml:/etc/sspr/sspr.toml:ro -e SSPR_CONFIG=/etc/sspr/sspr.toml \
#     -p 8080:8080 sspr-service
#
# CI cannot pull base images, so `.ci/image` assembles the same image from scratch with buildah
# and runs it; keep the two in step (user, entrypoint, environment, ports, volume).

ARG RUST_VERSION=1.95

FROM rust:${RUST_VERSION}-bookworm AS builder
WORKDIR /src
COPY . .
# The cache mounts keep the registry and the build between builds; the binary is copied out of
# the target cache in the same step, since cache mounts are not part of the image.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git \
    --mount=type=cache,target=/src/target \
    CARGO_INCREMENTAL=0 cargo build --release --locked -p sspr-service --no-default-features \
    && install -D -m 0755 target/release/sspr-service /out/sspr-service \
    && install -d -m 0700 /out/store

FROM gcr.io/distroless/cc-debian12:nonroot
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="sspr-service" \
      org.opencontainers.image.description="Entra ID self-service password reset management service" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.source="https://example.invalid/sspr" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
COPY --from=builder /out/sspr-service /usr/local/bin/sspr-service
# The store's directory belongs to the service's user (0700), so a fresh Docker volume mounted
# there, which starts as a copy of it, is writable without an init step.
COPY --from=builder --chown=65532:65532 /out/store /var/lib/sspr
ENV SSPR_STORE__PATH=/var/lib/sspr/sspr.db
VOLUME ["/var/lib/sspr"]
USER 65532:65532
# 8080: the REST API (`listen = "0.0.0.0:8080"` in the configuration); 9090: `/metrics` when
# `[metrics] listen = "0.0.0.0:9090"` is set.
EXPOSE 8080 9090
ENTRYPOINT ["/usr/local/bin/sspr-service"]
CMD ["serve"]
