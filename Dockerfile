# syntax=docker/dockerfile:1
#
# qun as a container image: a static binary on a distroless base, running
# as a non-root user (65532), its data in the volume /data.
#
#   docker build -t qun .
#   docker run -d --name qun -p 8080:8080 -v qun-data:/data --stop-timeout 35 qun
#
# The Admin API listens on 127.0.0.1:18080 inside the container, reachable
# only from the container itself: use it with docker exec (see the README,
# "Docker"). Build arguments: GO_VERSION (the go.mod toolchain), VERSION
# (overrides the version go build stamps, e.g. v1.2.0).

ARG GO_VERSION=1.26.8

FROM golang:${GO_VERSION} AS build
# The SQLite driver is pure Go: without cgo the binary is static and needs
# no libc in the runtime image.
ENV CGO_ENABLED=0
WORKDIR /src
# The modules first, so that a change to the code reuses them.
COPY go.mod go.sum ./
RUN go mod download
# .git comes along (see .dockerignore) so that go build stamps the commit,
# which qun version prints.
COPY . .
ARG VERSION=
# -trimpath: no build paths in the binary; -s -w: no symbol tables (the
# build info qun version reads is kept).
RUN go build -trimpath -ldflags="-s -w -X main.Version=${VERSION}" -o /out/qun ./cmd/qun \
 && /out/qun version
# The licence of qun, of Go (its runtime and standard library are linked
# in) and of every module linked into the binary: their BSD, MIT and ISC
# terms ask that a binary carry their notices.
RUN set -eu; \
    mkdir -p /out/licenses; mkdir -m 0700 /out/data; \
    cp LICENSE /out/licenses/qun.LICENSE; \
    cp "$(go env GOROOT)/LICENSE" /out/licenses/go.LICENSE; \
    go list -deps -f '{{with .Module}}{{if not .Main}}{{.Path}}@{{.Version}} {{.Dir}}{{end}}{{end}}' ./cmd/qun | sort -u | \
    while read -r mod dir; do \
      mkdir -p "/out/licenses/$mod"; \
      found=; \
      for f in "$dir"/LICENSE* "$dir"/COPYING* "$dir"/NOTICE*; do \
        if [ -f "$f" ]; then cp "$f" "/out/licenses/$mod/"; found=1; fi; \
      done; \
      if [ -z "$found" ]; then echo "no licence file in $mod" >&2; exit 1; fi; \
    done

FROM gcr.io/distroless/static-debian13:nonroot
COPY --from=build /out/qun /usr/local/bin/qun
COPY --from=build /out/licenses /usr/share/doc/qun
# Owned by the runtime user and private to it (mode 0700, kept by COPY), so
# that a new named volume mounted here is too: the database holds secrets.
COPY --from=build --chown=65532:65532 /out/data /data
ENV QUN_DATA=/data \
    QUN_ADDR=0.0.0.0:8080
USER 65532:65532
VOLUME /data
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/qun"]
CMD ["serve"]
