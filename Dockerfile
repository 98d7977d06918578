# The release image: `docker build -t appform .` (the release workflow builds
# and pushes it for linux/amd64 and linux/arm64). Multi-stage: the build
# stage has the Rust toolchain; the image has the binary, CA certificates,
# git (`plan --baseline` reads the configuration at a commit with it, and the
# Kubernetes drift recipe clones the configuration with it) and /bin/sh, and
# runs as a non-root user.
# .ci/run lints this file with hadolint; it builds packaging/Containerfile.ci
# instead, because its machines reach no image registry to pull these bases.
FROM rust:1.89-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin appform \
    && strip target/release/appform

FROM debian:bookworm-slim
# ca-certificates and git follow the base image's Debian release: pinning one
# revision would break the build at every Debian point release.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates git \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --uid 65532 --user-group --home-dir /work --create-home --shell /usr/sbin/nologin appform
COPY --from=build /src/target/release/appform /usr/local/bin/appform
USER 65532:65532
WORKDIR /work
ENTRYPOINT ["/usr/local/bin/appform"]
CMD ["--help"]
