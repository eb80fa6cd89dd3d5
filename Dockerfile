# syntax=docker/dockerfile:1.28@sha256:bb22d9815c728170f72750f4e5b0d672e06176142e1d602c7e66c050100b7e5b
# check=error=true;experimental=all

# litepaste in one small non-root image: the paste server, litestream streaming its
# SQLite file to S3, and s6-overlay v3 as PID 1 supervising both.
#   docker buildx build --platform linux/amd64,linux/arm64 -t litepaste .
# test/dockerfile lints this file with the rules of the frontend pinned above and
# checks that it agrees with etc/, litestream.yml and the server.

# The ADD --checksum values below are those of the v3.2.3.2 assets: a new version
# needs new checksums with it.
# S6_OVERLAY_VERSION is the s6-overlay release whose tarballs are installed.
ARG S6_OVERLAY_VERSION=3.2.3.2
ARG TARGETARCH

# litestream is built from tools/litestream/go.mod, where its version is pinned.
FROM --platform=$BUILDPLATFORM golang:1.26.8-bookworm@sha256:a688600ca24f8a4d3ca77f95b0dd40704a9fc787c826660eb7ba0b641b8b175d AS litestream
# Pure Go: cross-compiled on the build machine rather than under emulation.
WORKDIR /src/tools/litestream
COPY tools/litestream/go.mod tools/litestream/go.sum ./
RUN go mod download
ARG TARGETOS TARGETARCH
RUN --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags='-s -w' -o /out/litestream github.com/benbjohnson/litestream/cmd/litestream

# server is the paste server, linked statically so that it runs on any base.
FROM golang:1.26.8-bookworm@sha256:a688600ca24f8a4d3ca77f95b0dd40704a9fc787c826660eb7ba0b641b8b175d AS server
# SQLite comes through cgo, so this stage runs on the target platform. osusergo
# and netgo keep glibc's NSS, which cannot be linked statically, out of the binary;
# the server never loads SQLite extensions.
WORKDIR /src
COPY go.mod go.sum ./
# Only the tests use it, but the module graph reads its go.mod.
COPY test/kit/go.mod ./test/kit/
RUN go mod download
COPY app/ ./app/
RUN --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=1 go build -trimpath \
      -tags 'osusergo netgo sqlite_omit_load_extension' \
      -ldflags '-s -w -extldflags -static' \
      -o /out/litepaste ./app

FROM scratch AS s6-noarch
ARG S6_OVERLAY_VERSION
ADD --checksum=sha256:5379750ed30a84bbd2e2dd74847ba6b5bd29cd0b2e3ea2ec58049b57eb2eda12 \
    https://github.com/just-containers/s6-overlay/releases/download/v${S6_OVERLAY_VERSION}/s6-overlay-noarch.tar.xz \
    /s6-overlay-noarch.tar.xz

FROM scratch AS s6-amd64
ARG S6_OVERLAY_VERSION
ADD --checksum=sha256:e6befcc96a437a3831386ecfc51808c5d3e939dc5fe3c02ae9284599e8aa2408 \
    https://github.com/just-containers/s6-overlay/releases/download/v${S6_OVERLAY_VERSION}/s6-overlay-x86_64.tar.xz \
    /s6-overlay-arch.tar.xz

FROM scratch AS s6-arm64
ARG S6_OVERLAY_VERSION
ADD --checksum=sha256:b17f17a82e7a515c682a91edaf2ffdabb73f891981b6c1fd712115693a2f8b4c \
    https://github.com/just-containers/s6-overlay/releases/download/v${S6_OVERLAY_VERSION}/s6-overlay-aarch64.tar.xz \
    /s6-overlay-arch.tar.xz

# BuildKit builds only the stages the image depends on, so only one of the two
# architecture tarballs above is fetched.
# s6-arch is the tarball for the target architecture.
FROM s6-${TARGETARCH} AS s6-arch

# s6 unpacks both tarballs in a stage of its own, so xz never reaches the image.
FROM --platform=$BUILDPLATFORM alpine:3.24.2@sha256:294b683cb724975bec92580e1e685676bd4b50bda910ddb8c51d4cabeaec77e6 AS s6
RUN apk add --no-cache xz
RUN --mount=type=bind,from=s6-noarch,target=/mnt/noarch \
    --mount=type=bind,from=s6-arch,target=/mnt/arch \
    mkdir /rootfs \
    && xz -dc /mnt/noarch/s6-overlay-noarch.tar.xz | tar -C /rootfs -xpf - \
    && xz -dc /mnt/arch/s6-overlay-arch.tar.xz | tar -C /rootfs -xpf -

# Alpine gives the with-contenv scripts in etc/ their /bin/sh and the health check
# its wget (busybox). Both binaries are static, so the libc here does not matter.
FROM alpine:3.24.2@sha256:294b683cb724975bec92580e1e685676bd4b50bda910ddb8c51d4cabeaec77e6
RUN addgroup -S -g 10001 litepaste \
    && adduser -S -D -H -u 10001 -G litepaste -h /data -s /sbin/nologin litepaste \
    && install -d -o litepaste -g litepaste -m 0750 /data
COPY --from=s6 /rootfs/ /
COPY --from=litestream /out/litestream /usr/local/bin/litestream
COPY --from=server /out/litepaste /usr/local/bin/litepaste
COPY litestream.yml /etc/litestream.yml
COPY etc/cont-init.d/ /etc/cont-init.d/
COPY etc/services.d/ /etc/services.d/
COPY etc/s6-overlay/ /etc/s6-overlay/

# S6_BEHAVIOUR_IF_STAGE2_FAILS=2: a failed restore stops the container before any
# service starts, so the server never serves (and litestream never uploads) an
# empty database in place of the replica. The grace times are those the system
# tests run with (test/system): the server gets 4 s to finish its requests, then
# litestream (an s6-rc longrun, stopped after it) makes its final upload, all
# inside docker stop's 10 s.
ENV PATH=/command:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    DB_PATH=/data/litepaste.db \
    PORT=3001 \
    S6_BEHAVIOUR_IF_STAGE2_FAILS=2 \
    S6_SERVICES_GRACETIME=4000 \
    S6_KILL_GRACETIME=500

VOLUME /data
EXPOSE 3001
USER litepaste:litepaste

# /readyz answers 200 only while the database is readable and writable (on a read
# replica: once its copy is restored and readable).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --start-interval=2s --retries=3 \
    CMD wget -q -O /dev/null "http://127.0.0.1:${PORT}/readyz" || exit 1

# Flags after the image name (LogPaste's `docker run IMAGE -title ... -perminutelimit 5`)
# are checked by litepaste, which then execs s6-overlay's /init in its place, so /init
# is PID 1 (no shell in front of it, no --init) and each flag reaches the restore step
# and every service as the variable it stands for. An unknown flag stops the container
# with the usage text before anything has run. s6-overlay's own CMD would start only
# after the services, as the container's one program.
ENTRYPOINT ["/usr/local/bin/litepaste", "-exec", "/init"]
